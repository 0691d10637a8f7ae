import { LRUCache } from 'lru-cache'
import { signIdentity, type IdentityClaims, type SigningKey } from '../../lib/internal-identity.ts'

// Revocation needs nothing here: every request authenticates its token before
// an identity is issued, so a revoked token never reaches the cache again, and
// a cached identity only ever travels from this gateway to the node. Dropping
// it from memory would not shorten its validity at the node either (a signed
// JWT stays valid until it expires, IDENTITY_TTL_SECONDS); the LRU evicts it.
export interface IdentityIssuer {
  /** A signed identity for the claims, reused per token while it has more than a fifth of its life left. */
  issue(cacheKey: string, claims: IdentityClaims): Promise<string>
  /** The identity issue would answer without signing; undefined = call issue. */
  issueCached(cacheKey: string, claims: IdentityClaims): string | undefined
}

interface CachedIdentity {
  readonly jwt: string
  readonly renewAfter: number
  readonly claims: IdentityClaims
}

function sameClaims(a: IdentityClaims, b: IdentityClaims): boolean {
  if (a.tenantId !== b.tenantId || a.tokenId !== b.tokenId || a.region !== b.region || a.label !== b.label || a.scopes.length !== b.scopes.length) return false
  for (let index = 0; index < a.scopes.length; index++) if (a.scopes[index] !== b.scopes[index]) return false
  return true
}

/** Signing is paid once per token and lifetime, not per request. */
export function createIdentityIssuer(signingKey: SigningKey, ttlSeconds: number, options: { maxEntries?: number; now?: () => number } = {}): IdentityIssuer {
  const now = options.now ?? Date.now
  const cache = new LRUCache<string, CachedIdentity>({ max: options.maxEntries ?? 50_000 })
  const issueCached = (cacheKey: string, claims: IdentityClaims): string | undefined => {
    // Compared field by field rather than folded into the key: no string is built per request.
    const cached = cache.get(cacheKey)
    return cached !== undefined && cached.renewAfter > now() && sameClaims(cached.claims, claims) ? cached.jwt : undefined
  }
  return {
    issueCached,
    async issue(cacheKey, claims) {
      const cached = issueCached(cacheKey, claims)
      if (cached !== undefined) return cached
      const jwt = await signIdentity(signingKey, claims, ttlSeconds)
      cache.set(cacheKey, { jwt, renewAfter: now() + ttlSeconds * 800, claims })
      return jwt
    },
  }
}
