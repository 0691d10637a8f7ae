import httpProxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import type { UpstreamTimeouts } from '../../config/gateway-config.ts'
import { IDENTITY_HEADER } from '../../lib/internal-identity.ts'
import { sendScimError } from '../../lib/scim-reply.ts'

export interface ScimProxyOptions {
  readonly timeouts: UpstreamTimeouts
  readonly onUpstreamError?: (region: string, kind: 'unavailable' | 'timeout' | 'bad-gateway') => void
}

// Hop-specific or client-supplied headers that must never reach a node.
const DROPPED_HEADERS = ['authorization', IDENTITY_HEADER, 'proxy-authorization', 'cookie', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'traceparent', 'tracestate']

function upstreamOf(request: FastifyRequest): string {
  const region = request.gateway?.region
  if (region === undefined) throw new Error('proxying a request that was not authenticated')
  const upstreams = region.upstreams
  // Spread requests over a region's nodes; undici keeps a keep-alive pool per origin.
  return upstreams.length === 1 ? upstreams[0]! : upstreams[Math.floor(Math.random() * upstreams.length)]!
}

function rewriteRequestHeaders(request: FastifyRequest, headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const forwarded: IncomingHttpHeaders = { ...headers }
  for (const name of DROPPED_HEADERS) delete forwarded[name]
  forwarded[IDENTITY_HEADER] = request.gateway?.identity
  forwarded['x-forwarded-host'] = request.host
  forwarded['x-forwarded-proto'] = request.protocol
  forwarded['x-request-id'] = String(request.id)
  return forwarded
}

/** Both `/scim/...` and `/scim/v2/...` reach the node's `/scim/v2/...`; nothing else is proxied. */
export async function scimProxy(app: FastifyInstance, options: ScimProxyOptions): Promise<void> {
  const { timeouts } = options
  const common: Omit<FastifyHttpProxyOptions, 'prefix'> = {
    upstream: '',
    // Bodies are buffered by our own parser, which enforces the size limit (the plugin's streaming parser does not).
    proxyPayloads: false,
    httpMethods: ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT'],
    // reply-from retries GETs answered 503 by default (reading Retry-After seconds as ms): never retry.
    retryMethods: [],
    undici: {
      connections: 256,
      pipelining: 1,
      connectTimeout: timeouts.connectMs,
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
      keepAliveTimeout: 30_000,
      connect: { rejectUnauthorized: true },
    },
    disableRequestLogging: true,
    replyOptions: {
      getUpstream: (request) => upstreamOf(request as FastifyRequest),
      rewriteRequestHeaders: (request, headers) => rewriteRequestHeaders(request as FastifyRequest, headers),
      onError(anyReply, { error: rawError }) {
        const reply = anyReply as FastifyReply
        const error = rawError as Error & { code?: string; statusCode?: number }
        const region = reply.request.gateway?.region.code ?? 'unknown'
        const code = error.code ?? ''
        const cause = (error.cause as { code?: string } | undefined)?.code ?? ''
        // Map to SCIM errors that name the region but never an internal address.
        if (/TIMEOUT/.test(code) || /TIMEOUT/.test(cause) || error.statusCode === 504) {
          options.onUpstreamError?.(region, 'timeout')
          sendScimError(reply, 504, `region ${region} did not answer in time`)
          return
        }
        if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|UND_ERR_SOCKET|SERVICE_UNAVAILABLE/.test(`${code} ${cause} ${error.message}`) || error.statusCode === 503 || error.statusCode === 500) {
          options.onUpstreamError?.(region, 'unavailable')
          sendScimError(reply, 503, `region ${region} is unavailable; retry later`, undefined, { 'retry-after': '5' })
          return
        }
        options.onUpstreamError?.(region, 'bad-gateway')
        sendScimError(reply, 502, `region ${region} answered with an invalid response`)
      },
    },
  }
  await app.register(httpProxy, { ...common, prefix: '/scim/v2', rewritePrefix: '/scim/v2' })
  await app.register(httpProxy, { ...common, prefix: '/scim', rewritePrefix: '/scim/v2' })
}
