// The per-tenant rate limit as one synchronous preHandler hook. It answers as @fastify/rate-limit did (same
// store, key, headers and 429), without that plugin's promise chain: its handler awaits the key, the store
// and itself, about four microtask turns per request, where both our stores answer in the same turn.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import { createRequire } from 'node:module'
import { ScimError } from '../../lib/scim-error.ts'
import type { RateLimitStore } from './batched-redis-store.ts'

export interface TenantRateLimitOptions {
  /** Requests a key may make per window. */
  readonly max: number
  readonly timeWindowMs: number
  readonly keyOf: (request: FastifyRequest) => string
  /** Undefined = counted in this process only (embedded mode). */
  readonly store?: RateLimitStore | undefined
}

interface LocalStoreConstructor {
  new (continueExceeding: boolean, exponentialBackoff: boolean, cache?: number): RateLimitStore
}

/** The in-memory store @fastify/rate-limit uses without one of its own: a window per key from its first request. */
function pluginLocalStore(): RateLimitStore {
  const LocalStore = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore.js') as LocalStoreConstructor
  return new LocalStore(false, false)
}

/** Adds the limit to every route of the scope it is registered in (hook spans carry its name). */
export const tenantRateLimit = fp(
  async (scope: FastifyInstance, options: TenantRateLimitOptions) => {
    addTenantRateLimit(scope, options)
  },
  { name: 'tenant-rate-limit' },
)

function addTenantRateLimit(scope: FastifyInstance, options: TenantRateLimitOptions): void {
  const max = Math.trunc(options.max)
  const timeWindow = Math.trunc(options.timeWindowMs)
  const store = options.store ?? pluginLocalStore()
  const { keyOf } = options

  // A counting failure lets the request through (fail open): the store's callback then reports nothing counted.
  let current = 0
  let ttl = 0
  const counted = (error: Error | null, result: { current: number; ttl: number }): void => {
    current = error === null ? result.current : 0
    ttl = error === null ? result.ttl : 0
  }

  scope.addHook('preHandler', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    current = 0
    ttl = 0
    // Both stores call back before incr returns.
    store.incr(keyOf(request), counted, timeWindow, max)
    const ttlInSeconds = Math.ceil(ttl / 1000)
    reply.header('x-ratelimit-limit', max)
    if (current <= max) {
      reply.header('x-ratelimit-remaining', Math.max(0, max - current))
      reply.header('x-ratelimit-reset', ttlInSeconds)
      done()
      return
    }
    reply.header('x-ratelimit-remaining', 0)
    reply.header('x-ratelimit-reset', ttlInSeconds)
    reply.header('retry-after', ttlInSeconds)
    done(new ScimError(429, undefined, 'rate limit exceeded; slow down', { 'retry-after': String(Math.max(1, ttlInSeconds)) }))
  })
}
