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
  /**
   * The next request whose bytes contain `marker` (on a connection that sent `after` earlier or in the same
   * request, when given) reaches the server whole, and then the connection is gone: the server runs it, its
   * answer is lost (a COMMIT that happened though the client never learns it).
   */
  loseAnswerTo(marker: string, after?: string): void
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
  let lostAnswer: { readonly marker: Buffer; readonly after: Buffer | undefined } | undefined
  const server = net.createServer((client) => {
    if (isCut) {
      client.destroy()
      return
    }
    const upstream = net.connect(targetPort, targetHost)
    const link: Link = { client, upstream, remaining: budget?.() }
    links.add(link)
    let answerLost = false
    let sentAfter = false
    const forget = (): void => {
      links.delete(link)
      client.destroy()
      // A request whose answer is lost goes on to the server: the upstream closes once the server has read it.
      if (!answerLost) upstream.destroy()
    }
    client.on('error', forget).on('close', forget)
    upstream.on('error', forget).on('close', forget)
    client.on('data', (chunk: Buffer) => {
      if (lostAnswer?.after !== undefined && chunk.includes(lostAnswer.after)) sentAfter = true
      if (lostAnswer !== undefined && (lostAnswer.after === undefined || sentAfter) && chunk.includes(lostAnswer.marker)) {
        lostAnswer = undefined
        answerLost = true
        links.delete(link)
        client.destroy()
        // After the request: the server reads all of it before it sees the connection end.
        upstream.end(chunk)
        return
      }
      if (!upstream.write(chunk)) client.pause()
    })
    upstream.on('drain', () => client.resume())
    upstream.on('data', (chunk: Buffer) => {
      if (client.destroyed) return
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
    loseAnswerTo(marker, after) {
      lostAnswer = { marker: Buffer.from(marker), after: after === undefined ? undefined : Buffer.from(after) }
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
