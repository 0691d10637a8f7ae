import { parseToken } from './token-format.ts'
import type { TokenHasher } from './token-hasher.ts'
import { isUsable } from './token-record.ts'
import type { AuthOutcome, TokenAuthenticator } from './token-authenticator.ts'
import type { TokenStore } from './token-store.ts'

/**
 * Authenticates against a local store on every request, with no cache: used
 * with the built-in file store, where a look-up is a stat() and a map read,
 * and a revocation by another process must show at once.
 */
export function createDirectAuthenticator(store: TokenStore, hasher: TokenHasher, now: () => number = Date.now): TokenAuthenticator {
  let hits = 0
  return {
    ready: Promise.resolve(),
    async authenticate(token): Promise<AuthOutcome> {
      if (parseToken(token) === undefined) return { kind: 'invalid', reason: 'malformed' }
      const record = await store.lookup(token)
      if (record === undefined) return { kind: 'invalid', reason: 'unknown' }
      if (record.status === 'revoked') return { kind: 'invalid', reason: 'revoked' }
      if (!isUsable(record, now())) return { kind: 'invalid', reason: 'expired', record }
      hits++
      return { kind: 'ok', record, cacheKey: hasher.digest(token, hasher.current) }
    },
    stats: () => ({ hits, misses: 0, size: 0, flushes: 0 }),
    async close() {},
  }
}
