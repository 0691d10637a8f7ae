import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { Counter } from 'prom-client'
import type { GatewayConfig } from '../config/gateway-config.ts'
import type { SigningKey } from '../lib/internal-identity.ts'
import { collectProcessMetrics, createMetricsRegistry } from '../lib/metrics/request-metrics.ts'
import type { OpsListen } from '../config/process-settings.ts'
import { startOpsServer } from '../lib/ops-server.ts'
import { closeRedisConnection, createRedisConnection, waitForRedisReady } from './redis/redis-connection.ts'
import { buildAdminApi } from './admin/admin-api.ts'
import { buildGateway } from './app.ts'
import { createTokenAuthenticator } from './tokens/token-authenticator.ts'
import { createDirectAuthenticator } from './tokens/direct-authenticator.ts'
import { createFileTokenStore } from './tokens/file-token-store.ts'
import type { TokenAuthenticator } from './tokens/token-authenticator.ts'
import { createTokenHasher, type TokenHasher } from './tokens/token-hasher.ts'
import { createTokenStore, type ReplicatedWrites, type TokenStore } from './tokens/token-store.ts'
import { createTokenEventRelay } from './tokens/token-event-relay.ts'
import { createTokenUsageRecorder } from './tokens/token-usage-recorder.ts'

export interface RunningGateway {
  readonly app: FastifyInstance
  readonly url: string
  readonly adminUrl: string | undefined
  /** The ops listener (/metrics, /livez, /readyz); undefined when not started. */
  readonly opsUrl: string | undefined
  readonly tokenStore: TokenStore
  close(): Promise<void>
}

/**
 * Wires Redis, the token store and cache, the gateway and (when an admin
 * credential is configured) the admin API, and listens. Redis may be down at
 * start: the gateway then answers 503 for uncached tokens until it returns.
 */
export async function startGateway(
  config: GatewayConfig,
  options: { signingKey: SigningKey; logger?: FastifyServerOptions['logger']; ops?: OpsListen; processMetrics?: boolean },
): Promise<RunningGateway> {
  const hasher = createTokenHasher(config.peppers.peppers, config.peppers.current)
  const metricsRegistry = createMetricsRegistry()
  if (options.processMetrics === true) collectProcessMetrics(metricsRegistry)
  const unreplicated = new Counter({
    name: 'scimgate_token_changes_unreplicated_total',
    help: 'Token creations/rotations and revocations no replica confirmed in time (Sentinel): a failover before the replica catches up loses them',
    labelNames: ['change'] as const,
    registers: [metricsRegistry],
  })
  let warnUnreplicated: ReplicatedWrites['onUnconfirmed'] = () => undefined
  const onUnconfirmed: ReplicatedWrites['onUnconfirmed'] = (change) => {
    unreplicated.inc({ change: change.type })
    warnUnreplicated(change)
  }
  const tokens = config.tokenStoreFile === undefined ? await connectRedisTokens(config, hasher, onUnconfirmed) : fileTokens(config.tokenStoreFile, hasher)
  const { redis, tokenStore, authenticator } = tokens
  const usage = createTokenUsageRecorder(tokenStore)
  const app = await buildGateway(
    config,
    { redis, authenticator, signingKey: options.signingKey, subscriber: tokens.subscriber, usage, noteExpiredUse: (record, context) => tokenStore.noteExpiredUse(record, context) },
    { logger: options.logger, metricsRegistry },
  )
  warnUnreplicated = (change) => app.log.warn(change, 'token change not confirmed by a replica in time; a failover before the replica catches up loses it')
  // Token events (also those the CLI wrote) reach their region's event log through any running gateway.
  const relayWarnedAt = new Map<string, number>()
  const tokenEvents = createTokenEventRelay({
    store: tokenStore,
    catalog: config.catalog,
    regions: config.servedRegions,
    signingKey: options.signingKey,
    timeoutMs: config.upstreamTimeouts.headersMs,
    // At most one warning per region every 30 s while a node (or Redis) is unreachable: the relay retries every second.
    onError: (error, region) => {
      const now = Date.now()
      if ((relayWarnedAt.get(region) ?? 0) > now - 30_000) return
      relayWarnedAt.set(region, now)
      app.log.warn({ err: error, region }, 'token events not delivered yet; retrying')
    },
  })
  const admin = config.adminTokenSha256 === undefined ? undefined : await buildAdminApi(config, { tokenStore, signingKey: options.signingKey, redis, tokenEvents }, { logger: options.logger })
  if (!tokens.ready) app.log.warn('Redis is not reachable yet; uncached tokens get 503 until it is')
  const url = await app.listen({ host: config.host, port: config.port })
  const adminUrl = admin === undefined ? undefined : await admin.listen({ host: config.adminHost, port: config.adminPort })
  const ops =
    options.ops === undefined
      ? undefined
      : await startOpsServer({
          ...options.ops,
          registry: metricsRegistry,
          // Not Redis: while it is away, cached tokens keep working on every gateway alike, so taking
          // gateways out of the load balancer would only stop what still works.
          readiness: async () => undefined,
        })

  return {
    app,
    url,
    adminUrl,
    opsUrl: ops?.url,
    tokenStore,
    async close() {
      ops?.beginDraining()
      // Waits for in-flight requests (fastify drains; see buildGateway).
      await app.close()
      await admin?.close()
      await Promise.all([usage.close(), tokenEvents.close()])
      await tokens.close()
      await ops?.close()
    },
  }
}

interface TokenBackend {
  readonly redis: Redis | Cluster | undefined
  readonly subscriber?: Redis | Cluster
  readonly tokenStore: TokenStore
  readonly authenticator: TokenAuthenticator
  readonly ready: boolean
  close(): Promise<void>
}

/** How long a token change waits for the replica (WAIT) with Sentinel; under the command timeout. */
const REPLICATION_WAIT_MS = 250

async function connectRedisTokens(config: GatewayConfig, hasher: TokenHasher, onUnconfirmed: ReplicatedWrites['onUnconfirmed']): Promise<TokenBackend> {
  const onRedisError = (): void => undefined
  const redis = createRedisConnection(config.redis, 'commands', { onError: onRedisError, connectionName: 'scimgate-gateway' })
  const subscriber = createRedisConnection(config.redis, 'subscriber', { onError: onRedisError, connectionName: 'scimgate-gateway-sub' })
  // With Sentinel a failover may promote the replica: token changes wait for it, on a connection of their own.
  const writes = config.redis.mode === 'sentinel' ? (createRedisConnection(config.redis, 'commands', { onError: onRedisError, connectionName: 'scimgate-gateway-writes' }) as Redis) : undefined
  const replicatedWrites = writes === undefined ? undefined : { connection: writes, replicas: 1, timeoutMs: REPLICATION_WAIT_MS, onUnconfirmed }
  const tokenStore = createTokenStore(redis, { keyPrefix: config.redisKeyPrefix, hasher, ...(replicatedWrites === undefined ? {} : { replicatedWrites }) })
  const authenticator = createTokenAuthenticator({ store: tokenStore, subscriber, hasher, outageGraceMs: config.redisOutageGraceMs })
  // Commands fail fast while Redis is not connected (no offline queue): give it a moment at start,
  // but start anyway when it is down; the gateway answers 503 for uncached tokens until it returns.
  const ready = await Promise.all([redis, ...(writes === undefined ? [] : [writes])].map((connection) => waitForRedisReady(connection, 3_000))).then(
    () => true,
    () => false,
  )
  return {
    redis,
    subscriber,
    tokenStore,
    authenticator,
    ready,
    async close() {
      await authenticator.close()
      await Promise.all([redis, subscriber, ...(writes === undefined ? [] : [writes])].map(closeRedisConnection))
    },
  }
}

/** Embedded mode: the built-in file store, no Redis. */
function fileTokens(path: string, hasher: TokenHasher): TokenBackend {
  const tokenStore = createFileTokenStore(path, { hasher })
  const authenticator = createDirectAuthenticator(tokenStore, hasher)
  return { redis: undefined, tokenStore, authenticator, ready: true, close: () => authenticator.close() }
}
