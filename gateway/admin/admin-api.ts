import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { GatewayConfig } from '../../config/gateway-config.ts'
import { clientTimeoutOptions } from '../../lib/client-timeouts.ts'
import type { SigningKey } from '../../lib/internal-identity.ts'
import { loggerOptions } from '../../lib/logger-options.ts'
import { ScimError } from '../../lib/scim-error.ts'
import { sendScimError } from '../../lib/scim-reply.ts'
import { createFailedAuthLimiter } from '../auth/failed-auth-limiter.ts'
import { loadConsoleAssets } from '../console/console-assets.ts'
import { consoleRoutes } from '../console/console-routes.ts'
import { createMemorySessionStore, createRedisSessionStore } from '../console/session-store.ts'
import { TokenInputError } from '../tokens/token-input.ts'
import type { TokenStore } from '../tokens/token-store.ts'
import { accessControl } from './access-control.ts'
import { createAdminAuthenticator } from './admin-authentication.ts'
import { credentialRoutes } from './credential-routes.ts'
import { createRegionForwarder } from './region-forwarder.ts'
import { tenantRoutes } from './tenant-routes.ts'
import { tokenRoutes } from './token-routes.ts'

export interface AdminApiDependencies {
  readonly tokenStore: TokenStore
  readonly signingKey: SigningKey
  /** Console sessions live here; undefined (embedded mode) keeps them in memory. */
  readonly redis?: Redis | Cluster | undefined
}

const SESSION_MAX_LIFETIME_MS = 12 * 60 * 60 * 1000

/**
 * The admin listener: the admin API (provisioning tokens, credentials, the
 * tenant's directory and group access, forwarded to region nodes) and the
 * console. Every route passes one access-control gate (access-control.ts).
 */
export async function buildAdminApi(config: GatewayConfig, deps: AdminApiDependencies, options: { logger?: FastifyServerOptions['logger'] } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel, 'gateway-admin'),
    bodyLimit: 65_536,
    ...clientTimeoutOptions(config.clientTimeouts),
    requestIdHeader: false,
    exposeHeadRoutes: false,
    frameworkErrors: (_error, _request, reply) => {
      sendScimError(reply, 400, 'the request is not valid HTTP for this service', 'invalidSyntax')
    },
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ScimError) return sendScimError(reply, error.status, error.message, error.scimType, { ...error.headers })
    if (error instanceof TokenInputError) return sendScimError(reply, 400, error.problems.join('; '), 'invalidValue')
    if (error.statusCode !== undefined && error.statusCode < 500) return sendScimError(reply, error.statusCode, 'the request is not valid', 'invalidSyntax')
    request.log.error({ err: error }, 'admin API error')
    const unavailable = /ECONNREFUSED|ETIMEDOUT|Connection is closed|timed out|Stream isn't writeable/i.test(`${error.message} ${(error as { code?: string }).code ?? ''}`)
    return unavailable ? sendScimError(reply, 503, 'a dependency is unavailable; retry later', undefined, { 'retry-after': '2' }) : sendScimError(reply, 500, `internal error; quote request id ${request.id}`)
  })
  app.setNotFoundHandler((_request, reply) => sendScimError(reply, 404, 'not found'))

  const authenticate = createAdminAuthenticator({ operatorSha256: config.adminTokenSha256, tokenStore: deps.tokenStore })
  // Credential guesses are limited per address before the credential is checked: a blocked address learns nothing.
  const failedAuth = createFailedAuthLimiter({ maxFailures: config.adminFailedAuthPerAddress, windowMs: config.rateLimits.windowMs })
  const sessionOptions = { idleTimeoutMs: config.console.idleTimeoutMs, maxLifetimeMs: SESSION_MAX_LIFETIME_MS }
  const sessions = deps.redis === undefined ? createMemorySessionStore(sessionOptions) : createRedisSessionStore(deps.redis, config.redisKeyPrefix, sessionOptions)

  await app.register(accessControl, { authenticate, sessions, tokenStore: deps.tokenStore, failedAuth })
  const regions = { catalog: config.catalog, servedRegions: config.servedRegions }
  await app.register(tokenRoutes, { regions, tokenStore: deps.tokenStore })
  await app.register(credentialRoutes, { regions, tokenStore: deps.tokenStore })
  const forward = createRegionForwarder({ regions, signingKey: deps.signingKey, timeouts: config.upstreamTimeouts })
  await app.register(tenantRoutes, { regions, forward })
  await app.register(consoleRoutes, { assets: await loadConsoleAssets(config.console.assetsDir), sessions, authenticate, failedAuth })

  return app
}
