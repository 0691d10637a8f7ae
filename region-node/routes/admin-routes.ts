import type { FastifyInstance } from 'fastify'
import { ScimError } from '../../lib/scim-error.ts'
import type { GroupAccess, GroupsService } from '../services/groups-service.ts'
import { adminScopeOf, ifMatchOf, sendScim } from './request-helpers.ts'

function readAccess(body: unknown): GroupAccess {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ScimError(400, 'invalidSyntax', 'send a JSON object with roles and/or scope')
  const { roles, scope } = body as Record<string, unknown>
  if (roles === undefined && scope === undefined) throw new ScimError(400, 'invalidValue', 'send roles, scope or both')
  const access: { roles?: GroupAccess['roles']; scope?: GroupAccess['scope'] } = {}
  if (roles !== undefined) {
    if (!Array.isArray(roles)) throw new ScimError(400, 'invalidValue', 'roles must be an array')
    // Admins may send plain role names; SCIM stores them as { value }
    access.roles = roles.map((role) => (typeof role === 'string' ? { value: role } : (role as { value: string })))
  }
  if (scope !== undefined) access.scope = scope as GroupAccess['scope']
  return access
}

/** Team admins set a group's roles and scope here (through the gateway's admin API); validation is the SCIM schema's. */
export async function adminRoutes(app: FastifyInstance, options: { groups: GroupsService }): Promise<void> {
  app.put<{ Params: { id: string } }>('/groups/:id/access', async (request, reply) => {
    const updated = await options.groups.setAccess(adminScopeOf(request), request.params.id, readAccess(request.body), { ifMatch: ifMatchOf(request) })
    return sendScim(reply, 200, updated.resource, updated.version)
  })
}
