// The region node's observability: Prometheus metrics (requests, the
// PostgreSQL pool) and, once the gateway's identity is verified, the tenant
// on the request's log lines and the region and tenant on its spans.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type pg from 'pg'
import { Gauge, type Registry } from 'prom-client'
import { createRequestMetrics } from '../../lib/metrics/request-metrics.ts'
import { bindRequestLog } from '../../lib/request-log.ts'
import { describeScimRequest, scimShapeOf, type ScimRequestShape } from '../../lib/metrics/scim-operation.ts'
import type { VerifiedIdentity } from '../../lib/internal-identity.ts'
import { SPAN_ATTRIBUTE, requestSpansActive, setRequestSpanAttributes } from '../../lib/tracing/request-spans.ts'

export interface NodeObservabilityOptions {
  readonly registry: Registry
  readonly region: string
  readonly pool: pg.Pool
}

function registerPoolMetrics(registry: Registry, region: string, pool: pg.Pool): void {
  new Gauge({
    name: 'scimgate_pg_pool_connections',
    help: 'PostgreSQL pool: open connections (state=total), idle ones (idle), and requests waiting for one (waiting)',
    labelNames: ['region', 'state'] as const,
    registers: [registry],
    collect() {
      this.set({ region, state: 'total' }, pool.totalCount)
      this.set({ region, state: 'idle' }, pool.idleCount)
      this.set({ region, state: 'waiting' }, pool.waitingCount)
    },
  })
  new Gauge({
    name: 'scimgate_pg_pool_max_connections',
    help: 'PostgreSQL pool size limit',
    labelNames: ['region'] as const,
    registers: [registry],
    collect() {
      this.set({ region }, pool.options.max)
    },
  })
}

/**
 * A request's shape depends only on its method and route: a route without parameters matches only its own path
 * (in any letter case, with or without a trailing slash, which the classification ignores too), and `…/:id`
 * matches one segment, which classifies as an item unless it is `.search`. Worked out once per method and route.
 */
const routeShapes = new Map<string, ScimRequestShape>()

function cacheableRoute(route: string): boolean {
  const parameter = route.indexOf(':')
  if (route.includes('*')) return false
  return parameter === -1 || (route.endsWith('/:id') && parameter === route.length - 3)
}

function shapeOf(request: FastifyRequest): ScimRequestShape {
  const route = request.routeOptions.url
  if (route === undefined || !cacheableRoute(route) || (request.params as { id?: unknown } | undefined)?.id === '.search') return scimShapeOf(request)
  const key = `${request.method} ${route}`
  let shape = routeShapes.get(key)
  if (shape === undefined) {
    shape = describeScimRequest(request.method, route)
    routeShapes.set(key, shape)
  }
  return shape
}

/**
 * What the node does once a request's gateway identity is verified (internal-auth calls it from its onRequest
 * hook): the tenant on the request's log lines and, with tracing on, the request's span attributes.
 */
export function identityObserver(region: string): (request: FastifyRequest, reply: FastifyReply, identity: VerifiedIdentity) => void {
  return (request, reply, identity) => {
    bindRequestLog(request, reply, { tenantId: identity.tenantId })
    if (requestSpansActive()) {
      const shape = shapeOf(request)
      setRequestSpanAttributes(request, {
        [SPAN_ATTRIBUTE.region]: region,
        [SPAN_ATTRIBUTE.tenantId]: identity.tenantId,
        [SPAN_ATTRIBUTE.resourceType]: shape.resourceType,
        [SPAN_ATTRIBUTE.operation]: shape.operation,
      })
    }
  }
}

export const nodeObservability = fp(
  async (app: FastifyInstance, options: NodeObservabilityOptions) => {
    const { registry, region, pool } = options
    const requests = createRequestMetrics(registry)
    registerPoolMetrics(registry, region, pool)

    app.addHook('onResponse', (request, reply, done) => {
      const shape = shapeOf(request)
      requests.observe({ region, status: reply.statusCode, operation: shape.operation, resourceType: shape.resourceType, seconds: reply.elapsedTime / 1000 })
      done()
    })
  },
  { name: 'node-observability', dependencies: ['database'] },
)
