import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { Agent } from 'undici'
import type { GatewayConfig } from '../../config/gateway-config.ts'
import { clientTimeoutOptions } from '../../lib/client-timeouts.ts'
import type { SigningKey } from '../../lib/internal-identity.ts'
import { loggerOptions } from '../../lib/logger-options.ts'
import { scimErrorHandling, scimErrorServerOptions } from '../../lib/scim-error-handling.ts'
import { createFailedAuthLimiter } from '../auth/failed-auth-limiter.ts'
import { loadConsoleAssets } from '../console/console-assets.ts'
import { consoleRoutes } from '../console/console-routes.ts'
import { createMemorySessionStore, createRedisSessionStore } from '../console/session-store.ts'
import type { TokenStore } from '../tokens/token-store.ts'
import type { TokenEventRelay } from '../tokens/token-event-relay.ts'
import { accessControl } from './access-control.ts'
import { accessEventRoutes } from './access-event-routes.ts'
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
  /** Delivers token events to the region nodes; kicked after each token change. */
  readonly tokenEvents?: TokenEventRelay
}

const SESSION_MAX_LIFETIME_MS = 12 * 60 * 60 * 1000
const ADMIN_BODY_LIMIT_BYTES = 65_536

/**
 * The admin listener: the admin API (provisioning tokens, credentials, the
 * tenant's directory, group access, access decisions, role catalog, change
 * feed and audit trail, forwarded to region nodes) and the console. Every route passes one access-control gate (access-control.ts).
 */
export async function buildAdminApi(config: GatewayConfig, deps: AdminApiDependencies, options: { logger?: FastifyServerOptions['logger'] } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel, 'gateway-admin'),
    bodyLimit: ADMIN_BODY_LIMIT_BYTES,
    ...clientTimeoutOptions(config.clientTimeouts),
    ...scimErrorServerOptions(),
    requestIdHeader: false,
    exposeHeadRoutes: false,
  })
  await app.register(scimErrorHandling, { bodyLimitBytes: ADMIN_BODY_LIMIT_BYTES, notFoundDetail: () => 'not found' })

  const authenticate = createAdminAuthenticator({ operatorSha256: config.adminTokenSha256, tokenStore: deps.tokenStore })
  // Credential guesses are limited per address before the credential is checked: a blocked address learns nothing.
  const failedAuth = createFailedAuthLimiter({ maxFailures: config.adminFailedAuthPerAddress, windowMs: config.rateLimits.windowMs })
  const sessionOptions = { idleTimeoutMs: config.console.idleTimeoutMs, maxLifetimeMs: SESSION_MAX_LIFETIME_MS }
  const sessions = deps.redis === undefined ? createMemorySessionStore(sessionOptions) : createRedisSessionStore(deps.redis, config.redisKeyPrefix, sessionOptions)

  await app.register(accessControl, { authenticate, sessions, tokenStore: deps.tokenStore, failedAuth })
  const regions = { catalog: config.catalog, servedRegions: config.servedRegions }
  await app.register(tokenRoutes, { regions, tokenStore: deps.tokenStore, tokenEvents: deps.tokenEvents })
  await app.register(credentialRoutes, { regions, tokenStore: deps.tokenStore, tokenEvents: deps.tokenEvents })
  // Nodes are verified as the proxy verifies them: against UPSTREAM_TLS_CA_FILE when set.
  const nodeAgent = new Agent({ connect: { rejectUnauthorized: true, ...(config.upstreamTlsCa === undefined ? {} : { ca: config.upstreamTlsCa }) } })
  app.addHook('onClose', () => nodeAgent.close())
  const forward = createRegionForwarder({ regions, signingKey: deps.signingKey, timeouts: config.upstreamTimeouts, dispatcher: nodeAgent })
  await app.register(tenantRoutes, { regions, forward })
  await app.register(accessEventRoutes, { forward })
  await app.register(consoleRoutes, { assets: await loadConsoleAssets(config.console.assetsDir), sessions, authenticate, failedAuth })

  return app
}
