import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { z } from 'zod'
import type { GatewayConfig } from '../../config/gateway-config.ts'
import { IDENTITY_HEADER, IDENTITY_SCOPES, signIdentity, type SigningKey } from '../../lib/internal-identity.ts'
import { clientTimeoutOptions } from '../../lib/client-timeouts.ts'
import { loggerOptions } from '../../lib/logger-options.ts'
import { DependencyUnavailableError, ScimError } from '../../lib/scim-error.ts'
import { scimErrorHandling, scimErrorServerOptions } from '../../lib/scim-error-handling.ts'
import { createFailedAuthLimiter } from '../auth/failed-auth-limiter.ts'
import { bearerToken } from '../auth/bearer-token.ts'
import { pickUpstream } from '../routing/pick-upstream.ts'
import { TENANT_ID_PATTERN } from '../tokens/token-input.ts'
import type { TokenRecord } from '../tokens/token-record.ts'
import type { TokenStore } from '../tokens/token-store.ts'
import type { TokenEventContext, TokenUsage } from '../tokens/token-events.ts'
import type { TokenEventRelay } from '../tokens/token-event-relay.ts'
import { createAdminCredentialCheck } from './admin-credential.ts'
import { accessEventRoutes } from './access-event-routes.ts'

export interface AdminApiDependencies {
  readonly tokenStore: TokenStore
  readonly signingKey: SigningKey
  /** Delivers token events to the region nodes; kicked after each token change. */
  readonly tokenEvents?: TokenEventRelay
}

const scopesSchema = z.array(z.enum(IDENTITY_SCOPES)).min(1).optional()
const createSchema = z.strictObject({
  tenantId: z.string().regex(TENANT_ID_PATTERN),
  region: z.string().min(1),
  label: z.string().max(200).optional(),
  expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
  scopes: scopesSchema,
})
const rotateSchema = z.strictObject({ label: z.string().max(200).optional(), expiresAt: z.iso.datetime({ offset: true }).nullable().optional() })

const ADMIN_BODY_LIMIT_BYTES = 65_536

/** What the admin API shows of a token: everything but the secret, and when and by what it was last used. */
function describe(record: TokenRecord, usage?: TokenUsage): Record<string, unknown> {
  return {
    tokenId: record.tokenId,
    tenantId: record.tenantId,
    region: record.region,
    label: record.label,
    scopes: record.scopes,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
    status: record.status,
    lastUsedAt: usage === undefined ? null : new Date(usage.lastUsedAt).toISOString(),
    lastUsedBy: usage?.clientKind ?? null,
  }
}

function adminContext(request: FastifyRequest): TokenEventContext {
  return { actor: { type: 'admin', id: 'admin-api' }, requestId: String(request.id) }
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {})
  if (!result.success) throw new ScimError(400, 'invalidValue', result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '))
  return result.data
}

/**
 * The admin API, on its own port: provisioning tokens (create, list, rotate,
 * revoke) and the roles and scope of a tenant's groups, which it sets on the
 * tenant's region node with an admin identity.
 */
export async function buildAdminApi(config: GatewayConfig, deps: AdminApiDependencies, options: { logger?: FastifyServerOptions['logger'] } = {}): Promise<FastifyInstance> {
  if (config.adminTokenSha256 === undefined) throw new Error('the admin API needs ADMIN_TOKEN_SHA256')
  const isAdmin = createAdminCredentialCheck(config.adminTokenSha256)
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel, 'gateway-admin'),
    bodyLimit: ADMIN_BODY_LIMIT_BYTES,
    ...clientTimeoutOptions(config.clientTimeouts),
    ...scimErrorServerOptions(),
  })

  await app.register(scimErrorHandling, { bodyLimitBytes: ADMIN_BODY_LIMIT_BYTES, notFoundDetail: () => 'not found' })
  // Credential guesses are limited per address before the credential is checked: a blocked address learns nothing.
  const failedAuth = createFailedAuthLimiter({ maxFailures: config.adminFailedAuthPerAddress, windowMs: config.rateLimits.windowMs })
  app.addHook('onRequest', async (request) => {
    const blockedFor = failedAuth.blockedFor(request.ip)
    if (blockedFor > 0) throw new ScimError(429, undefined, 'too many failed admin authentications; slow down', { 'retry-after': String(blockedFor) })
    if (!isAdmin(bearerToken(request.headers.authorization))) {
      failedAuth.recordFailure(request.ip)
      throw new ScimError(401, undefined, 'admin credential required')
    }
  })

  const regionOf = (code: string) => {
    const region = config.catalog.byCode(code)
    if (region === undefined) throw new ScimError(400, 'invalidValue', `unknown region ${code}; the catalog has ${config.catalog.regions.map((r) => r.code).join(', ')}`)
    return region
  }
  /** A region whose traffic reaches this gateway: tokens and group access of other regions belong to their own gateways. */
  const servedRegionOf = (code: string) => {
    const region = regionOf(code)
    if (!config.servedRegions.includes(region.code)) {
      throw new ScimError(400, 'invalidValue', `this gateway serves ${config.servedRegions.join(', ')}, not ${region.code}; use the admin API of ${region.code}'s gateway`)
    }
    return region
  }

  app.post('/admin/v1/tokens', async (request, reply) => {
    const input = parseBody(createSchema, request.body)
    const region = servedRegionOf(input.region)
    const { token, record } = await deps.tokenStore.create(
      {
        tenantId: input.tenantId,
        region: region.code,
        label: input.label,
        scopes: input.scopes,
        expiresAt: input.expiresAt === undefined || input.expiresAt === null ? null : Date.parse(input.expiresAt),
      },
      adminContext(request),
    )
    deps.tokenEvents?.kick()
    return reply.code(201).send({ token, ...describe(record), tenantUrl: region.tenantUrl })
  })

  app.get<{ Querystring: { tenant?: string; region?: string } }>('/admin/v1/tokens', async (request) => {
    const { tenant, region } = request.query
    if (tenant === undefined || !TENANT_ID_PATTERN.test(tenant) || region === undefined) throw new ScimError(400, 'invalidValue', 'tenant and region are required')
    const records = await deps.tokenStore.list(tenant, regionOf(region).code)
    const usage = await deps.tokenStore.usage(records.map((r) => r.tokenId))
    return { tokens: records.map((record) => describe(record, usage.get(record.tokenId))) }
  })

  app.post<{ Params: { id: string } }>('/admin/v1/tokens/:id/rotate', async (request, reply) => {
    const input = parseBody(rotateSchema, request.body)
    const rotated = await deps.tokenStore.rotate(
      request.params.id,
      {
        ...(input.label === undefined ? {} : { label: input.label }),
        ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt === null ? null : Date.parse(input.expiresAt) }),
      },
      adminContext(request),
    )
    if (rotated === undefined) throw new ScimError(404, undefined, `token ${request.params.id} not found`)
    deps.tokenEvents?.kick()
    return reply.code(201).send({ token: rotated.token, ...describe(rotated.record) })
  })

  app.delete<{ Params: { id: string } }>('/admin/v1/tokens/:id', async (request) => {
    const revoked = await deps.tokenStore.revoke(request.params.id, adminContext(request))
    if (revoked === undefined) throw new ScimError(404, undefined, `token ${request.params.id} not found`)
    deps.tokenEvents?.kick()
    return describe(revoked)
  })

  app.put<{ Params: { region: string; tenant: string; id: string } }>('/admin/v1/regions/:region/tenants/:tenant/groups/:id/access', async (request, reply) => {
    const region = servedRegionOf(request.params.region)
    if (!TENANT_ID_PATTERN.test(request.params.tenant)) throw new ScimError(400, 'invalidValue', 'invalid tenant id')
    const identity = await signIdentity(deps.signingKey, { tenantId: request.params.tenant, tokenId: 'admin-api', region: region.code, scopes: ['admin'] }, 60)
    // Routed like the proxy routes SCIM traffic, and conditional on the version the admin saw when asked.
    const upstream = pickUpstream(region)
    const ifMatch = request.headers['if-match']
    let response: Response
    try {
      response = await fetch(`${upstream}/admin/v1/groups/${encodeURIComponent(request.params.id)}/access`, {
        method: 'PUT',
        headers: { [IDENTITY_HEADER]: identity, 'content-type': 'application/json', ...(typeof ifMatch === 'string' ? { 'if-match': ifMatch } : {}) },
        body: JSON.stringify(request.body ?? {}),
        signal: AbortSignal.timeout(config.upstreamTimeouts.headersMs),
      })
    } catch (error) {
      throw new DependencyUnavailableError(`region ${region.code} is unavailable; retry later`, 5, { cause: error })
    }
    const etag = response.headers.get('etag')
    if (etag !== null) reply.header('etag', etag)
    return reply.code(response.status).type(response.headers.get('content-type') ?? 'application/scim+json').send(await response.text())
  })

  await app.register(accessEventRoutes, { config, signingKey: deps.signingKey })

  return app
}
