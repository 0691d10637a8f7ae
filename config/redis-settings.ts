// Redis settings of the gateway and of `scimgate token`, read from the
// environment. Connections are made in gateway/redis/redis-connection.ts.
import { z } from 'zod'
import { ConfigError } from './config-error.ts'

export type RedisConfig =
  | { mode: 'single'; url: string }
  | { mode: 'sentinel'; sentinels: { host: string; port: number }[]; name: string; password?: string }
  | { mode: 'cluster'; nodes: { host: string; port: number }[]; password?: string }

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
export const DEFAULT_REDIS_PREFIX = 'scimgate:'

/** SCIMGATE_REDIS_PREFIX: the key prefix every Redis key of scimgate starts with. */
export const redisPrefixSchema = z.string().regex(/^[A-Za-z0-9:{}_.-]{1,64}$/, 'letters, digits and : { } _ . - only').default(DEFAULT_REDIS_PREFIX)

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
