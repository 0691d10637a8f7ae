import { LRUCache } from 'lru-cache'
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { Registry } from 'prom-client'
import type { GatewayConfig } from '../config/gateway-config.ts'
import type { ClientKind } from '../lib/client-kind.ts'
import type { SigningKey } from '../lib/internal-identity.ts'
import { clientTimeoutOptions } from '../lib/client-timeouts.ts'
import { loggerOptions } from '../lib/logger-options.ts'
import { createMetricsRegistry } from '../lib/metrics/request-metrics.ts'
import { scimErrorHandling, scimErrorServerOptions } from '../lib/scim-error-handling.ts'
import { createCredentialFailureLimiter, createFailedAuthLimiter } from './auth/failed-auth-limiter.ts'
import { createBatchedRedisStore } from './rate-limit/batched-redis-store.ts'
import { tenantRateLimit } from './rate-limit/tenant-rate-limit.ts'
import { createIdentityIssuer } from './identity/identity-issuer.ts'
import { createGatewayMetrics, gatewayObservability } from './plugins/metrics.ts'
import { provisioningAuth } from './plugins/provisioning-auth.ts'
import { scimProxy } from './plugins/scim-proxy.ts'
import { createRegionResolver } from './routing/resolve-region.ts'
import type { TokenAuthenticator } from './tokens/token-authenticator.ts'
import type { TokenEventContext } from './tokens/token-events.ts'
import type { TokenRecord } from './tokens/token-record.ts'
import type { TokenUsageRecorder } from './tokens/token-usage-recorder.ts'

export interface GatewayDependencies {
  /** Absent in embedded mode (built-in token store): rate limits are then counted in memory. */
  readonly redis: Redis | Cluster | undefined
  readonly authenticator: TokenAuthenticator
  readonly signingKey: SigningKey
  /** The invalidation subscriber, for the Redis health gauge. */
  readonly subscriber?: Redis | Cluster
  /** Batched "last used" of tokens. */
  readonly usage?: TokenUsageRecorder
  /** Records that an expired token was presented (token event). */
  readonly noteExpiredUse?: (record: TokenRecord, context: TokenEventContext) => Promise<void>
}

export interface GatewayBuildOptions {
  readonly logger?: FastifyServerOptions['logger']
  /** Where the gateway's metrics go (server.ts serves it on the ops port); default: a registry of its own. */
  readonly metricsRegistry?: Registry
}

/** Builds the public gateway; never listens, never reads the environment. */
export async function buildGateway(config: GatewayConfig, deps: GatewayDependencies, options: GatewayBuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel, 'gateway'),
    // X-Forwarded-* (and so the region) is believed only from configured load balancers.
    trustProxy: config.trustedProxies.length === 0 ? false : [...config.trustedProxies],
    bodyLimit: config.bodyLimitBytes,
    // Slow clients (slow-loris headers or bodies) cannot hold a socket for long.
    ...clientTimeoutOptions(config.clientTimeouts),
    requestIdHeader: false,
    ...scimErrorServerOptions(),
    // Shutdown drains: in-flight requests finish, idle keep-alive connections close, requests arriving
    // meanwhile get a SCIM 503 (scimErrorHandling).
    forceCloseConnections: 'idle',
  })

  await app.register(scimErrorHandling, { bodyLimitBytes: config.bodyLimitBytes, notFoundDetail: () => 'not found: SCIM lives under /scim' })

  app.get('/livez', async () => ({ status: 'ok' }))
  // Ready whatever Redis does (see server.ts); the answer says whether Redis answers, for people.
  app.get('/readyz', async () => {
    const redis = deps.redis === undefined ? 'not used' : await deps.redis.ping().then(() => 'ok', () => 'unavailable')
    return { status: 'ok', redis }
  })

  const resolveRegion = createRegionResolver(config.catalog)
  const metrics = createGatewayMetrics(options.metricsRegistry ?? createMetricsRegistry(), {
    authenticator: deps.authenticator,
    redis: { commands: deps.redis, subscriber: deps.subscriber },
  })
  await app.register(gatewayObservability, { metrics, regionOf: (request) => resolveRegion(request.host)?.code })

  const issuer = createIdentityIssuer(deps.signingKey, config.identityTtlSeconds)
  // An expired token an identity provider keeps sending is recorded once, not on every request.
  const expiredNoted = new LRUCache<string, true>({ max: 10_000 })
  const onExpiredUse = (record: TokenRecord, request: FastifyRequest, clientKind: ClientKind): void => {
    if (deps.noteExpiredUse === undefined || expiredNoted.has(record.tokenId)) return
    expiredNoted.set(record.tokenId, true)
    deps.noteExpiredUse(record, { actor: { type: 'token', id: record.tokenId, label: record.label }, clientKind, requestId: String(request.id) }).catch((error: unknown) => {
      expiredNoted.delete(record.tokenId)
      request.log.warn({ err: error }, 'could not record the expired token event')
    })
  }
  const failedAuth = createCredentialFailureLimiter(createFailedAuthLimiter({ maxFailures: config.rateLimits.failedAuthPerAddress, windowMs: config.rateLimits.windowMs }), {
    windowMs: config.rateLimits.windowMs,
  })

  await app.register(async (scim) => {
    scim.removeAllContentTypeParsers()
    scim.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.bodyLimitBytes }, (_request, body, done) => done(null, body))
    await scim.register(provisioningAuth, {
      catalog: config.catalog,
      resolveRegion,
      authenticator: deps.authenticator,
      issuer,
      failedAuth,
      onExpiredUse,
      ...(deps.usage === undefined ? {} : { onTokenUse: (record: TokenRecord, clientKind: ClientKind) => deps.usage?.record(record.tokenId, clientKind) }),
    })
    await scim.register(tenantRateLimit, {
      max: config.rateLimits.perTenant,
      timeWindowMs: config.rateLimits.windowMs,
      // Counted in memory and shared through Redis in the background: no Redis round trip per request
      // (in embedded mode, without Redis, in memory only).
      store: deps.redis === undefined ? undefined : createBatchedRedisStore({ redis: deps.redis, keyPrefix: `${config.redisKeyPrefix}rate:` }),
      keyOf: (request) => `${request.gateway?.region.code ?? '-'}:${request.gateway?.tenantId ?? request.ip}`,
    })
    await scim.register(scimProxy, {
      timeouts: config.upstreamTimeouts,
      tlsCa: config.upstreamTlsCa,
      onUpstreamError: (region, kind) => {
        metrics.upstreamError(region, kind)
        app.log.warn({ region, kind }, 'upstream error')
      },
    })
  })

  return app
}
