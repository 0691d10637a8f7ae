import type { FastifyInstance } from 'fastify'
import type { ScimLimits } from '../../config/node-config.ts'
import { ScimError } from '../../lib/scim-error.ts'
import { LIST_RESPONSE_SCHEMA, RESOURCE_TYPES, resourceTypeDocument, schemasDocument, serviceProviderConfigDocument } from '../scim/schema/index.ts'
import type { SchemaDefinition } from '../scim/schema/types.ts'
import { publicBaseUrl, sendScim } from './request-helpers.ts'

const ALL_SCHEMAS: readonly SchemaDefinition[] = [
  ...new Map(RESOURCE_TYPES.flatMap((rt) => [rt.schema, ...rt.extensions.map((e) => e.schema)]).map((s) => [s.id, s])).values(),
]

function listOf(resources: readonly unknown[]): Record<string, unknown> {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources }
}

/** RFC 7644 §4: discovery, generated from the same schema data that drives validation. */
export async function discoveryRoutes(app: FastifyInstance, options: { limits: ScimLimits }): Promise<void> {
  const { limits } = options
  const base = publicBaseUrl

  app.get('/ServiceProviderConfig', async (request, reply) =>
    sendScim(
      reply,
      200,
      serviceProviderConfigDocument({
        baseUrl: base(request),
        bulk: { maxOperations: limits.bulkMaxOperations, maxPayloadSize: limits.bulkMaxPayloadBytes },
        filterMaxResults: limits.maxPageSize,
        pagination: {
          cursor: true,
          index: true,
          defaultPaginationMethod: 'index',
          defaultPageSize: limits.defaultPageSize,
          maxPageSize: limits.maxPageSize,
          cursorTimeout: limits.cursorTtlSeconds,
        },
      }),
    ),
  )

  app.get('/ResourceTypes', async (request, reply) => sendScim(reply, 200, listOf(RESOURCE_TYPES.map((rt) => resourceTypeDocument(rt, base(request))))))
  app.get<{ Params: { id: string } }>('/ResourceTypes/:id', async (request, reply) => {
    const found = RESOURCE_TYPES.find((rt) => rt.id.toLowerCase() === request.params.id.toLowerCase())
    if (found === undefined) throw new ScimError(404, undefined, `resource type ${request.params.id} not found`)
    return sendScim(reply, 200, resourceTypeDocument(found, base(request)))
  })

  app.get('/Schemas', async (request, reply) => sendScim(reply, 200, listOf(ALL_SCHEMAS.map((s) => schemasDocument(s, base(request))))))
  app.get<{ Params: { id: string } }>('/Schemas/:id', async (request, reply) => {
    const found = ALL_SCHEMAS.find((s) => s.id.toLowerCase() === request.params.id.toLowerCase())
    if (found === undefined) throw new ScimError(404, undefined, `schema ${request.params.id} not found`)
    return sendScim(reply, 200, schemasDocument(found, base(request)))
  })
}
