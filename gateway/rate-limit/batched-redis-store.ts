// A rate-limit store (@fastify/rate-limit's store interface, used by tenant-rate-limit.ts) that keeps Redis off the request
// path: each gateway counts locally and, every `flushMs`, adds what it counted
// to a per-window counter in Redis (INCRBY) and learns the total of every
// gateway from the reply. A request therefore costs no Redis round trip, and
// the limit is shared by all gateways, exact to within one flush interval of
// the other gateways' traffic. Windows are aligned to the clock so every
// gateway counts the same window. While Redis is down, counting goes on
// locally (fail open, as the plugin's skipOnError would).
import type { Cluster, Redis } from 'ioredis'

interface WindowCount {
  windowStart: number
  /** Counted here, not yet added in Redis. */
  pending: number
  /** Being added by a flush in flight. */
  sending: number
  /** Total of every gateway as of the last flush (includes what this gateway had sent). */
  known: number
}

type IncrCallback = (error: Error | null, result: { current: number; ttl: number }) => void

export interface RateLimitStore {
  incr(key: string, callback: IncrCallback, timeWindow: number, max: number): void
  child(routeOptions: unknown): RateLimitStore
}

export interface BatchedRedisStoreOptions {
  readonly redis: Redis | Cluster
  readonly keyPrefix: string
  readonly flushMs?: number
  readonly maxKeys?: number
  readonly now?: () => number
}

export interface BatchedRedisStore extends RateLimitStore {
  /** Sends what was counted now (tests, shutdown). */
  flush(): Promise<void>
}

export function createBatchedRedisStore(options: BatchedRedisStoreOptions): BatchedRedisStore {
  const now = options.now ?? Date.now
  const flushMs = options.flushMs ?? 200
  const maxKeys = options.maxKeys ?? 100_000
  const counts = new Map<string, WindowCount & { timeWindow: number }>()
  let timer: NodeJS.Timeout | undefined
  let flushing: Promise<void> | undefined

  // The tenant key is a Cluster hash tag: a tenant's counters of every window live in one slot.
  const redisKey = (key: string, windowStart: number): string => `${options.keyPrefix}{${key}}:${windowStart}`

  /** INCRBY + PEXPIRE per counter; one pipeline, or in a Cluster one per counter (a pipeline must stay in one slot). */
  async function send(batch: readonly (readonly [string, WindowCount & { timeWindow: number }])[]): Promise<([Error | null, unknown] | undefined)[]> {
    const groups = options.redis.isCluster ? batch.map((entry) => [entry]) : [batch]
    const replies = await Promise.all(
      groups.map(async (group) => {
        const pipeline = options.redis.pipeline()
        for (const [key, count] of group) {
          const name = redisKey(key, count.windowStart)
          pipeline.incrby(name, count.sending)
          pipeline.pexpire(name, count.timeWindow * 2)
        }
        const results = await pipeline.exec().catch(() => null)
        return group.map((_, index) => results?.[index * 2] ?? undefined)
      }),
    )
    return replies.flat()
  }

  async function sendCounts(): Promise<void> {
    const batch = [...counts].filter(([, count]) => count.pending > 0)
    if (batch.length === 0) return
    for (const [, count] of batch) {
      count.sending = count.pending
      count.pending = 0
    }
    const results = await send(batch)
    batch.forEach(([key, count], index) => {
      const [error, total] = results[index] ?? [new Error('no reply'), null]
      const current = counts.get(key)
      if (current !== count) return // the window rolled while the flush was in flight
      if (error === null && typeof total === 'number') count.known = total
      else count.pending += count.sending // Redis unavailable: keep counting locally, send later
      count.sending = 0
    })
  }

  function flush(): Promise<void> {
    flushing ??= sendCounts().finally(() => {
      flushing = undefined
    })
    return flushing
  }

  function schedule(): void {
    if (timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      void flush().then(() => {
        if ([...counts.values()].some((c) => c.pending > 0)) schedule()
      })
    }, flushMs)
    timer.unref()
  }

  const store: BatchedRedisStore = {
    incr(key, callback, timeWindow) {
      const at = now()
      const windowStart = Math.floor(at / timeWindow) * timeWindow
      let count = counts.get(key)
      if (count === undefined || count.windowStart !== windowStart) {
        if (count === undefined && counts.size >= maxKeys) {
          const oldest = counts.keys().next().value
          if (oldest !== undefined) counts.delete(oldest)
        }
        count = { windowStart, pending: 0, sending: 0, known: 0, timeWindow }
        counts.set(key, count)
      }
      count.pending++
      schedule()
      callback(null, { current: count.known + count.sending + count.pending, ttl: windowStart + timeWindow - at })
    },
    child: () => store,
    flush,
  }
  return store
}

/** @fastify/rate-limit constructs its store with `new`: a class that hands out one shared batched store. */
export function batchedRedisStoreClass(options: BatchedRedisStoreOptions): new (params: unknown) => RateLimitStore {
  const store = createBatchedRedisStore(options)
  return class {
    constructor() {
      return store
    }
  } as unknown as new (params: unknown) => RateLimitStore
}
