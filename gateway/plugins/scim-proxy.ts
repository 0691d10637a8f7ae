import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import type { UpstreamTimeouts } from '../../config/gateway-config.ts'
import { CLIENT_KIND_HEADER } from '../../lib/client-kind.ts'
import { IDENTITY_HEADER } from '../../lib/internal-identity.ts'
import { sendScimError } from '../../lib/scim-reply.ts'
import { pickUpstream } from '../routing/pick-upstream.ts'

export type UpstreamErrorKind = 'unavailable' | 'timeout' | 'bad-gateway'

export interface ScimProxyOptions {
  readonly timeouts: UpstreamTimeouts
  /** CA bundle (PEM) https:// nodes must chain to; undefined = the public CAs. Verification is never switched off. */
  readonly tlsCa?: string | undefined
  readonly onUpstreamError?: (region: string, kind: UpstreamErrorKind) => void
}

// Client-supplied headers that must never reach a node: credentials, our own identity, forwarding and tracing
// claims the gateway re-makes, and hop-by-hop headers (RFC 9110 §7.6.1). undici also throws on keep-alive,
// upgrade and expect (curl sends `Expect: 100-continue` for bodies over 1 KB), which would fail the request.
const DROPPED_REQUEST_HEADERS = [
  'authorization',
  IDENTITY_HEADER,
  CLIENT_KIND_HEADER,
  'proxy-authorization',
  'cookie',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'forwarded',
  'traceparent',
  'tracestate',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
]

// RFC 9110 §7.6.1: a node's hop-by-hop headers describe the node↔gateway connection, not ours with the client.
// Passing on the node's `connection: keep-alive` overrode a client's `Connection: close` (the socket then
// stayed open for the keep-alive timeout).
const DROPPED_RESPONSE_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']

// Node responses up to this size are buffered (see onResponse), so a body that breaks off can still become a
// SCIM 502; larger ones are streamed, so a gateway's memory per response stays bounded whatever the node sends.
const BUFFERED_RESPONSE_BYTES = 1_048_576

function upstreamOf(request: FastifyRequest): string {
  const region = request.gateway?.region
  if (region === undefined) throw new Error('proxying a request that was not authenticated')
  // Spread requests over a region's nodes; undici keeps a keep-alive pool per origin.
  return pickUpstream(region)
}

function rewriteRequestHeaders(request: FastifyRequest, headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const forwarded: IncomingHttpHeaders = { ...headers }
  for (const name of DROPPED_REQUEST_HEADERS) delete forwarded[name]
  forwarded[IDENTITY_HEADER] = request.gateway?.identity
  forwarded['x-forwarded-host'] = request.host
  forwarded['x-forwarded-proto'] = request.protocol
  forwarded['x-request-id'] = String(request.id)
  forwarded[CLIENT_KIND_HEADER] = request.gateway?.clientKind ?? 'other'
  return forwarded
}

function rewriteResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = { ...headers }
  const named = typeof headers.connection === 'string' ? headers.connection.split(',').map((name) => name.trim().toLowerCase()) : []
  for (const name of [...DROPPED_RESPONSE_HEADERS, ...named]) delete kept[name]
  return kept
}

/** Every `code` along an error's cause chain (reply-from wraps undici's errors). */
function errorCodes(error: unknown): string {
  const codes: string[] = []
  let current = error
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown }
    if (typeof code === 'string') codes.push(code)
    current = cause
  }
  return codes.join(' ')
}

/**
 * Timeouts → 504; nothing reachable to talk to → 503 (worth retrying); anything else — a response that is not
 * HTTP, breaks off, or a certificate that does not verify — is an invalid answer → 502 (RFC 9110 §15.6.3).
 */
function classifyUpstreamError(error: unknown): UpstreamErrorKind {
  const codes = errorCodes(error)
  if (/TIMEOUT/.test(codes)) return 'timeout'
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNRESET|UND_ERR_SOCKET|UND_ERR_CLOSED|SERVICE_UNAVAILABLE/.test(codes)) return 'unavailable'
  return 'bad-gateway'
}

type ResponseStart = { readonly complete: true; readonly body: Buffer } | { readonly complete: false; readonly head: readonly Buffer[]; readonly rest: AsyncIterator<Buffer> }

/** Reads a node's response body until it ends or passes `limit` bytes; the rest, if any, is left to stream. */
async function readResponseStart(stream: Readable, limit: number): Promise<ResponseStart> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const head: Buffer[] = []
  let size = 0
  for (;;) {
    const next = await iterator.next()
    if (next.done === true) return { complete: true, body: Buffer.concat(head) }
    head.push(next.value)
    size += next.value.length
    if (size > limit) return { complete: false, head, rest: iterator }
  }
}

/** The buffered start, then the rest as it arrives; `onBreak` hears of a node that breaks off mid-body. */
function continueStreaming(head: readonly Buffer[], rest: AsyncIterator<Buffer>, onBreak: (error: unknown) => void): Readable {
  return Readable.from(
    (async function* () {
      yield* head
      try {
        for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value
      } catch (error) {
        // The headers are out: the client's connection is cut, so it sees an incomplete body, never a short 200.
        onBreak(error)
        throw error
      }
    })(),
  )
}

/** Both `/scim/...` and `/scim/v2/...` reach the node's `/scim/v2/...`; nothing else is proxied. */
export async function scimProxy(app: FastifyInstance, options: ScimProxyOptions): Promise<void> {
  const { timeouts } = options
  // Replies already answered with a SCIM error by onError (reply-from may still call onResponse after it).
  const answered = new WeakSet<FastifyReply>()

  const sendUpstreamError = (reply: FastifyReply, error: unknown, kind: UpstreamErrorKind = classifyUpstreamError(error)): void => {
    answered.add(reply)
    const region = reply.request.gateway?.region.code ?? 'unknown'
    options.onUpstreamError?.(region, kind)
    // Map to SCIM errors that name the region but never an internal address.
    if (kind === 'timeout') sendScimError(reply, 504, `region ${region} did not answer in time`)
    else if (kind === 'unavailable') sendScimError(reply, 503, `region ${region} is unavailable; retry later`, undefined, { 'retry-after': '5' })
    else sendScimError(reply, 502, `region ${region} answered with an invalid response`)
  }

  const common: Omit<FastifyHttpProxyOptions, 'prefix'> = {
    upstream: '',
    // Bodies are buffered by our own parser, which enforces the size limit (the plugin's streaming parser does not).
    proxyPayloads: false,
    // reply-from JSON-encodes a Buffer body whose type is application/json (`{"type":"Buffer","data":[…]}`) and
    // drops the charset from the content type: hand it the client's bytes and content type as they came.
    handler: (request, reply, dest, replyOptions) =>
      reply.from(dest, Buffer.isBuffer(request.body) ? { ...replyOptions, body: request.body, contentType: request.headers['content-type'] ?? 'application/octet-stream' } : replyOptions),
    httpMethods: ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT'],
    // reply-from retries GETs answered 503 by default (reading Retry-After seconds as ms): never retry.
    retryMethods: [],
    // Close the node connections with the gateway (reply-from leaves its agent open by default).
    destroyAgent: true,
    undici: {
      connections: 256,
      pipelining: 1,
      connectTimeout: timeouts.connectMs,
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
      keepAliveTimeout: 30_000,
      connect: { rejectUnauthorized: true, ...(options.tlsCa === undefined ? {} : { ca: options.tlsCa }) },
    },
    disableRequestLogging: true,
    replyOptions: {
      getUpstream: (request) => upstreamOf(request as FastifyRequest),
      rewriteRequestHeaders: (request, headers) => rewriteRequestHeaders(request as FastifyRequest, headers),
      rewriteHeaders: (headers) => rewriteResponseHeaders(headers as IncomingHttpHeaders),
      onResponse(_request, anyReply, response) {
        const reply = anyReply as FastifyReply
        if (answered.has(reply)) {
          response.stream.destroy()
          return
        }
        readResponseStart(response.stream, BUFFERED_RESPONSE_BYTES).then(
          (start) => {
            if (start.complete) return reply.send(start.body)
            const region = reply.request.gateway?.region.code ?? 'unknown'
            return reply.send(continueStreaming(start.head, start.rest, (error) => options.onUpstreamError?.(region, classifyUpstreamError(error) === 'timeout' ? 'timeout' : 'bad-gateway')))
          },
          (error: unknown) => {
            // reply-from passes `{ statusCode, headers, stream }` (its types say a ServerResponse): drop the node's headers.
            const copied = (response as unknown as { headers: IncomingHttpHeaders }).headers
            for (const name of Object.keys(rewriteResponseHeaders(copied))) reply.removeHeader(name)
            // The node did answer: a break-off after the headers is an invalid response unless it timed out.
            sendUpstreamError(reply, error, classifyUpstreamError(error) === 'timeout' ? 'timeout' : 'bad-gateway')
          },
        )
      },
      onError(anyReply, { error }) {
        sendUpstreamError(anyReply as FastifyReply, error)
      },
    },
  }
  await app.register(httpProxy, { ...common, prefix: '/scim/v2', rewritePrefix: '/scim/v2' })
  await app.register(httpProxy, { ...common, prefix: '/scim', rewritePrefix: '/scim/v2' })
}
