import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RegionForwarder } from './region-forwarder.ts'
import { rawQuery } from './tenant-routes.ts'

// The change feed's longest wait (the node refuses more) plus room for the answer.
const FEED_TIMEOUT_MS = 40_000
const TENANT = '/admin/v1/regions/:region/tenants/:tenant'

type TenantParams = { region: string; tenant: string }

/**
 * A tenant's access decisions, role catalog, change feed and audit trail,
 * answered by the node of its region. Access decisions and the change feed
 * are for product services too (`access:read`: an access credential of the
 * region); the role catalog, the audit trail and the feed's consumers are the team admin's.
 */
export async function accessEventRoutes(app: FastifyInstance, options: { forward: RegionForwarder }): Promise<void> {
  const { forward } = options
  const read = (path: string, timeoutMs?: number) => (request: FastifyRequest<{ Params: TenantParams }>, reply: Parameters<RegionForwarder>[0]) =>
    forward(reply, { region: request.params.region, tenantId: request.params.tenant, method: 'GET', path, query: rawQuery(request), ...(timeoutMs === undefined ? {} : { timeoutMs }) })

  app.get<{ Params: TenantParams }>(`${TENANT}/access`, { config: { permission: 'access:read' } }, read('/access'))
  app.get<{ Params: TenantParams }>(`${TENANT}/changes`, { config: { permission: 'access:read' } }, read('/changes', FEED_TIMEOUT_MS))
  app.get<{ Params: TenantParams }>(`${TENANT}/roles`, { config: { permission: 'tenant:admin' } }, read('/roles'))
  app.put<{ Params: TenantParams }>(`${TENANT}/roles`, { config: { permission: 'tenant:admin' } }, (request, reply) =>
    forward(reply, { region: request.params.region, tenantId: request.params.tenant, method: 'PUT', path: '/roles', body: request.body ?? {} }),
  )
  app.get<{ Params: TenantParams }>(`${TENANT}/events`, { config: { permission: 'tenant:admin' } }, read('/events'))
  // The feed's tracked consumers: their positions and lag, and forgetting a decommissioned one (the team admin's).
  app.get<{ Params: TenantParams }>(`${TENANT}/feed-consumers`, { config: { permission: 'tenant:admin' } }, read('/feed-consumers'))
  app.delete<{ Params: TenantParams & { consumer: string } }>(`${TENANT}/feed-consumers/:consumer`, { config: { permission: 'tenant:admin' } }, (request, reply) =>
    forward(reply, { region: request.params.region, tenantId: request.params.tenant, method: 'DELETE', path: `/feed-consumers/${encodeURIComponent(request.params.consumer)}` }),
  )
}
