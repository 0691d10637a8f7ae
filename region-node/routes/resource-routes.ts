import type { FastifyInstance } from 'fastify'
import type { ScimLimits } from '../../config/node-config.ts'
import { conditionMatches, formatVersion } from '../scim/etag.ts'
import { parseListRequest } from '../scim/list-request.ts'
import { isProjectionRequested, parseAttributeList, projectResource } from '../scim/projection/index.ts'
import { USER_RESOURCE_TYPE } from '../scim/schema/index.ts'
import type { GroupsService } from '../services/groups-service.ts'
import type { UsersService } from '../services/users-service.ts'
import { ifMatchOf, ifNoneMatchOf, scopeOf, searchRequestInput, sendScim, type QueryParams } from './request-helpers.ts'

export interface ResourceRoutesOptions {
  readonly users: UsersService
  readonly groups: GroupsService
  readonly limits: ScimLimits
}

interface IdParams {
  id: string
}

function attributeRequest(query: QueryParams): { attributes: string[]; excludedAttributes: string[] } {
  const text = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(',') : value)
  return { attributes: parseAttributeList(text(query.attributes)), excludedAttributes: parseAttributeList(text(query.excludedAttributes)) }
}

/** RFC 7644 §3.2–§3.6 for /Users and /Groups: thin handlers over the services. */
export async function resourceRoutes(app: FastifyInstance, options: ResourceRoutesOptions): Promise<void> {
  const { users, groups, limits } = options

  for (const [endpoint, service] of [
    ['/Users', users],
    ['/Groups', groups],
  ] as const) {
    app.get<{ Querystring: QueryParams }>(endpoint, async (request, reply) => {
      const list = await service.list(scopeOf(request), parseListRequest(request.query, limits))
      return sendScim(reply, 200, list)
    })

    app.post(`${endpoint}/.search`, async (request, reply) => {
      const list = await service.list(scopeOf(request), parseListRequest(searchRequestInput(request.body), limits))
      return sendScim(reply, 200, list)
    })

    app.post(endpoint, async (request, reply) => {
      const created = await service.create(scopeOf(request), request.body)
      const location = (created.resource.meta as { location?: string } | undefined)?.location
      if (location !== undefined) reply.header('location', location)
      return sendScim(reply, 201, created.resource, created.version)
    })

    app.get<{ Params: IdParams; Querystring: QueryParams }>(`${endpoint}/:id`, async (request, reply) => {
      const found = await service.get(scopeOf(request), request.params.id, attributeRequest(request.query))
      const ifNoneMatch = ifNoneMatchOf(request)
      if (ifNoneMatch !== undefined && conditionMatches(ifNoneMatch, found.version)) {
        return reply.code(304).header('etag', formatVersion(found.version)).send()
      }
      return sendScim(reply, 200, found.resource, found.version)
    })

    app.put<{ Params: IdParams }>(`${endpoint}/:id`, async (request, reply) => {
      const replaced = await service.replace(scopeOf(request), request.params.id, request.body, { ifMatch: ifMatchOf(request) })
      return sendScim(reply, 200, replaced.resource, replaced.version)
    })

    app.delete<{ Params: IdParams }>(`${endpoint}/:id`, async (request, reply) => {
      await service.delete(scopeOf(request), request.params.id, { ifMatch: ifMatchOf(request) })
      return reply.code(204).send()
    })
  }

  app.patch<{ Params: IdParams; Querystring: QueryParams }>('/Users/:id', async (request, reply) => {
    const patched = await users.patch(scopeOf(request), request.params.id, request.body, { ifMatch: ifMatchOf(request) })
    const requested = attributeRequest(request.query)
    return sendScim(reply, 200, isProjectionRequested(requested) ? projectResource(patched.resource, USER_RESOURCE_TYPE, requested) : patched.resource, patched.version)
  })

  // Entra ID expects 204 from a group PATCH; RFC 7644 §3.5.2 allows it. A client that asks for attributes gets 200 with them.
  app.patch<{ Params: IdParams; Querystring: QueryParams }>('/Groups/:id', async (request, reply) => {
    const requested = attributeRequest(request.query)
    const wantsBody = requested.attributes.length > 0 || requested.excludedAttributes.length > 0
    const patched = await groups.patch(scopeOf(request), request.params.id, request.body, { ifMatch: ifMatchOf(request) }, wantsBody ? requested : undefined)
    if (patched.resource === undefined) return reply.code(204).header('etag', formatVersion(patched.version)).send()
    return sendScim(reply, 200, patched.resource, patched.version)
  })
}
