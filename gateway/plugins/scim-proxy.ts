import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import { Agent } from 'undici'
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
// (reply-from has already dropped `connection` and the names it lists.)
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
] as const

// RFC 9110 §7.6.1: a node's hop-by-hop headers describe the node↔gateway connection, not ours with the client.
// Passing on the node's `connection: keep-alive` overrode a client's `Connection: close` (the socket then
// stayed open for the keep-alive timeout).
const DROPPED_RESPONSE_HEADERS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'])

// Node responses up to this size are held until complete (see relayResponse), so a body that breaks off can
// still become a SCIM 502; larger ones are streamed, so a gateway's memory per response stays bounded whatever
// the node sends.
const BUFFERED_RESPONSE_BYTES = 1_048_576

function upstreamOf(request: FastifyRequest): string {
  const region = request.gateway?.region
  if (region === undefined) throw new Error('proxying a request that was not authenticated')
  return pickUpstream(region)
}

/**
 * The node-bound headers, made from reply-from's copy of the client's headers in place: a dropped header is
 * set to undefined, which undici leaves out (no delete, which would turn the object into a slow dictionary).
 */
function rewriteRequestHeaders(request: FastifyRequest, headers: IncomingHttpHeaders): IncomingHttpHeaders {
  for (const name of DROPPED_REQUEST_HEADERS) if (headers[name] !== undefined) headers[name] = undefined
  const context = request.gateway
  headers[IDENTITY_HEADER] = context?.identity
  headers['x-forwarded-host'] = request.host
  headers['x-forwarded-proto'] = request.protocol
  headers['x-request-id'] = String(request.id)
  headers[CLIENT_KIND_HEADER] = context?.clientKind ?? 'other'
  return headers
}

/** The node's end-to-end headers: one pass, without the hop-by-hop ones and those its Connection header names. */
function rewriteResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const connection = headers.connection
  const named = typeof connection === 'string' && connection.includes(',') ? connection.split(',').map((name) => name.trim().toLowerCase()) : undefined
  const single = typeof connection === 'string' && named === undefined ? connection.trim().toLowerCase() : undefined
  const kept: IncomingHttpHeaders = {}
  for (const name in headers) {
    if (DROPPED_RESPONSE_HEADERS.has(name) || name === single || named?.includes(name) === true) continue
    kept[name] = headers[name]
  }
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

/** The node's declared body length, or undefined (chunked, or not a plain number). */
function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['content-length']
  if (value === undefined) return undefined
  const length = Number(value)
  return Number.isSafeInteger(length) ? length : undefined
}

/** What a response relay tells the proxy about a node that breaks off. */
interface RelayEvents {
  /** After streaming began: the client then sees an incomplete body, never a short 200. */
  broke(reply: FastifyReply, error: unknown): void
  /** Before a byte was sent: the reply is still free for a SCIM error. */
  failed(reply: FastifyReply, error: unknown, nodeHeaders: IncomingHttpHeaders): void
}

/** The state of one held response; the listeners below are shared, so no closure is made per response. */
interface HeldResponse {
  readonly reply: FastifyReply
  readonly headers: IncomingHttpHeaders
  readonly events: RelayEvents
  first: Buffer | undefined
  more: Buffer[] | undefined
  size: number
}

const HELD = Symbol('scimgate.heldResponse')
type RelayedStream = Readable & { [HELD]?: HeldResponse }

function onHeldData(this: RelayedStream, chunk: Buffer): void {
  const held = this[HELD]!
  held.size += chunk.length
  if (held.first === undefined) held.first = chunk
  else (held.more ??= [held.first]).push(chunk)
  if (held.size <= BUFFERED_RESPONSE_BYTES) return
  // Too large to hold: give back what was read and stream the whole body from its start.
  this.off('data', onHeldData).off('end', onHeldEnd).off('error', onHeldError)
  this.pause()
  const chunks = held.more ?? [held.first]
  for (let index = chunks.length - 1; index >= 0; index--) this.unshift(chunks[index])
  held.first = held.more = undefined
  streamOn(held.reply, this, held.events)
}

function onHeldEnd(this: RelayedStream): void {
  const { reply, first, more, size } = this[HELD]!
  this[HELD] = undefined
  reply.send(more === undefined ? (first ?? EMPTY_BODY) : Buffer.concat(more, size))
}

function onHeldError(this: RelayedStream, error: unknown): void {
  const { reply, headers, events } = this[HELD]!
  this[HELD] = undefined
  this.off('data', onHeldData).off('end', onHeldEnd)
  events.failed(reply, error, headers)
}

const STREAMED = Symbol('scimgate.streamedResponse')
type StreamedStream = Readable & { [STREAMED]?: { readonly reply: FastifyReply; readonly events: RelayEvents } }

function onStreamedError(this: StreamedStream, error: unknown): void {
  const streamed = this[STREAMED]
  if (streamed !== undefined) streamed.events.broke(streamed.reply, error)
}

function streamOn(reply: FastifyReply, stream: Readable, events: RelayEvents): void {
  ;(stream as StreamedStream)[STREAMED] = { reply, events }
  stream.once('error', onStreamedError)
  reply.send(stream)
}

const EMPTY_BODY = Buffer.alloc(0)

/**
 * Sends a node's response body on. A body the node declares larger than BUFFERED_RESPONSE_BYTES streams at
 * once; any other is held until it ends (an ordinary SCIM answer arrives whole with its headers, so holding
 * it costs nothing but lets a node that breaks off still become a SCIM error); past the limit it streams too.
 */
function relayResponse(reply: FastifyReply, stream: Readable, headers: IncomingHttpHeaders, events: RelayEvents): void {
  const declared = declaredLength(headers)
  if (declared !== undefined && declared > BUFFERED_RESPONSE_BYTES) return streamOn(reply, stream, events)
  ;(stream as RelayedStream)[HELD] = { reply, headers, events, first: undefined, more: undefined, size: 0 }
  stream.on('data', onHeldData).once('end', onHeldEnd).once('error', onHeldError)
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

  // The node did answer: a break-off after the headers is an invalid response unless it timed out.
  const brokenOffKind = (error: unknown): UpstreamErrorKind => (classifyUpstreamError(error) === 'timeout' ? 'timeout' : 'bad-gateway')

  const relayEvents: RelayEvents = {
    broke: (reply, error) => options.onUpstreamError?.(reply.request.gateway?.region.code ?? 'unknown', brokenOffKind(error)),
    failed: (reply, error, nodeHeaders) => {
      // Drop the node's headers, copied onto the reply already, before answering with a SCIM error.
      for (const name of Object.keys(rewriteResponseHeaders(nodeHeaders))) reply.removeHeader(name)
      sendUpstreamError(reply, error, brokenOffKind(error))
    },
  }

  const replyOptions: NonNullable<FastifyHttpProxyOptions['replyOptions']> = {
    // Spread requests over a region's nodes; undici keeps a keep-alive pool per node.
    getUpstream: (request) => upstreamOf(request as FastifyRequest),
    rewriteRequestHeaders: (request, headers) => rewriteRequestHeaders(request as FastifyRequest, headers),
    rewriteHeaders: (headers) => rewriteResponseHeaders(headers as IncomingHttpHeaders),
    onResponse(_request, anyReply, response) {
      const reply = anyReply as FastifyReply
      // reply-from passes `{ statusCode, headers, stream }` (its types say a ServerResponse).
      const { stream, headers } = response as unknown as { stream: Readable; headers: IncomingHttpHeaders }
      if (answered.has(reply)) {
        stream.destroy()
        return
      }
      relayResponse(reply, stream, headers, relayEvents)
    },
    onError(anyReply, { error }) {
      sendUpstreamError(anyReply as FastifyReply, error)
    },
  }

  const agent = new Agent({
    connections: 256,
    pipelining: 1,
    connectTimeout: timeouts.connectMs,
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
    keepAliveTimeout: 30_000,
    connect: { rejectUnauthorized: true, ...(options.tlsCa === undefined ? {} : { ca: options.tlsCa }) },
  })
  app.addHook('onClose', async () => {
    await agent.destroy()
  })

  const common: Omit<FastifyHttpProxyOptions, 'prefix'> = {
    upstream: '',
    // Bodies are buffered by our own parser, which enforces the size limit (the plugin's streaming parser does not).
    proxyPayloads: false,
    // reply-from JSON-encodes a Buffer body whose type is application/json (`{"type":"Buffer","data":[…]}`) and
    // drops the charset from the content type: hand it the client's bytes and content type as they came.
    handler: (request, reply, dest, forNode) =>
      reply.from(dest, Buffer.isBuffer(request.body) ? { ...forNode, body: request.body, contentType: request.headers['content-type'] ?? 'application/octet-stream' } : forNode),
    httpMethods: ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT'],
    // reply-from retries GETs answered 503 by default (reading Retry-After seconds as ms): never retry.
    retryMethods: [],
    // Shared by both prefixes, so a node has one keep-alive pool (each registration would otherwise make its own
    // agent); closed with the gateway below, not by reply-from.
    destroyAgent: false,
    undici: agent,
    disableRequestLogging: true,
    replyOptions,
  }
  await app.register(httpProxy, { ...common, prefix: '/scim/v2', rewritePrefix: '/scim/v2' })
  await app.register(httpProxy, { ...common, prefix: '/scim', rewritePrefix: '/scim/v2' })
}
