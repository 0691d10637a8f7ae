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
import { ConfigError } from '../../config/config-error.ts'

export type RedisConfig =
  | { mode: 'single'; url: string }
  | { mode: 'sentinel'; sentinels: { host: string; port: number }[]; name: string; password?: string }
  | { mode: 'cluster'; nodes: { host: string; port: number }[]; password?: string }

export type RedisRole = 'commands' | 'subscriber'

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
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

function parseHostList(name: string, text: string, problems: string[]): { host: string; port: number }[] {
  const hosts: { host: string; port: number }[] = []
  for (const entry of text.split(',').map((s) => s.trim())) {
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry)
    const port = Number(match?.[2])
    if (match === null || !(port >= 1 && port <= 65535)) {
      problems.push(`${name}: ${JSON.stringify(entry)} is not host:port`)
      continue
    }
    hosts.push({ host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port })
  }
  return hosts
}

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== ''

/** True when the environment names a Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES), as parseRedisConfig reads them. */
export function hasRedisSettings(env: Readonly<Record<string, string | undefined>>): boolean {
  return isSet(env.REDIS_URL) || isSet(env.REDIS_SENTINELS) || isSet(env.REDIS_CLUSTER_NODES)
}

/**
 * Redis settings from the environment: REDIS_URL (single, default
 * redis://127.0.0.1:6379; rediss:// for TLS; a password goes in the URL), or
 * REDIS_SENTINELS=host:port,… with REDIS_SENTINEL_NAME, or
 * REDIS_CLUSTER_NODES=host:port,…; REDIS_PASSWORD for the last two.
 * Throws a ConfigError listing every problem.
 */
export function parseRedisConfig(env: Readonly<Record<string, string | undefined>>): RedisConfig {
  const problems: string[] = []
  const chosen = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((name) => isSet(env[name]))
  if (chosen.length > 1) problems.push(`set only one of ${chosen.join(', ')}`)
  const password = isSet(env.REDIS_PASSWORD) ? env.REDIS_PASSWORD : undefined
  if (isSet(env.REDIS_SENTINEL_NAME) && !isSet(env.REDIS_SENTINELS)) problems.push('REDIS_SENTINEL_NAME is set but REDIS_SENTINELS is not')
  if (password !== undefined && !isSet(env.REDIS_SENTINELS) && !isSet(env.REDIS_CLUSTER_NODES)) {
    problems.push('REDIS_PASSWORD applies to sentinel and cluster modes; put the password in REDIS_URL instead')
  }
  let config: RedisConfig | undefined
  if (isSet(env.REDIS_SENTINELS)) {
    const sentinels = parseHostList('REDIS_SENTINELS', env.REDIS_SENTINELS, problems)
    const name = env.REDIS_SENTINEL_NAME?.trim() ?? ''
    if (name === '') problems.push('REDIS_SENTINEL_NAME is required with REDIS_SENTINELS')
    config = { mode: 'sentinel', sentinels, name, ...(password === undefined ? {} : { password }) }
  } else if (isSet(env.REDIS_CLUSTER_NODES)) {
    const nodes = parseHostList('REDIS_CLUSTER_NODES', env.REDIS_CLUSTER_NODES, problems)
    config = { mode: 'cluster', nodes, ...(password === undefined ? {} : { password }) }
  } else {
    const url = isSet(env.REDIS_URL) ? env.REDIS_URL.trim() : DEFAULT_REDIS_URL
    let protocol: string | undefined
    try {
      protocol = new URL(url).protocol
    } catch {
      // The URL may hold a password: never quote it.
      problems.push('REDIS_URL is not a valid URL')
    }
    if (protocol !== undefined && protocol !== 'redis:' && protocol !== 'rediss:') problems.push('REDIS_URL must start with redis:// or rediss://')
    config = { mode: 'single', url }
  }
  if (problems.length > 0) throw new ConfigError('environment', problems)
  return config
}
