import { createHash } from 'node:crypto'
import { LRUCache } from 'lru-cache'

export interface FailedAuthLimiter {
  /** Seconds until this key may try again, or 0 when it may try now. */
  blockedFor(key: string): number
  recordFailure(key: string): void
}

/**
 * What failed-authentication counts are kept under: the client address and a
 * fingerprint of the credential it presented (a truncated SHA-256, or the
 * kind of absence). Identity providers share egress addresses across many
 * customers: one customer's revoked token or missing header must not lock the
 * others behind the same address out, so counts never cover a whole address.
 */
export function failedAuthKey(address: string, credential: string | undefined): string {
  const fingerprint = credential === undefined || credential === '' ? 'none' : createHash('sha256').update(credential).digest('base64url').slice(0, 22)
  return `${address}|${fingerprint}`
}

/**
 * Blunts clients that retry the same failing credential: after maxFailures
 * failures in a window the key gets 429 without a token look-up. Only
 * failures are counted and only the failing key is blocked, so a token that
 * verifies is never refused here. Kept in memory per gateway (no Redis round
 * trip, works while Redis is down); the window bounds how stale a count can be.
 */
export function createFailedAuthLimiter(options: { maxFailures: number; windowMs: number; maxKeys?: number; now?: () => number }): FailedAuthLimiter {
  const now = options.now ?? Date.now
  const failures = new LRUCache<string, { count: number; windowEnds: number }>({ max: options.maxKeys ?? 100_000 })
  return {
    blockedFor(key) {
      const entry = failures.get(key)
      if (entry === undefined || entry.windowEnds <= now()) return 0
      return entry.count >= options.maxFailures ? Math.max(1, Math.ceil((entry.windowEnds - now()) / 1000)) : 0
    },
    recordFailure(key) {
      const entry = failures.get(key)
      if (entry === undefined || entry.windowEnds <= now()) failures.set(key, { count: 1, windowEnds: now() + options.windowMs })
      else entry.count++
    },
  }
}

/** Failures counted per address and presented credential (see failedAuthKey). */
export interface CredentialFailureLimiter {
  /** Seconds until this address may try this credential again, or 0 when it may try now. */
  blockedFor(address: string, credential: string | undefined): number
  recordFailure(address: string, credential: string | undefined): void
}

/**
 * failedAuthKey over a limiter, with the credential's fingerprint (a SHA-256) taken only for an address that
 * failed within the window: the identity providers' steady traffic, which authenticates, never pays for it.
 */
export function createCredentialFailureLimiter(
  limiter: FailedAuthLimiter,
  options: { windowMs: number; maxAddresses?: number; now?: () => number },
): CredentialFailureLimiter {
  const now = options.now ?? Date.now
  // Address → when its last recorded failure's window ends.
  const failedUntil = new LRUCache<string, number>({ max: options.maxAddresses ?? 100_000 })
  return {
    blockedFor(address, credential) {
      const until = failedUntil.get(address)
      if (until === undefined) return 0
      if (until <= now()) {
        failedUntil.delete(address)
        return 0
      }
      return limiter.blockedFor(failedAuthKey(address, credential))
    },
    recordFailure(address, credential) {
      failedUntil.set(address, now() + options.windowMs)
      limiter.recordFailure(failedAuthKey(address, credential))
    },
  }
}
