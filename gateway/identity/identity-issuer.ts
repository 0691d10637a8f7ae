import { LRUCache } from 'lru-cache'
import { signIdentity, type IdentityClaims, type SigningKey } from '../../lib/internal-identity.ts'

export interface IdentityIssuer {
  /** A signed identity for the claims, reused per token while it has more than a fifth of its life left. */
  issue(cacheKey: string, claims: IdentityClaims): Promise<string>
  /** Forgets identities of a token (revocation). */
  forget(cacheKey: string): void
}

interface CachedIdentity {
  readonly jwt: string
  readonly renewAfter: number
}

/** Signing is paid once per token and lifetime, not per request. */
export function createIdentityIssuer(signingKey: SigningKey, ttlSeconds: number, options: { maxEntries?: number; now?: () => number } = {}): IdentityIssuer {
  const now = options.now ?? Date.now
  const cache = new LRUCache<string, CachedIdentity>({ max: options.maxEntries ?? 50_000 })
  return {
    async issue(cacheKey, claims) {
      const key = `${cacheKey}\u0000${claims.region}\u0000${claims.scopes.join(' ')}`
      const cached = cache.get(key)
      if (cached !== undefined && cached.renewAfter > now()) return cached.jwt
      const jwt = await signIdentity(signingKey, claims, ttlSeconds)
      cache.set(key, { jwt, renewAfter: now() + ttlSeconds * 800 })
      return jwt
    },
    forget(cacheKey) {
      for (const key of cache.keys()) if (key.startsWith(`${cacheKey}\u0000`)) cache.delete(key)
    },
  }
}
