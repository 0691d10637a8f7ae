// The gateway's observability: Prometheus metrics (requests, token cache,
// Redis, upstream errors, rate limits) and, once a request is authenticated,
// its region and tenant on the request's log lines and spans.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Cluster, Redis } from 'ioredis'
import { Counter, Gauge, type Registry } from 'prom-client'
import { createRequestMetrics, type RequestMetrics } from '../../lib/metrics/request-metrics.ts'
import { bindRequestLog } from '../../lib/request-log.ts'
import { describeScimRequest, scimShapeOf } from '../../lib/metrics/scim-operation.ts'
import { SPAN_ATTRIBUTE, requestSpansActive, setRequestSpanAttributes } from '../../lib/tracing/request-spans.ts'
import type { TokenAuthenticator } from '../tokens/token-authenticator.ts'

export type UpstreamErrorKind = 'unavailable' | 'timeout' | 'bad-gateway'

export interface GatewayMetrics {
  readonly requests: RequestMetrics
  upstreamError(region: string, kind: UpstreamErrorKind): void
  rateLimited(region: string, reason: 'tenant' | 'failed-auth'): void
  /** One answered request of an authenticated tenant; `limited` when it was refused with 429. */
  tenantRequest(region: string, tenantId: string, limited: boolean): void
}

export interface GatewayMetricSources {
  readonly authenticator: TokenAuthenticator
  // Either may be absent (embedded mode has no Redis).
  readonly redis: { readonly commands?: Redis | Cluster | undefined; readonly subscriber?: Redis | Cluster | undefined }
}

/** A counter mirroring a monotonic count kept elsewhere (it may restart from 0: then it counts from there). */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read()
      if (now > seen) this.inc(now - seen)
      seen = now
    },
  })
}

export function createGatewayMetrics(registry: Registry, sources: GatewayMetricSources): GatewayMetrics {
  const { authenticator, redis } = sources
  mirroredCounter(registry, 'scimgate_token_cache_hits_total', 'Provisioning tokens answered from the in-process cache', () => authenticator.stats().hits)
  mirroredCounter(registry, 'scimgate_token_cache_misses_total', 'Provisioning tokens looked up in Redis', () => authenticator.stats().misses)
  new Gauge({
    name: 'scimgate_token_cache_entries',
    help: 'Entries in the token cache (verified and unknown tokens)',
    registers: [registry],
    collect() {
      this.set(authenticator.stats().size)
    },
  })
  new Gauge({
    name: 'scimgate_redis_connection_up',
    help: '1 when the Redis connection is ready for commands, else 0',
    labelNames: ['connection'] as const,
    registers: [registry],
    collect() {
      for (const [role, connection] of Object.entries(redis)) if (connection !== undefined) this.set({ connection: role }, connection.status === 'ready' ? 1 : 0)
    },
  })
  const upstreamErrors = new Counter({
    name: 'scimgate_upstream_errors_total',
    help: 'Proxied requests a region node did not answer properly, by kind (unavailable, timeout, bad-gateway)',
    labelNames: ['region', 'kind'] as const,
    registers: [registry],
  })
  const rateLimited = new Counter({
    name: 'scimgate_rate_limited_total',
    help: 'Requests refused with 429: per-tenant rate limit, or too many failed authentications from an address',
    labelNames: ['region', 'reason'] as const,
    registers: [registry],
  })
  // Per-tenant series exist only for tenants that authenticated with a valid token (bounded by the tenants of
  // the region, never by what a client sends), and only in these two counters.
  const tenantRequests = new Counter({
    name: 'scimgate_tenant_requests_total',
    help: 'Requests of authenticated tenants, by region and tenant',
    labelNames: ['region', 'tenant'] as const,
    registers: [registry],
  })
  const tenantRateLimited = new Counter({
    name: 'scimgate_tenant_rate_limited_total',
    help: 'Requests of authenticated tenants refused with 429 by the per-tenant rate limit, by region and tenant',
    labelNames: ['region', 'tenant'] as const,
    registers: [registry],
  })
  return {
    requests: createRequestMetrics(registry),
    upstreamError: (region, kind) => upstreamErrors.inc({ region, kind }),
    rateLimited: (region, reason) => rateLimited.inc({ region, reason }),
    tenantRequest: (region, tenantId, limited) => {
      tenantRequests.inc({ region, tenant: tenantId })
      if (limited) tenantRateLimited.inc({ region, tenant: tenantId })
    },
  }
}

export interface GatewayObservabilityOptions {
  readonly metrics: GatewayMetrics
  /** The catalog region of a request (from its host) when it did not authenticate; undefined = none. */
  readonly regionOf: (request: FastifyRequest) => string | undefined
}

export const gatewayObservability = fp(
  async (app: FastifyInstance, options: GatewayObservabilityOptions) => {
    const { metrics, regionOf } = options

    // preParsing runs after every onRequest hook, so after provisioning-auth has set request.gateway.
    app.addHook('preParsing', (request, reply, payload, done) => {
      // Undefined outside the /scim context (the decorator lives there), null there until authenticated.
      const context = request.gateway ?? null
      if (context !== null) {
        bindRequestLog(request, reply, { region: context.region.code, tenantId: context.tenantId, tokenId: context.tokenId })
      }
      if (context !== null && requestSpansActive()) {
        const shape = scimShapeOf(request)
        setRequestSpanAttributes(request, {
          [SPAN_ATTRIBUTE.region]: context.region.code,
          [SPAN_ATTRIBUTE.tenantId]: context.tenantId,
          [SPAN_ATTRIBUTE.resourceType]: shape.resourceType,
          [SPAN_ATTRIBUTE.operation]: shape.operation,
        })
      }
      done(null, payload)
    })

    // A callback hook: an async one costs a promise per request.
    app.addHook('onResponse', (request, reply, done) => {
      const context = request.gateway
      const region = context?.region.code ?? regionOf(request) ?? 'none'
      const status = reply.statusCode
      // Classifying allocates no result: done again rather than remembered per request (a WeakMap entry costs more).
      const { resourceType, operation } = describeScimRequest(request.method, request.url)
      metrics.requests.observe({ region, status, resourceType, operation, seconds: reply.elapsedTime / 1000 })
      if (status === 429) metrics.rateLimited(region, context == null ? 'failed-auth' : 'tenant')
      if (context != null) metrics.tenantRequest(region, context.tenantId, status === 429)
      done()
    })
  },
  { name: 'gateway-observability' },
)
