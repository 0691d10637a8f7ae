import type { FastifyInstance } from 'fastify'
import type { GatewayConfig } from '../../config/gateway-config.ts'
import type { SigningKey } from '../../lib/internal-identity.ts'
import { createNodeForwarder, type TenantPathParams } from './node-forwarder.ts'
import './route-permission.ts'

// The change feed's longest wait (the node refuses more) plus room for the answer.
const FEED_TIMEOUT_MS = 40_000
const TENANT = '/admin/v1/regions/:region/tenants/:tenant'

/**
 * A tenant's access decisions, role catalog, change feed and audit trail,
 * answered by the node of its region. Each route names the permission a
 * credential needs in `config.permission`.
 */
export async function accessEventRoutes(app: FastifyInstance, options: { config: GatewayConfig; signingKey: SigningKey }): Promise<void> {
  const forward = createNodeForwarder(options.config, options.signingKey)

  app.get<{ Params: TenantPathParams }>(`${TENANT}/access`, { config: { permission: 'access:read' } }, (request, reply) => forward(request, reply, { path: '/access' }))
  app.get<{ Params: TenantPathParams }>(`${TENANT}/changes`, { config: { permission: 'access:read' } }, (request, reply) => forward(request, reply, { path: '/changes', timeoutMs: FEED_TIMEOUT_MS }))
  app.get<{ Params: TenantPathParams }>(`${TENANT}/roles`, { config: { permission: 'tenant:admin' } }, (request, reply) => forward(request, reply, { path: '/roles' }))
  app.put<{ Params: TenantPathParams }>(`${TENANT}/roles`, { config: { permission: 'tenant:admin' } }, (request, reply) => forward(request, reply, { path: '/roles' }))
  app.get<{ Params: TenantPathParams }>(`${TENANT}/events`, { config: { permission: 'tenant:admin' } }, (request, reply) => forward(request, reply, { path: '/events' }))
}
