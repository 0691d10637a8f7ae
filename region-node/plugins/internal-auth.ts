import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
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
  /** Called once a request's identity is verified and admitted (the tenant on its logs, its span attributes). */
  readonly onIdentified?: (request: FastifyRequest, reply: FastifyReply, identity: VerifiedIdentity) => void
}

/** The node trusts only the gateway's signed identity: audience = this region. */
export const internalAuth = fp(
  async (app: FastifyInstance, options: InternalAuthOptions) => {
    const verifySignature = createIdentityVerifier(options.keySet, options.region)
    // The gateway reuses one identity per token for most of its lifetime: verify each once, until it expires.
    const verified = new LRUCache<string, VerifiedIdentity>({ max: 10_000 })
    const unauthenticated = (): ScimError => new ScimError(401, undefined, 'authentication required')
    const { onIdentified } = options
    const admit = (request: FastifyRequest, reply: FastifyReply, identity: VerifiedIdentity, scope: IdentityScope): ScimError | undefined => {
      if (!identity.scopes.includes(scope)) return new ScimError(403, undefined, 'this credential may not do that')
      request.identity = identity
      onIdentified?.(request, reply, identity)
      return undefined
    }
    app.decorateRequest('identity', null)
    // A callback-style onRequest hook: a cached identity is admitted without a promise.
    app.decorate('identityHook', (scope: IdentityScope): onRequestHookHandler => (request, reply, done) => {
      const header = request.headers[IDENTITY_HEADER]
      if (typeof header !== 'string' || header === '') return done(unauthenticated() as unknown as FastifyError)
      const cached = verified.get(header)
      if (cached !== undefined && cached.expiresAt > Date.now()) return done(admit(request, reply, cached, scope) as unknown as FastifyError | undefined)
      verifySignature(header).then(
        (identity) => {
          verified.set(header, identity)
          done(admit(request, reply, identity, scope) as unknown as FastifyError | undefined)
        },
        () => done(unauthenticated() as unknown as FastifyError),
      )
    })
  },
  { name: 'internal-auth' },
)

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook admitting only requests whose gateway identity carries `scope`. */
    identityHook(scope: IdentityScope): onRequestHookHandler
  }
}

export function tenantOf(request: FastifyRequest): string {
  if (request.identity === null) throw new ScimError(401, undefined, 'authentication required')
  return request.identity.tenantId
}
