import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import fp from 'fastify-plugin'
import type { Region, RegionCatalog } from '../../config/region-catalog.ts'
import { clientKindOf, type ClientKind } from '../../lib/client-kind.ts'
import type { IdentityScope } from '../../lib/internal-identity.ts'
import { sendScimError } from '../../lib/scim-reply.ts'
import type { CredentialFailureLimiter } from '../auth/failed-auth-limiter.ts'
import { bearerToken } from '../auth/bearer-token.ts'
import type { IdentityIssuer } from '../identity/identity-issuer.ts'
import type { RegionResolver } from '../routing/resolve-region.ts'
import { isSafeScimPath } from '../routing/safe-scim-path.ts'
import { parseToken, TOKEN_PREFIX, tokenPrefix } from '../tokens/token-format.ts'
import type { AuthOutcome, TokenAuthenticator } from '../tokens/token-authenticator.ts'
import type { TokenRecord } from '../tokens/token-record.ts'
import { REDIS_RETRY_AFTER_SECONDS } from '../tokens/token-store.ts'

/** What an authenticated SCIM request carries to the proxy. */
export interface GatewayContext {
  readonly region: Region
  readonly tenantId: string
  readonly tokenId: string
  readonly identity: string
  /** Read from the User-Agent; passed to the node for the event log. */
  readonly clientKind: ClientKind
}

declare module 'fastify' {
  interface FastifyRequest {
    gateway: GatewayContext | null
  }
}

export interface ProvisioningAuthOptions {
  readonly catalog: RegionCatalog
  readonly resolveRegion: RegionResolver
  readonly authenticator: TokenAuthenticator
  readonly issuer: IdentityIssuer
  readonly failedAuth: CredentialFailureLimiter
  /** Told about every authenticated request (batched "last used" of tokens); must not block. */
  readonly onTokenUse?: (record: TokenRecord, clientKind: ClientKind) => void
  /** Told when an expired token is presented (its event is recorded once); must not block. */
  readonly onExpiredUse?: (record: TokenRecord, request: FastifyRequest, clientKind: ClientKind) => void
}

const UNAUTHORIZED_HEADERS = { 'www-authenticate': 'Bearer realm="scimgate"' }
const PROVISIONING_SCOPES: readonly IdentityScope[] = Object.freeze(['scim'])
const PROVISIONING_AND_ACCESS_SCOPES: readonly IdentityScope[] = Object.freeze(['scim', 'groups:access:write'])

/**
 * The gateway's onRequest gate for SCIM traffic: host → region, bearer
 * provisioning token → tenant, then a signed identity for the region node.
 * The raw token lives only in this hook's local variables.
 */
export const provisioningAuth = fp(
  async (app: FastifyInstance, options: ProvisioningAuthOptions) => {
    const { catalog, resolveRegion, authenticator, issuer, failedAuth } = options
    app.decorateRequest('gateway', null)

    // An identity provider sends the same User-Agent on every request: read it once, not per request.
    let lastAgent: string | undefined
    let lastKind: ClientKind = clientKindOf(undefined)
    const clientKindOfAgent = (agent: string | undefined): ClientKind => {
      if (agent !== lastAgent) {
        lastKind = clientKindOf(agent)
        lastAgent = agent
      }
      return lastKind
    }

    // A token of a region starts `scg_<code>_`: checked by prefix on every request; the full structural check
    // (a CRC32) is the authenticator's, paid once per token while its digest is cached there.
    const tokenPrefixes: ReadonlyMap<string, string> = new Map(catalog.regions.map((r) => [r.code, tokenPrefix(r.code)]))

    const refuse = (reply: FastifyReply, address: string, token: string | undefined, detail: string): FastifyReply => {
      failedAuth.recordFailure(address, token)
      return sendScimError(reply, 401, detail, undefined, UNAUTHORIZED_HEADERS)
    }

    /** The request's token was answered: refuse it, or let the request through with a signed identity. */
    const admit = (request: FastifyRequest, reply: FastifyReply, region: Region, address: string, token: string, outcome: AuthOutcome, done: HookHandlerDoneFunction): void => {
      if (outcome.kind === 'unavailable') {
        sendScimError(reply, 503, 'authentication is temporarily unavailable; retry later', undefined, { 'retry-after': String(REDIS_RETRY_AFTER_SECONDS) })
        return
      }
      const clientKind = clientKindOfAgent(request.headers['user-agent'])
      if (outcome.kind === 'invalid') {
        if (outcome.reason === 'expired' && outcome.record !== undefined && outcome.record.region === region.code) options.onExpiredUse?.(outcome.record, request, clientKind)
        refuse(reply, address, token, 'the provisioning token is not valid')
        return
      }
      const { record } = outcome
      if (record.region !== region.code) {
        refuse(reply, address, token, 'the provisioning token is not valid')
        return
      }
      if (!record.scopes.includes('scim')) {
        sendScimError(reply, 403, 'this token may not provision')
        return
      }
      // Setting group roles and scope is off unless the token was created with it (team admins decide).
      const scopes = record.scopes.includes('groups:access:write') ? PROVISIONING_AND_ACCESS_SCOPES : PROVISIONING_SCOPES
      const claims = { tenantId: record.tenantId, tokenId: record.tokenId, region: region.code, scopes, label: record.label }
      const pass = (identity: string): void => {
        request.gateway = { region, tenantId: record.tenantId, tokenId: record.tokenId, identity, clientKind }
        options.onTokenUse?.(record, clientKind)
        done()
      }
      const identity = issuer.issueCached(outcome.cacheKey, claims)
      if (identity !== undefined) pass(identity)
      else issuer.issue(outcome.cacheKey, claims).then(pass, done)
    }

    // A callback hook: a cached token and identity (the usual request) cost no promise.
    app.addHook('onRequest', (request, reply, done) => {
      if (!isSafeScimPath(request.raw.url ?? '')) return void sendScimError(reply, 400, 'the request path is not a valid SCIM path', 'invalidPath')
      const region = resolveRegion(request.host)
      if (region === undefined) return void sendScimError(reply, 421, 'this host is not a scimgate tenant URL')

      const token = bearerToken(request.headers.authorization)
      // Failures are counted per address, region and presented credential: blocking one never refuses another.
      const address = `${request.ip}|${region.code}`
      const blockedFor = failedAuth.blockedFor(address, token)
      if (blockedFor > 0) return void sendScimError(reply, 429, 'too many failed authentications with this credential; slow down', undefined, { 'retry-after': String(blockedFor) })
      if (token === undefined) return void refuse(reply, address, token, 'a bearer provisioning token is required')
      if (!token.startsWith(tokenPrefixes.get(region.code) ?? TOKEN_PREFIX)) {
        const format = parseToken(token)
        if (format === undefined) return void refuse(reply, address, token, 'the provisioning token is not valid')
        if (format.region !== region.code) {
          // The prefix alone tells the region: nothing about the tenant is looked up or revealed.
          const home = catalog.byCode(format.region)
          return void refuse(reply, address, token, home === undefined ? 'the provisioning token is not valid' : `this token belongs to another region; use the tenant URL ${home.tenantUrl}`)
        }
      }
      // A malformed token of this region's prefix is refused by the authenticator as 'malformed', without I/O.
      const cached = authenticator.authenticateCached?.(token)
      if (cached !== undefined) return admit(request, reply, region, address, token, cached, done)
      authenticator.authenticate(token).then((outcome) => admit(request, reply, region, address, token, outcome, done), done)
    })
  },
  { name: 'provisioning-auth' },
)
