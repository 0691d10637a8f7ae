import type { FastifyInstance } from 'fastify'
import { tenantOf } from '../plugins/internal-auth.ts'
import type { RolesService } from '../services/roles-service.ts'
import { adminScopeOf } from './request-helpers.ts'

/** The tenant's role catalog and default roles. */
export async function rolesRoutes(app: FastifyInstance, options: { roles: RolesService }): Promise<void> {
  app.get('/roles', async (request) => options.roles.get(tenantOf(request)))
  app.put('/roles', async (request) => options.roles.replace(adminScopeOf(request), request.body))
}
