import net from 'node:net'

export interface TcpProxy {
  readonly port: number
  /** Drops every open connection and refuses new ones, as a dead server would. */
  cut(): void
  restore(): void
  /**
   * From now on each connection, open or new, is dropped once the server has sent it `budget()` more bytes:
   * the client gets part of an answer (or of the login), then the connection is gone. Undefined turns it off.
   */
  dropMidAnswer(budget: (() => number) | undefined): void
  /** Connections dropped by dropMidAnswer so far. */
  readonly dropped: number
  close(): Promise<void>
}

interface Link {
  readonly client: net.Socket
  readonly upstream: net.Socket
  /** Bytes of the server's that may still pass before the connection is dropped; undefined: no limit. */
  remaining: number | undefined
}

/** A cuttable TCP proxy on 127.0.0.1, so a test can make a shared service "fail" without stopping it. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const links = new Set<Link>()
  let isCut = false
  let budget: (() => number) | undefined
  let dropped = 0
  const server = net.createServer((client) => {
    if (isCut) {
      client.destroy()
      return
    }
    const upstream = net.connect(targetPort, targetHost)
    const link: Link = { client, upstream, remaining: budget?.() }
    links.add(link)
    const forget = (): void => {
      links.delete(link)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', forget).on('close', forget)
    upstream.on('error', forget).on('close', forget)
    client.pipe(upstream)
    upstream.on('data', (chunk: Buffer) => {
      if (link.remaining === undefined || chunk.length < link.remaining) {
        if (link.remaining !== undefined) link.remaining -= chunk.length
        if (!client.write(chunk)) upstream.pause()
        return
      }
      // The part of the answer that fits, then the connection is gone.
      links.delete(link)
      dropped++
      upstream.destroy()
      client.end(chunk.subarray(0, link.remaining))
      client.destroySoon()
    })
    client.on('drain', () => upstream.resume())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const cut = (): void => {
    isCut = true
    for (const { client, upstream } of links) {
      client.destroy()
      upstream.destroy()
    }
    links.clear()
  }
  return {
    port,
    get dropped() {
      return dropped
    },
    cut,
    restore() {
      isCut = false
    },
    dropMidAnswer(next) {
      budget = next
      for (const link of links) link.remaining = next?.()
    },
    async close() {
      cut()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
