import type { FastifyInstance } from 'fastify'
import type { z } from 'zod'
import { groupQuerySchema, pageQuerySchema, userQuerySchema } from '../../lib/admin-api/request-schemas.ts'
import { ScimError } from '../../lib/scim-error.ts'
import { tenantOf } from '../plugins/internal-auth.ts'
import type { DirectoryService } from '../services/directory-service.ts'

function readQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(query ?? {})
  if (!parsed.success) throw new ScimError(400, 'invalidValue', parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '))
  return parsed.data
}

/** The console's reads of the tenant's users and groups (through the gateway's admin API, with an admin identity). */
export async function directoryRoutes(app: FastifyInstance, options: { directory: DirectoryService }): Promise<void> {
  const { directory } = options
  app.get('/users', async (request) => directory.users(tenantOf(request), readQuery(userQuerySchema, request.query)))
  app.get<{ Params: { id: string } }>('/users/:id', async (request) => directory.user(tenantOf(request), request.params.id))
  app.get('/groups', async (request) => directory.groups(tenantOf(request), readQuery(groupQuerySchema, request.query)))
  app.get<{ Params: { id: string } }>('/groups/:id', async (request) => directory.group(tenantOf(request), request.params.id))
  app.get<{ Params: { id: string } }>('/groups/:id/members', async (request) => directory.members(tenantOf(request), request.params.id, readQuery(pageQuerySchema, request.query)))
}
