import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Region } from '../../config/region-catalog.ts'
import type { RegionInfo, RegionList } from '../../lib/admin-api/contract.ts'
import type { RegionForwarder } from './region-forwarder.ts'
import type { AdminRegions } from './token-routes.ts'

type TenantParams = { region: string; tenant: string }
type IdParams = TenantParams & { id: string }

/** The query string as the client sent it (without `?`), for the node. */
export const rawQuery = (request: FastifyRequest): string => {
  const url = request.raw.url ?? ''
  const index = url.indexOf('?')
  return index < 0 ? '' : url.slice(index + 1)
}

/** OneLogin reaches a region through its `webapi.` host, where the region has one. */
export function regionInfo(region: Region): RegionInfo {
  const oneLoginHost = region.hostnames.find((h) => h.startsWith('webapi.'))
  return { code: region.code, name: region.name, tenantUrl: region.tenantUrl, oneLoginUrl: oneLoginHost === undefined ? null : `https://${oneLoginHost}/scim` }
}

/**
 * The tenant's directory as the console reads it (users, groups, members) and
 * the group access it sets, all answered by the tenant's region node; plus
 * the regions this gateway serves (each principal sees those it may act in).
 */
export async function tenantRoutes(app: FastifyInstance, options: { regions: AdminRegions; forward: RegionForwarder }): Promise<void> {
  const { regions, forward } = options
  const base = '/admin/v1/regions/:region/tenants/:tenant'
  const tenantAdmin = { permission: 'tenant:admin' as const }

  app.get('/admin/v1/regions', { config: { permission: 'signed-in' } }, async (request): Promise<RegionList> => {
    const principal = request.principal
    const served = regions.catalog.regions.filter((r) => regions.servedRegions.includes(r.code))
    const visible = served.filter((r) => principal === null || principal.kind === 'operator' || principal.region === r.code)
    return { regions: visible.map(regionInfo) }
  })

  app.get<{ Params: TenantParams }>(`${base}/users`, { config: tenantAdmin }, (request, reply) =>
    forward(reply, { region: request.params.region, tenantId: request.params.tenant, method: 'GET', path: '/users', query: rawQuery(request) }),
  )
  app.get<{ Params: IdParams }>(`${base}/users/:id`, { config: tenantAdmin }, (request, reply) =>
    forward(reply, { region: request.params.region, tenantId: request.params.tenant, method: 'GET', path: `/users/${encodeURIComponent(request.params.id)}` }),
  )
  app.get<{ Params: TenantParams }>(`${base}/groups`, { config: tenantAdmin }, (request, reply) =>
    forward(reply, { region: request.params.region, tenantId: request.params.tenant, method: 'GET', path: '/groups', query: rawQuery(request) }),
  )
  app.get<{ Params: IdParams }>(`${base}/groups/:id`, { config: tenantAdmin }, (request, reply) =>
    forward(reply, { region: request.params.region, tenantId: request.params.tenant, method: 'GET', path: `/groups/${encodeURIComponent(request.params.id)}` }),
  )
  app.get<{ Params: IdParams }>(`${base}/groups/:id/members`, { config: tenantAdmin }, (request, reply) =>
    forward(reply, { region: request.params.region, tenantId: request.params.tenant, method: 'GET', path: `/groups/${encodeURIComponent(request.params.id)}/members`, query: rawQuery(request) }),
  )
  app.put<{ Params: IdParams }>(`${base}/groups/:id/access`, { config: tenantAdmin }, (request, reply) => {
    const ifMatch = request.headers['if-match']
    return forward(reply, {
      region: request.params.region,
      tenantId: request.params.tenant,
      method: 'PUT',
      path: `/groups/${encodeURIComponent(request.params.id)}/access`,
      body: request.body ?? {},
      ...(typeof ifMatch === 'string' ? { ifMatch } : {}),
    })
  })
}
