import type { FastifyInstance } from 'fastify'
import type { ScimLimits } from '../../config/node-config.ts'
import { ScimError, isScimError } from '../../lib/scim-error.ts'
import { parseListRequest, type ListRequest } from '../scim/list-request.ts'
import { LIST_RESPONSE_SCHEMA } from '../scim/schema/index.ts'
import type { GroupsService } from '../services/groups-service.ts'
import type { RequestScope } from '../services/service-context.ts'
import type { UsersService } from '../services/users-service.ts'
import { scopeOf, searchRequestInput, sendScim } from './request-helpers.ts'

interface ListResult {
  totalResults: number
  Resources: unknown[]
}

/** A filter that names an attribute one resource type lacks matches nothing of that type (RFC 7644 §3.4.3). */
async function listOrEmpty(list: () => Promise<Record<string, unknown>>): Promise<ListResult | ScimError> {
  try {
    return (await list()) as unknown as ListResult
  } catch (error) {
    if (isScimError(error) && error.scimType === 'invalidFilter') return error
    throw error
  }
}

/** RFC 7644 §3.4.3: POST /.search at the root searches Users, then Groups, as one result list. */
export async function searchRoutes(app: FastifyInstance, options: { users: UsersService; groups: GroupsService; limits: ScimLimits }): Promise<void> {
  app.post('/.search', async (request, reply) => {
    const parsed = parseListRequest(searchRequestInput(request.body), options.limits)
    if (parsed.paging.kind !== 'index') throw new ScimError(400, 'invalidValue', 'a search across resource types pages by startIndex, not cursor')
    const scope: RequestScope = scopeOf(request)
    const { startIndex, count } = parsed.paging
    const users = await listOrEmpty(() => options.users.list(scope, parsed))
    const usersTotal = users instanceof ScimError ? 0 : users.totalResults
    const usersPage = users instanceof ScimError ? [] : users.Resources
    // Groups fill what is left of the page, counting on from the last user
    const groupsStart = Math.max(1, startIndex - usersTotal)
    const groupsRequest: ListRequest = { ...parsed, paging: { kind: 'index', startIndex: groupsStart, count: Math.max(0, count - usersPage.length) } }
    const groups = await listOrEmpty(() => options.groups.list(scope, groupsRequest))
    if (users instanceof ScimError && groups instanceof ScimError) throw users
    const groupsTotal = groups instanceof ScimError ? 0 : groups.totalResults
    const groupsPage = groups instanceof ScimError ? [] : groups.Resources
    const resources = [...usersPage, ...groupsPage]
    return sendScim(reply, 200, {
      schemas: [LIST_RESPONSE_SCHEMA],
      totalResults: usersTotal + groupsTotal,
      itemsPerPage: resources.length,
      startIndex,
      Resources: resources,
    })
  })
}
