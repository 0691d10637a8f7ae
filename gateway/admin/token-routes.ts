import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RegionCatalog } from '../../config/region-catalog.ts'
import type { IssuedToken, TokenList, TokenView } from '../../lib/admin-api/contract.ts'
import { createTokenSchema, rotateTokenSchema } from '../../lib/admin-api/request-schemas.ts'
import { ScimError } from '../../lib/scim-error.ts'
import { TENANT_ID_PATTERN } from '../tokens/token-input.ts'
import type { TokenEventRelay } from '../tokens/token-event-relay.ts'
import type { TokenEventContext } from '../tokens/token-events.ts'
import type { TokenRecord } from '../tokens/token-record.ts'
import type { TokenStore } from '../tokens/token-store.ts'
import type { Binding } from './admin-principal.ts'
import { parseInput } from './parse-input.ts'
import { describeToken } from './token-view.ts'

/** The catalog and the regions whose traffic reaches this gateway (SCIMGATE_REGION). */
export interface AdminRegions {
  readonly catalog: RegionCatalog
  readonly servedRegions: readonly string[]
}

export function regionOf(catalog: RegionCatalog, code: string) {
  const region = catalog.byCode(code)
  if (region === undefined) throw new ScimError(400, 'invalidValue', `unknown region ${code}; the catalog has ${catalog.regions.map((r) => r.code).join(', ')}`)
  return region
}

/** A region this gateway serves: tokens, credentials and tenant data of other regions belong to their own gateways. */
export function servedRegionOf(regions: AdminRegions, code: string) {
  const region = regionOf(regions.catalog, code)
  if (!regions.servedRegions.includes(region.code)) {
    throw new ScimError(400, 'invalidValue', `this gateway serves ${regions.servedRegions.join(', ')}, not ${region.code}; use the admin API of ${region.code}'s gateway`)
  }
  return region
}

const bodyBinding = (request: FastifyRequest): Binding | undefined => {
  const body = request.body as { tenantId?: unknown; region?: unknown } | undefined
  return typeof body?.tenantId === 'string' && typeof body.region === 'string' ? { tenantId: body.tenantId, region: body.region } : undefined
}
const queryBinding = (request: FastifyRequest): Binding | undefined => {
  const query = request.query as { tenant?: unknown; region?: unknown }
  return typeof query.tenant === 'string' && typeof query.region === 'string' ? { tenantId: query.tenant, region: query.region } : undefined
}

/** Who acts through the admin API, for the events a change writes: the credential the access-control gate authenticated. */
export function adminActorId(request: FastifyRequest): string {
  const principal = request.principal
  return principal === null ? 'admin-api' : principal.kind === 'operator' ? 'operator' : principal.credentialId
}

export function adminContext(request: FastifyRequest): TokenEventContext {
  return { actor: { type: 'admin', id: adminActorId(request) }, requestId: String(request.id) }
}

/**
 * Provisioning tokens (create, list, rotate, revoke) for the operator and for
 * the team admin of the token's tenant and region. Admin and access
 * credentials are not tokens here: /admin/v1/credentials manages them.
 * Each change writes a token event (relayed to the region's node, kicked
 * here so it need not wait for the relay's next round); listings show when
 * and by which identity provider each token was last used.
 */
export async function tokenRoutes(app: FastifyInstance, options: { regions: AdminRegions; tokenStore: TokenStore; tokenEvents?: TokenEventRelay | undefined }): Promise<void> {
  const { regions, tokenStore, tokenEvents } = options
  const { catalog } = regions

  /** The provisioning token behind `:id`, or 404 (also for credentials: they are not tokens). */
  async function provisioningToken(id: string): Promise<TokenRecord> {
    const record = await tokenStore.get(id)
    if (record === undefined || record.kind !== 'provisioning') throw new ScimError(404, undefined, `token ${id} not found`)
    return record
  }
  const recordBinding = async (request: FastifyRequest): Promise<Binding> => {
    const record = await provisioningToken((request.params as { id: string }).id)
    return { tenantId: record.tenantId, region: record.region }
  }

  app.post('/admin/v1/tokens', { config: { permission: 'tenant:admin', binding: bodyBinding } }, async (request, reply) => {
    const input = parseInput(createTokenSchema, request.body)
    if (!TENANT_ID_PATTERN.test(input.tenantId)) throw new ScimError(400, 'invalidValue', 'tenantId: invalid tenant id')
    const region = servedRegionOf(regions, input.region)
    const { token, record } = await tokenStore.create(
      {
        tenantId: input.tenantId,
        region: region.code,
        label: input.label,
        scopes: input.scopes,
        expiresAt: input.expiresAt === undefined || input.expiresAt === null ? null : Date.parse(input.expiresAt),
      },
      adminContext(request),
    )
    tokenEvents?.kick()
    const issued: IssuedToken = { token, ...describeToken(record, null), tenantUrl: region.tenantUrl }
    return reply.code(201).send(issued)
  })

  app.get<{ Querystring: { tenant?: string; region?: string } }>('/admin/v1/tokens', { config: { permission: 'tenant:admin', binding: queryBinding } }, async (request): Promise<TokenList> => {
    const { tenant, region } = request.query
    if (tenant === undefined || !TENANT_ID_PATTERN.test(tenant) || region === undefined) throw new ScimError(400, 'invalidValue', 'tenant and region are required')
    const records = (await tokenStore.list(tenant, regionOf(catalog, region).code)).filter((r) => r.kind === 'provisioning')
    const usage = await tokenStore.usage(records.map((r) => r.tokenId))
    return { tokens: records.map((r) => describeToken(r, usage.get(r.tokenId) ?? null)) }
  })

  app.post<{ Params: { id: string } }>('/admin/v1/tokens/:id/rotate', { config: { permission: 'tenant:admin', binding: recordBinding } }, async (request, reply) => {
    const input = parseInput(rotateTokenSchema, request.body)
    await provisioningToken(request.params.id)
    const rotated = await tokenStore.rotate(
      request.params.id,
      {
        ...(input.label === undefined ? {} : { label: input.label }),
        ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt === null ? null : Date.parse(input.expiresAt) }),
      },
      adminContext(request),
    )
    if (rotated === undefined) throw new ScimError(404, undefined, `token ${request.params.id} not found`)
    tokenEvents?.kick()
    const issued: IssuedToken = { token: rotated.token, ...describeToken(rotated.record, null), tenantUrl: regionOf(catalog, rotated.record.region).tenantUrl }
    return reply.code(201).send(issued)
  })

  app.delete<{ Params: { id: string } }>('/admin/v1/tokens/:id', { config: { permission: 'tenant:admin', binding: recordBinding } }, async (request): Promise<TokenView> => {
    await provisioningToken(request.params.id)
    const revoked = await tokenStore.revoke(request.params.id, adminContext(request))
    if (revoked === undefined) throw new ScimError(404, undefined, `token ${request.params.id} not found`)
    tokenEvents?.kick()
    const usage = await tokenStore.usage([revoked.tokenId])
    return describeToken(revoked, usage.get(revoked.tokenId) ?? null)
  })
}
