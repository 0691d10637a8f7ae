import { LRUCache } from 'lru-cache'

export interface FailedAuthLimiter {
  /** Seconds until the address may try again, or 0 when it may try now. */
  blockedFor(address: string): number
  recordFailure(address: string): void
}

/**
 * Blunts token guessing before any token check: an address that fails
 * authentication too often in a window gets 429 without its token being
 * looked at. Kept in memory per gateway (no Redis round trip, works while
 * Redis is down); the window bounds how stale a count can be.
 */
export function createFailedAuthLimiter(options: { maxFailures: number; windowMs: number; maxAddresses?: number; now?: () => number }): FailedAuthLimiter {
  const now = options.now ?? Date.now
  const failures = new LRUCache<string, { count: number; windowEnds: number }>({ max: options.maxAddresses ?? 100_000 })
  return {
    blockedFor(address) {
      const entry = failures.get(address)
      if (entry === undefined || entry.windowEnds <= now()) return 0
      return entry.count >= options.maxFailures ? Math.max(1, Math.ceil((entry.windowEnds - now()) / 1000)) : 0
    },
    recordFailure(address) {
      const entry = failures.get(address)
      if (entry === undefined || entry.windowEnds <= now()) failures.set(address, { count: 1, windowEnds: now() + options.windowMs })
      else entry.count++
    },
  }
}
