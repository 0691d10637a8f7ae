// One gate for every route of the admin listener (admin API and console).
// Each route declares what it demands (`config: { permission }`, see
// lib/admin-api/contract.ts); a route without a valid declaration fails at
// registration, so a new route cannot be left open by omission. Per request:
// onRequest authenticates (bearer credential or console session, guesses
// limited per address, CSRF on state-changing session requests), preHandler
// (after the body is parsed) checks the principal against the tenant and
// region the request acts on: the `:region`/`:tenant` params by default, or
// the route's own `binding` (token routes: body, query or the token record).
import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CSRF_HEADER, PERMISSIONS, type Permission, type Principal } from '../../lib/admin-api/contract.ts'
import { DependencyUnavailableError, ScimError } from '../../lib/scim-error.ts'
import type { FailedAuthLimiter } from '../auth/failed-auth-limiter.ts'
import { bearerToken } from '../auth/bearer-token.ts'
import { readSessionCookie } from '../console/session-cookie.ts'
import type { ConsoleSession, SessionStore } from '../console/session-store.ts'
import type { TokenStore } from '../tokens/token-store.ts'
import { principalOf, type AdminAuthenticator } from './admin-authentication.ts'
import { permits, type Binding } from './admin-principal.ts'

export type BindingResolver = (request: FastifyRequest) => Binding | undefined | Promise<Binding | undefined>

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: Permission
    /** The tenant and region the request acts on, when not the `:region` and `:tenant` params. */
    binding?: BindingResolver
  }
  interface FastifyRequest {
    principal: Principal | null
    /** Set when the request came with a console session cookie (not a bearer credential). */
    consoleSession: { readonly id: string; readonly session: ConsoleSession } | null
  }
}

export interface AccessControlOptions {
  readonly authenticate: AdminAuthenticator
  readonly sessions: SessionStore
  readonly tokenStore: TokenStore
  readonly failedAuth: FailedAuthLimiter
  readonly now?: () => number
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

function paramsBinding(request: FastifyRequest): Binding | undefined {
  const params = request.params as { region?: unknown; tenant?: unknown } | undefined
  return typeof params?.region === 'string' && typeof params.tenant === 'string' ? { region: params.region, tenantId: params.tenant } : undefined
}

function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Refuses a state-changing session request without the session's CSRF token, or from another origin. */
function checkCsrf(request: FastifyRequest, session: ConsoleSession): void {
  if (SAFE_METHODS.has(request.method)) return
  const presented = request.headers[CSRF_HEADER]
  if (typeof presented !== 'string' || !sameSecret(presented, session.csrfToken)) throw new ScimError(403, undefined, 'missing or wrong CSRF token; reload the console')
  // Defence in depth beside SameSite=Strict: a browser names the page's origin; its host must be ours.
  const origin = request.headers.origin
  if (origin !== undefined && origin !== 'null' && hostOf(origin) !== request.host) throw new ScimError(403, undefined, 'cross-origin request refused')
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host
  } catch {
    return undefined
  }
}

export const accessControl = fp(
  async (app: FastifyInstance, options: AccessControlOptions) => {
    const now = options.now ?? Date.now
    app.decorateRequest('principal', null)
    app.decorateRequest('consoleSession', null)

    app.addHook('onRoute', (route) => {
      const permission = (route.config as { permission?: unknown } | undefined)?.permission
      if (!PERMISSIONS.includes(permission as Permission)) {
        throw new Error(`admin route ${route.method} ${route.url} must declare config.permission (one of ${PERMISSIONS.join(', ')})`)
      }
    })

    async function fromSession(request: FastifyRequest): Promise<Principal | undefined> {
      const id = readSessionCookie(request)
      if (id === undefined || id === '') return undefined
      const session = await options.sessions.touch(id)
      if (session === undefined) return undefined
      // A session lives no longer than its credential: revoked or expired ends it.
      if (session.principal.kind !== 'operator' && principalOf(await options.tokenStore.get(session.principal.credentialId), now()) === undefined) {
        await options.sessions.delete(id)
        return undefined
      }
      request.consoleSession = { id, session }
      return session.principal
    }

    app.addHook('onRequest', async (request) => {
      // Unmatched URLs have no declaration: they still need a credential (their 404 reveals nothing then).
      if (request.routeOptions.config.permission === 'public') return
      const blockedFor = options.failedAuth.blockedFor(request.ip)
      if (blockedFor > 0) throw new ScimError(429, undefined, 'too many failed sign-ins; slow down', { 'retry-after': String(blockedFor) })
      const header = request.headers.authorization
      let principal: Principal | undefined
      try {
        principal = header === undefined ? await fromSession(request) : await options.authenticate(bearerToken(header))
      } catch (error) {
        throw new DependencyUnavailableError('authentication is temporarily unavailable; retry later', 2, { cause: error })
      }
      if (principal === undefined) {
        if (header !== undefined) options.failedAuth.recordFailure(request.ip)
        throw new ScimError(401, undefined, header === undefined ? 'sign in, or send an admin credential as a bearer token' : 'the admin credential is not valid')
      }
      if (request.consoleSession !== null) checkCsrf(request, request.consoleSession.session)
      request.principal = principal
    })

    app.addHook('preHandler', async (request) => {
      const { permission, binding } = request.routeOptions.config
      if (permission === undefined || permission === 'public' || request.principal === null) return
      const target = binding === undefined ? paramsBinding(request) : await binding(request)
      if (!permits(request.principal, permission, target)) throw new ScimError(403, undefined, 'this credential may not act on that tenant or region')
    })
  },
  { name: 'access-control' },
)
