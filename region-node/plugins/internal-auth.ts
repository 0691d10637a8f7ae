import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { JSONWebKeySet } from 'jose'
import { LRUCache } from 'lru-cache'
import { IDENTITY_HEADER, createIdentityVerifier, type IdentityScope, type VerifiedIdentity } from '../../lib/internal-identity.ts'
import { ScimError } from '../../lib/scim-error.ts'

declare module 'fastify' {
  interface FastifyRequest {
    identity: VerifiedIdentity | null
  }
}

export interface InternalAuthOptions {
  readonly keySet: JSONWebKeySet
  readonly region: string
}

/** The node trusts only the gateway's signed identity: audience = this region. */
export const internalAuth = fp(
  async (app: FastifyInstance, options: InternalAuthOptions) => {
    const verifySignature = createIdentityVerifier(options.keySet, options.region)
    // The gateway reuses one identity per token for most of its lifetime: verify each once, until it expires.
    const verified = new LRUCache<string, VerifiedIdentity>({ max: 10_000 })
    const verify = async (token: string): Promise<VerifiedIdentity> => {
      const cached = verified.get(token)
      if (cached !== undefined && cached.expiresAt > Date.now()) return cached
      const identity = await verifySignature(token)
      verified.set(token, identity)
      return identity
    }
    app.decorateRequest('identity', null)
    app.decorate('authenticate', async (request: FastifyRequest, scope: IdentityScope) => {
      const header = request.headers[IDENTITY_HEADER]
      if (typeof header !== 'string' || header === '') throw new ScimError(401, undefined, 'authentication required')
      let identity: VerifiedIdentity
      try {
        identity = await verify(header)
      } catch {
        throw new ScimError(401, undefined, 'authentication required')
      }
      if (!identity.scopes.includes(scope)) throw new ScimError(403, undefined, 'this credential may not do that')
      request.identity = identity
    })
  },
  { name: 'internal-auth' },
)

declare module 'fastify' {
  interface FastifyInstance {
    authenticate(request: FastifyRequest, scope: IdentityScope): Promise<void>
  }
}

export function tenantOf(request: FastifyRequest): string {
  if (request.identity === null) throw new ScimError(401, undefined, 'authentication required')
  return request.identity.tenantId
}
