import type { FastifyInstance } from 'fastify'
import { ScimError } from '../../lib/scim-error.ts'
import { tenantOf } from '../plugins/internal-auth.ts'
import type { AccessService } from '../services/access-service.ts'
import type { UserKey } from '../storage/access-store.ts'
import { textParam } from './query-params.ts'
import type { QueryParams } from './request-helpers.ts'

const KEYS = ['userName', 'externalId', 'id'] as const

function userKeyOf(query: QueryParams): UserKey {
  const given = KEYS.flatMap((kind) => {
    const value = textParam(query, kind)
    return value === undefined ? [] : [{ kind, value }]
  })
  if (given.length !== 1) throw new ScimError(400, 'invalidValue', 'name the user by exactly one of userName, externalId or id')
  return given[0]!
}

/** May this user sign in, and with what roles and scope? 200 with allowed=false for unknown and deactivated users. */
export async function accessRoutes(app: FastifyInstance, options: { access: AccessService }): Promise<void> {
  app.get<{ Querystring: QueryParams }>('/access', async (request) => options.access.decide(tenantOf(request), userKeyOf(request.query)))
}
