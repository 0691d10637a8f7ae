import { spawn } from 'node:child_process'
import http from 'node:http'
import https from 'node:https'
import net, { type AddressInfo } from 'node:net'
import type { Teardown } from './system.ts'

/** One request as the stand-in received it, before anything answered it. */
export interface RecordedRequest {
  readonly method: string
  /** The request target exactly as sent on the wire. */
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  /** Name/value pairs in wire order: shows a header sent twice, which `headers` would join. */
  readonly rawHeaders: readonly string[]
  readonly body: Buffer
}

export type StandInResponder = (request: RecordedRequest, response: http.ServerResponse) => void

export interface StandInUpstream {
  /** Base URL for a region catalog (`http://127.0.0.1:port`, or `https://localhost:port` with `tls`). */
  readonly url: string
  readonly port: number
  readonly requests: RecordedRequest[]
  /** TCP connections accepted so far (with TLS: before any handshake). */
  readonly connections: number
  /** TLS handshakes that failed on the server side (a client that refused the certificate). */
  readonly tlsFailures: number
  /** Replaces how the next requests are answered. */
  respond: StandInResponder
  close(): Promise<void>
}

export const SCIM_LIST_BODY = JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, Resources: [] })

/** Answers every request with `status` and a small SCIM-looking JSON body. */
export function answerWith(status: number, headers: Record<string, string> = {}, body: string = SCIM_LIST_BODY): StandInResponder {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/scim+json', ...headers })
    response.end(body)
  }
}

/** Reads the request and never answers (the socket stays open until the stand-in closes). */
export const neverAnswer: StandInResponder = () => undefined

/** Answers like `then`, after `delayMs`. */
export function answerAfter(delayMs: number, then: StandInResponder = answerWith(200)): StandInResponder {
  return (request, response) => {
    const timer = setTimeout(() => then(request, response), delayMs)
    response.on('close', () => clearTimeout(timer))
  }
}

/** Writes `bytes` straight to the socket (bypassing HTTP framing) and closes it. */
export function writeRawAndClose(bytes: string): StandInResponder {
  return (_request, response) => {
    response.socket?.end(bytes)
  }
}

/** Where the gateway delivers token events to a region node (gateway/tokens/token-event-relay.ts). */
const TOKEN_EVENTS_PATH = '/admin/v1/internal/events'

/**
 * A small HTTP(S) server standing in for a region node: records every request
 * (method, raw target, headers, body) and answers as `respond` says. The
 * gateway's background deliveries of token events are acknowledged as a node
 * would and not recorded: the tests count what the proxy sends.
 */
export async function startStandInUpstream(t: Teardown, options: { respond?: StandInResponder; tls?: { key: string; cert: string } } = {}): Promise<StandInUpstream> {
  const requests: RecordedRequest[] = []
  let connections = 0
  let tlsFailures = 0
  const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        rawHeaders: request.rawHeaders,
        body: Buffer.concat(chunks),
      }
      if (request.method === 'POST' && request.url === TOKEN_EVENTS_PATH) {
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(JSON.stringify({ received: 0, stored: 0 }))
        return
      }
      requests.push(recorded)
      upstream.respond(recorded, response)
    })
  }
  const server = options.tls === undefined ? http.createServer(handler) : https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler)
  server.on('connection', () => {
    connections++
  })
  server.on('tlsClientError', () => {
    tlsFailures++
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const upstream: StandInUpstream = {
    url: options.tls === undefined ? `http://127.0.0.1:${port}` : `https://localhost:${port}`,
    port,
    requests,
    get connections() {
      return connections
    },
    get tlsFailures() {
      return tlsFailures
    },
    respond: options.respond ?? answerWith(200),
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  t.teardown(() => upstream.close())
  return upstream
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * A port whose listener never accepts and whose accept queue is full, so a new
 * connection hangs in the TCP handshake until the client's connect timeout
 * fires. The listener lives in a child process that is stopped (SIGSTOP).
 */
export async function hangingConnectPort(t: Teardown): Promise<number> {
  const listener = `const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => process.stdout.write(s.address().port + '\\n'))`
  const child = spawn(process.execPath, ['-e', listener], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim())))
    child.once('error', reject)
  })
  child.kill('SIGSTOP')
  // Fill the accept queue (backlog 1 holds two connections on Linux; Node turns a backlog of 0
  // into 511); the kernel then drops further handshakes.
  const fillers: net.Socket[] = []
  t.teardown(() => {
    for (const socket of fillers) socket.destroy()
  })
  for (let i = 0; i < 4; i++) {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => undefined)
    fillers.push(socket)
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
  if (!fillers.some((socket) => socket.connecting)) throw new Error('could not fill the accept queue: connections to the stopped listener still succeed')
  return port
}
