// The least a Node proxy does: node:http server + one undici Pool of keep-alive
// connections to the node, the body streamed straight into the client's
// response (Pool.stream), hop-by-hop headers dropped. No fastify, no auth, no
// identity, no error mapping beyond a bare 502. It tells what Node itself can
// reach on this machine, so the gateway can be measured against it (issue 12).
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'
import { announceReady, exitOnSignal, readConfig } from './ready.ts'

const options = readConfig<{ upstream: string }>()
// nginx's upstream is `keepalive 64` without pipelining: the same here.
const pool = new Pool(options.upstream, { connections: 64, pipelining: 1, keepAliveTimeout: 30_000 })
const host = new URL(options.upstream).host

const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect', 'host'])

function forwardHeaders(incoming: IncomingHttpHeaders): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = { host }
  for (const name in incoming) if (!HOP_BY_HOP.has(name)) headers[name] = incoming[name]
  return headers
}

function responseHeaders(incoming: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {}
  for (const name in incoming) if (!HOP_BY_HOP.has(name)) headers[name] = incoming[name]
  return headers
}

const server = http.createServer({ keepAliveTimeout: 72_000 }, (request, response) => {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
  pool.stream(
    { path: request.url ?? '/', method: request.method as 'GET', headers: forwardHeaders(request.headers), body: hasBody ? request : null },
    ({ statusCode, headers }) => {
      response.writeHead(statusCode, responseHeaders(headers))
      return response
    },
    (error) => {
      if (error === null) return
      if (!response.headersSent) response.writeHead(502).end()
      else response.destroy()
    },
  )
})
server.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
exitOnSignal(async () => {
  server.close()
  server.closeIdleConnections()
  await pool.close()
})
announceReady({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
