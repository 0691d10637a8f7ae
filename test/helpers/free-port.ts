import net from 'node:net'

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A port nothing listens on right now (for servers that cannot be told to bind port 0). */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A free port whose companion `port + offset` is free too (a Redis Cluster node's bus port is port + 10000). */
export async function freePortPair(offset: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * (65_535 - offset - 20_000))
    if ((await canListen(port)) && (await canListen(port + offset))) return port
  }
  throw new Error('no free port pair found')
}
