import type { FastifyInstance } from 'fastify'
import type { IssuedToken, TokenList, TokenView } from '../../lib/admin-api/contract.ts'
import { createCredentialSchema, rotateTokenSchema } from '../../lib/admin-api/request-schemas.ts'
import { ScimError } from '../../lib/scim-error.ts'
import { ALL_TENANTS, TENANT_ID_PATTERN } from '../tokens/token-input.ts'
import type { TokenEventRelay } from '../tokens/token-event-relay.ts'
import type { TokenRecord } from '../tokens/token-record.ts'
import type { TokenStore } from '../tokens/token-store.ts'
import { parseInput } from './parse-input.ts'
import { adminContext, regionOf, servedRegionOf, type AdminRegions } from './token-routes.ts'
import { describeToken } from './token-view.ts'

/**
 * Admin and access credentials, for the operator only (what `scimgate credential …` does, over HTTP).
 * Changes to an admin credential are token events of its tenant, like those of provisioning tokens.
 */
export async function credentialRoutes(app: FastifyInstance, options: { regions: AdminRegions; tokenStore: TokenStore; tokenEvents?: TokenEventRelay | undefined }): Promise<void> {
  const { regions, tokenStore, tokenEvents } = options
  const { catalog } = regions
  const config = { permission: 'operator' as const }

  async function credential(id: string): Promise<TokenRecord> {
    const record = await tokenStore.get(id)
    if (record === undefined || record.kind === 'provisioning') throw new ScimError(404, undefined, `credential ${id} not found`)
    return record
  }

  app.post('/admin/v1/credentials', { config }, async (request, reply) => {
    const input = parseInput(createCredentialSchema, request.body)
    if (input.kind === 'admin' && (input.tenantId === undefined || !TENANT_ID_PATTERN.test(input.tenantId))) throw new ScimError(400, 'invalidValue', 'tenantId: an admin credential needs a valid tenant id')
    if (input.kind === 'access' && input.tenantId !== undefined) throw new ScimError(400, 'invalidValue', 'tenantId: an access credential serves every tenant of its region; leave it out')
    const region = servedRegionOf(regions, input.region)
    const { token, record } = await tokenStore.create(
      {
        kind: input.kind,
        tenantId: input.kind === 'access' ? ALL_TENANTS : (input.tenantId ?? ''),
        region: region.code,
        label: input.label,
        expiresAt: input.expiresAt === undefined || input.expiresAt === null ? null : Date.parse(input.expiresAt),
      },
      adminContext(request),
    )
    tokenEvents?.kick()
    const issued: IssuedToken = { token, ...describeToken(record) }
    return reply.code(201).send(issued)
  })

  app.get<{ Querystring: { region?: string; tenant?: string } }>('/admin/v1/credentials', { config }, async (request): Promise<TokenList> => {
    const { region, tenant } = request.query
    if (region === undefined) throw new ScimError(400, 'invalidValue', 'region is required')
    if (tenant !== undefined && !TENANT_ID_PATTERN.test(tenant)) throw new ScimError(400, 'invalidValue', 'invalid tenant id')
    const records = await tokenStore.list(tenant ?? ALL_TENANTS, regionOf(catalog, region).code)
    return { tokens: records.filter((r) => r.kind !== 'provisioning').map((r) => describeToken(r)) }
  })

  app.post<{ Params: { id: string } }>('/admin/v1/credentials/:id/rotate', { config }, async (request, reply) => {
    const input = parseInput(rotateTokenSchema, request.body)
    await credential(request.params.id)
    const rotated = await tokenStore.rotate(
      request.params.id,
      {
        ...(input.label === undefined ? {} : { label: input.label }),
        ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt === null ? null : Date.parse(input.expiresAt) }),
      },
      adminContext(request),
    )
    if (rotated === undefined) throw new ScimError(404, undefined, `credential ${request.params.id} not found`)
    tokenEvents?.kick()
    const issued: IssuedToken = { token: rotated.token, ...describeToken(rotated.record) }
    return reply.code(201).send(issued)
  })

  app.delete<{ Params: { id: string } }>('/admin/v1/credentials/:id', { config }, async (request): Promise<TokenView> => {
    await credential(request.params.id)
    const revoked = await tokenStore.revoke(request.params.id, adminContext(request))
    if (revoked === undefined) throw new ScimError(404, undefined, `credential ${request.params.id} not found`)
    tokenEvents?.kick()
    return describeToken(revoked)
  })
}
