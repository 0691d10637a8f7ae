// Redis connections that fail fast and heal themselves. ioredis defaults
// (offline queue, 20 retries, no command timeout) make requests hang while
// Redis is down; here a command fails within ~0.5 s instead, so the gateway
// can answer 503, and the client keeps reconnecting forever in the background.
//
// Start-up: with the offline queue off, a command sent before the connection
// is ready fails at once. Callers that need Redis at start (the CLI, a
// readiness probe) `await waitForRedisReady(connection, ms)`; the gateway may
// also start without it and answer 503 until Redis appears.
import { Cluster, Redis } from 'ioredis'
import type { ClusterOptions, RedisOptions } from 'ioredis'
import type { RedisConfig } from '../../config/redis-settings.ts'

export type RedisRole = 'commands' | 'subscriber'

export const COMMAND_TIMEOUT_MS = 500
const CONNECT_TIMEOUT_MS = 2_000

/** Reconnect delay: 50 ms, doubling, capped at 2 s, with jitter so a fleet does not reconnect in step. Never gives up. */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(2_000, 50 * 2 ** Math.min(attempt, 6))
  return Math.round(base * (0.8 + Math.random() * 0.4))
}

export interface RedisConnectionOptions {
  /** Receives connection errors (they are expected while Redis is down). Default: ignored, never thrown. */
  onError?: (error: Error) => void
  /** Shown in CLIENT LIST. */
  connectionName?: string
}

export function createRedisConnection(config: RedisConfig, role: RedisRole, options: RedisConnectionOptions = {}): Redis | Cluster {
  const common = {
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // A subscriber only issues (re)subscriptions; one retry is enough for commands.
    maxRetriesPerRequest: role === 'commands' ? 1 : 0,
    enableReadyCheck: true,
    autoResubscribe: true,
    connectionName: options.connectionName ?? `scimgate-${role}`,
  } satisfies RedisOptions
  let connection: Redis | Cluster
  if (config.mode === 'cluster') {
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: false,
      lazyConnect: false,
      clusterRetryStrategy: (times) => reconnectDelay(times),
      clusterNodeRetryStrategy: (times) => reconnectDelay(times),
      redisOptions: { ...common, ...(config.password === undefined ? {} : { password: config.password }) },
    }
    connection = new Cluster(config.nodes, clusterOptions)
  } else {
    const redisOptions: RedisOptions = {
      ...common,
      enableOfflineQueue: false,
      lazyConnect: false,
      retryStrategy: (times) => reconnectDelay(times),
    }
    connection =
      config.mode === 'single'
        ? new Redis(config.url, redisOptions)
        : new Redis({
            ...redisOptions,
            sentinels: config.sentinels,
            name: config.name,
            sentinelRetryStrategy: (times) => reconnectDelay(times),
            ...(config.password === undefined ? {} : { password: config.password }),
          })
  }
  const onError = options.onError ?? ((): void => {})
  // Without a listener ioredis reports every failed reconnect on the console;
  // an 'error' event must never crash the process.
  connection.on('error', onError)
  if (connection instanceof Cluster) connection.on('node error', onError)
  return connection
}

/** Resolves once the connection can take commands; rejects after `timeoutMs` (the message names no URL or password). */
export function waitForRedisReady(connection: Redis | Cluster, timeoutMs: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onReady = (): void => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      connection.off('ready', onReady)
      reject(new Error(`Redis is not reachable (no connection within ${timeoutMs} ms)`))
    }, timeoutMs)
    connection.once('ready', onReady)
  })
}

/** Closes politely when possible, and always; resolves once the connection has ended (or after 1 s). */
export async function closeRedisConnection(connection: Redis | Cluster): Promise<void> {
  if (connection.status === 'end') return
  if (connection.status === 'reconnecting') {
    // Between attempts there is no socket: cancelling the pending retry is the whole close ('end' never comes).
    connection.disconnect()
    return
  }
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1_000).unref()
    connection.once('end', () => {
      clearTimeout(timer)
      resolve()
    })
  })
  let polite = false
  if (connection.status === 'ready') {
    try {
      await connection.quit()
      polite = true
    } catch {
      // fall through: disconnect below
    }
  }
  if (!polite) connection.disconnect()
  await ended
}
