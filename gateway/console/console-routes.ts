import type { FastifyInstance, FastifyReply } from 'fastify'
import type { SessionInfo } from '../../lib/admin-api/contract.ts'
import { signInSchema } from '../../lib/admin-api/request-schemas.ts'
import { DependencyUnavailableError, ScimError } from '../../lib/scim-error.ts'
import type { FailedAuthLimiter } from '../auth/failed-auth-limiter.ts'
import type { AdminAuthenticator } from '../admin/admin-authentication.ts'
import { parseInput } from '../admin/parse-input.ts'
import type { ConsoleAssets } from './console-assets.ts'
import { clearSessionCookie, readSessionCookie, setSessionCookie } from './session-cookie.ts'
import type { SessionStore } from './session-store.ts'

// Nothing inline, nothing from elsewhere: the console works offline and an injected script cannot run.
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers({
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  })
}

export interface ConsoleRoutesOptions {
  readonly assets: ConsoleAssets
  readonly sessions: SessionStore
  readonly authenticate: AdminAuthenticator
  readonly failedAuth: FailedAuthLimiter
}

/** The admin console: its page and hashed assets (public), and sign-in / session / sign-out. */
export async function consoleRoutes(app: FastifyInstance, options: ConsoleRoutesOptions): Promise<void> {
  const { assets, sessions, authenticate, failedAuth } = options
  const publicRoute = { permission: 'public' as const }
  const idleTimeoutSeconds = Math.round(sessions.idleTimeoutMs / 1000)

  app.get('/console', { config: publicRoute }, async (_request, reply) => reply.redirect('/console/', 302))
  const sendPage = async (_request: unknown, reply: FastifyReply) => securityHeaders(reply).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(assets.html)
  app.get('/console/', { config: publicRoute }, sendPage)
  app.get('/console/*', { config: publicRoute }, sendPage)

  app.get<{ Params: { file: string } }>('/console/assets/:file', { config: publicRoute }, async (request, reply) => {
    const file = assets.files.get(request.params.file)
    if (file === undefined) throw new ScimError(404, undefined, 'not found')
    // Names carry a content hash: a new build is a new name, so the old one may be cached for good.
    return securityHeaders(reply).header('cache-control', 'public, max-age=31536000, immutable').type(file.type).send(file.body)
  })

  app.post('/console/api/session', { config: publicRoute }, async (request, reply) => {
    const blockedFor = failedAuth.blockedFor(request.ip)
    if (blockedFor > 0) throw new ScimError(429, undefined, 'too many failed sign-ins; slow down', { 'retry-after': String(blockedFor) })
    const { credential } = parseInput(signInSchema, request.body)
    let principal
    try {
      principal = await authenticate(credential.trim())
    } catch (error) {
      throw new DependencyUnavailableError('sign-in is temporarily unavailable; retry later', 2, { cause: error })
    }
    if (principal === undefined) {
      failedAuth.recordFailure(request.ip)
      throw new ScimError(401, undefined, 'that credential is not valid')
    }
    if (principal.kind === 'access') throw new ScimError(403, undefined, 'access credentials are for services; sign in with an admin credential')
    // A sign-in always starts a new session (no fixation); the one this browser had ends.
    const previous = readSessionCookie(request)
    if (previous !== undefined && previous !== '') await sessions.delete(previous)
    const { id, session } = await sessions.create(principal)
    // The cookie may outlive an idle session; the server decides (idle timeout, absolute lifetime, revocation).
    setSessionCookie(request, reply, id, Math.round(sessions.maxLifetimeMs / 1000))
    const info: SessionInfo = { principal, csrfToken: session.csrfToken, idleTimeoutSeconds }
    return reply.header('cache-control', 'no-store').code(201).send(info)
  })

  app.get('/console/api/session', { config: { permission: 'signed-in' } }, async (request, reply) => {
    const current = request.consoleSession
    if (current === null || request.principal === null) throw new ScimError(401, undefined, 'no console session')
    const info: SessionInfo = { principal: request.principal, csrfToken: current.session.csrfToken, idleTimeoutSeconds }
    return reply.header('cache-control', 'no-store').send(info)
  })

  app.delete('/console/api/session', { config: { permission: 'signed-in' } }, async (request, reply) => {
    if (request.consoleSession !== null) await sessions.delete(request.consoleSession.id)
    clearSessionCookie(request, reply)
    return reply.code(204).send()
  })
}
