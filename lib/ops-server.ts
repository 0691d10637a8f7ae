// The operations listener of a process, apart from the public port:
// GET /metrics (Prometheus text), /livez (the process answers) and /readyz
// (its dependencies answer and it is not shutting down). A plain node:http
// server: nothing here is SCIM, and probes must not compete with fastify's
// request handling or show up in traces.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import type { OpsListen } from '../config/process-settings.ts'

export interface OpsServerOptions extends OpsListen {
  readonly registry: Registry
  /** Resolves undefined when the process's dependencies answer, else the name of what is missing (`redis`, `database`). */
  readonly readiness: () => Promise<string | undefined>
}

export interface OpsServer {
  readonly url: string
  /** From now on /readyz answers 503 `shutting down`, so a load balancer stops sending work while the process drains. */
  beginDraining(): void
  close(): Promise<void>
}

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' }

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { registry, readiness } = options
  let draining = false
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?', 1)[0]
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...JSON_HEADERS, allow: 'GET, HEAD' }).end('{"status":"method not allowed"}')
      return
    }
    const answer = async (): Promise<void> => {
      if (path === '/metrics') {
        const text = await registry.metrics()
        response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text)
      } else if (path === '/livez') {
        response.writeHead(200, JSON_HEADERS).end('{"status":"ok"}')
      } else if (path === '/readyz') {
        const missing = draining ? 'shutting down' : await readiness().catch(() => 'unknown')
        if (missing === undefined) response.writeHead(200, JSON_HEADERS).end('{"status":"ok"}')
        else response.writeHead(503, { ...JSON_HEADERS, 'retry-after': '2' }).end(JSON.stringify({ status: 'unavailable', reason: missing }))
      } else {
        response.writeHead(404, JSON_HEADERS).end('{"status":"not found"}')
      }
    }
    answer().catch(() => {
      if (!response.headersSent) response.writeHead(500, JSON_HEADERS)
      response.end()
    })
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    beginDraining() {
      draining = true
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
