import net from 'node:net'

export interface TcpProxy {
  readonly port: number
  /** Drops every open connection and refuses new ones, as a dead server would. */
  cut(): void
  restore(): void
  close(): Promise<void>
}

/** A cuttable TCP proxy on 127.0.0.1, so a test can make a shared service "fail" without stopping it. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>()
  let isCut = false
  const server = net.createServer((client) => {
    if (isCut) {
      client.destroy()
      return
    }
    const upstream = net.connect(targetPort, targetHost)
    sockets.add(client).add(upstream)
    const forget = (): void => {
      sockets.delete(client)
      sockets.delete(upstream)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', forget).on('close', forget)
    upstream.on('error', forget).on('close', forget)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const cut = (): void => {
    isCut = true
    for (const socket of sockets) socket.destroy()
    sockets.clear()
  }
  return {
    port,
    cut,
    restore() {
      isCut = false
    },
    async close() {
      cut()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
