import type { Cluster, Redis } from 'ioredis'

/** Every key under a test's own prefix (SCAN, so a busy shared Redis is not blocked). */
export async function keysUnderPrefix(redis: Redis | Cluster, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await (redis as Redis).scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}

export async function deleteKeysUnderPrefix(redis: Redis | Cluster, prefix: string): Promise<void> {
  const keys = await keysUnderPrefix(redis, prefix)
  if (keys.length > 0) await redis.del(...keys)
}
