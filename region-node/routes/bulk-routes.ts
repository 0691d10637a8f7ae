import type { FastifyInstance } from 'fastify'
import type { ScimLimits } from '../../config/node-config.ts'
import { createBulkService } from '../services/bulk-service.ts'
import type { GroupsService } from '../services/groups-service.ts'
import type { UserCreateBatches } from '../services/user-create-batches.ts'
import type { UsersService } from '../services/users-service.ts'
import { scopeOf, sendScim } from './request-helpers.ts'

export async function bulkRoutes(app: FastifyInstance, options: { users: UsersService; groups: GroupsService; userBatches?: UserCreateBatches; limits: ScimLimits }): Promise<void> {
  const bulk = createBulkService({ users: options.users, groups: options.groups, userBatches: options.userBatches, maxOperations: options.limits.bulkMaxOperations })
  app.post('/Bulk', async (request, reply) => sendScim(reply, 200, await bulk.execute(scopeOf(request), request.body)))
}
