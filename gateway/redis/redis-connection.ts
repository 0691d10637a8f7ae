// Redis connections that fail fast and heal themselves. ioredis defaults
// (offline queue, 20 retries, no command timeout) make requests hang while
// Redis is down; here a command fails within ~0.5 s instead, so the gateway
// can answer 503, and the client keeps reconnecting forever in the background.
//
// Start-up: with the offline queue off, a command sent before the connection
// is ready fails at once. Callers that need Redis at start (the CLI, a
// readiness probe) `await waitForRedisReady(connection, ms)`; the gateway may
// also start without it and answer 503 until Redis appears.
//
// Sentinel: a connection follows a failover when the sentinels announce it
// (sentinel-switch-watch.ts), when the primary's socket closes (killed
// server; Sentinel disconnecting the clients of the servers it reconfigures)
// and when a demoted primary answers a write with READONLY; each reconnection
// asks the sentinels for the primary. A server that stops answering with its
// socket open is left by the liveness ping below (every mode but Cluster).
import { Cluster, Redis, ReplyError } from 'ioredis'
import type { ClusterOptions, RedisOptions } from 'ioredis'
import type { RedisConfig } from '../../config/redis-settings.ts'
import { reconnectDelay } from './reconnect-delay.ts'
import { watchSentinelSwitches } from './sentinel-switch-watch.ts'

export { reconnectDelay }

export type RedisRole = 'commands' | 'subscriber'

export const COMMAND_TIMEOUT_MS = 500
const CONNECT_TIMEOUT_MS = 2_000
/** A connection is pinged this often; two PINGs in a row without an answer (server silent, socket open) make it reconnect. */
export const LIVENESS_INTERVAL_MS = 1_000
const SILENT_PINGS_BEFORE_RECONNECT = 2

/** What each connection runs beside itself (liveness ping, switch watch): stopped when it ends or is closed. */
const companions = new WeakMap<Redis | Cluster, () => void>()

export interface RedisConnectionOptions {
  /** Receives connection errors (they are expected while Redis is down). Default: ignored, never thrown. */
  onError?: (error: Error) => void
  /** Shown in CLIENT LIST. */
  connectionName?: string
  /** Liveness ping period (default LIVENESS_INTERVAL_MS; 0: none). Not for Cluster, whose PING reaches any one node. */
  livenessIntervalMs?: number
}

export function createRedisConnection(config: RedisConfig, role: RedisRole, options: RedisConnectionOptions = {}): Redis | Cluster {
  const common = {
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // A subscriber only issues (re)subscriptions; one retry is enough for commands.
    maxRetriesPerRequest: role === 'commands' ? 1 : 0,
    enableReadyCheck: true,
    autoResubscribe: true,
    // A reconnection forced on a silent socket (liveness ping, READONLY) destroys it after this long.
    disconnectTimeout: COMMAND_TIMEOUT_MS,
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
      // A primary demoted by a failover answers writes with READONLY: reconnect (Sentinel then names
      // the new primary) and send the command again.
      reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    }
    connection =
      config.mode === 'single'
        ? new Redis(config.url, redisOptions)
        : new Redis({
            ...redisOptions,
            sentinels: config.sentinels,
            name: config.name,
            sentinelRetryStrategy: (times) => reconnectDelay(times),
            // Replaced by watchSentinelSwitches (see there why).
            failoverDetector: false,
            ...(config.password === undefined ? {} : { password: config.password }),
          })
  }
  const onError = options.onError ?? ((): void => {})
  // Without a listener ioredis reports every failed reconnect on the console;
  // an 'error' event must never crash the process.
  connection.on('error', onError)
  if (connection instanceof Cluster) connection.on('node error', onError)
  else {
    const stops = [watchLiveness(connection, options.livenessIntervalMs ?? LIVENESS_INTERVAL_MS)]
    if (config.mode === 'sentinel') stops.push(watchSentinelSwitches(connection, { sentinels: config.sentinels, name: config.name, onError }))
    const stop = (): void => stops.forEach((fn) => fn())
    companions.set(connection, stop)
    connection.once('end', stop)
  }
  return connection
}

/**
 * Pings a ready connection every `intervalMs` and reconnects it when the server stays silent (a half-open
 * socket, a primary that hangs): commands would otherwise time out forever on a connection that looks
 * ready, and a subscriber would miss every message. An error reply is an answer: the server is alive.
 */
function watchLiveness(connection: Redis, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {}
  let silent = 0
  // A PING queued behind a slow reply (a WAIT, a big MGET) is late, not unanswered: any byte from the
  // server since the PING was sent proves it alive. Only a PING that timed out in total silence counts.
  let lastHeardAt = 0
  let heardOn: unknown
  const heard = (): void => {
    lastHeardAt = performance.now()
  }
  const timer = setInterval(() => {
    if (connection.status !== 'ready') {
      silent = 0
      return
    }
    const stream = connection.stream
    if (stream !== undefined && stream !== heardOn) {
      stream.on('data', heard)
      heardOn = stream
    }
    const sentAt = performance.now()
    // (The final catch: a throw in a handler must not become an unhandled rejection, which ends the process.)
    connection
      .ping()
      .then(
        () => {
          silent = 0
        },
        (error: unknown) => {
          silent = error instanceof ReplyError || lastHeardAt > sentAt ? 0 : silent + 1
          if (silent < SILENT_PINGS_BEFORE_RECONNECT || connection.status !== 'ready') return
          silent = 0
          connection.disconnect(true)
        },
      )
      .catch(() => undefined)
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * Resolves true once the connection can take commands, false after `timeoutMs` or when it has ended. For
 * a write issued while the connection (re)connects: worth a short wait, where failing at once is not.
 */
export function whenRedisReady(connection: Redis | Cluster, timeoutMs: number): Promise<boolean> {
  if (connection.status === 'ready') return Promise.resolve(true)
  if (connection.status === 'end' || timeoutMs <= 0) return Promise.resolve(false)
  return new Promise((resolve) => {
    const settle = (ready: boolean): void => {
      clearTimeout(timer)
      connection.off('ready', onReady)
      connection.off('end', onEnd)
      resolve(ready)
    }
    const onReady = (): void => settle(true)
    const onEnd = (): void => settle(false)
    const timer = setTimeout(() => settle(false), timeoutMs)
    connection.once('ready', onReady)
    connection.once('end', onEnd)
  })
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
  companions.get(connection)?.()
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
