import type { FastifyInstance } from 'fastify'
import type { ScimLimits } from '../../config/node-config.ts'
import { ScimError } from '../../lib/scim-error.ts'
import { tenantOf } from '../plugins/internal-auth.ts'
import { GROUP_ACCESS_SCHEMA, LIST_RESPONSE_SCHEMA, RESOURCE_TYPES, resourceTypeDocument, schemasDocument, serviceProviderConfigDocument } from '../scim/schema/index.ts'
import type { SchemaDefinition } from '../scim/schema/types.ts'
import { publicBaseUrl, sendScim } from './request-helpers.ts'

const ALL_SCHEMAS: readonly SchemaDefinition[] = [
  ...new Map(RESOURCE_TYPES.flatMap((rt) => [rt.schema, ...rt.extensions.map((e) => e.schema)]).map((s) => [s.id, s])).values(),
]

function listOf(resources: readonly unknown[]): Record<string, unknown> {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources }
}

type JsonAttribute = { name?: unknown; subAttributes?: JsonAttribute[]; canonicalValues?: unknown }

/** The access extension's `roles.value` lists the tenant's role catalog (RFC 7643 §7 canonicalValues). */
function withRoleCatalog(document: Record<string, unknown>, roles: readonly string[]): Record<string, unknown> {
  const attributes = (document.attributes as JsonAttribute[]).map((attribute) =>
    attribute.name !== 'roles'
      ? attribute
      : { ...attribute, subAttributes: attribute.subAttributes?.map((sub) => (sub.name === 'value' ? { ...sub, canonicalValues: [...roles] } : sub)) },
  )
  return { ...document, attributes }
}

export interface DiscoveryOptions {
  readonly limits: ScimLimits
  /** The tenant's role catalog, shown in the access extension's schema. */
  readonly roleCatalog: (tenantId: string) => Promise<readonly string[]>
}

/** RFC 7644 §4: discovery, generated from the same schema data that drives validation. */
export async function discoveryRoutes(app: FastifyInstance, options: DiscoveryOptions): Promise<void> {
  const { limits } = options
  const base = publicBaseUrl
  const schemaDocument = async (schema: SchemaDefinition, tenantId: string, baseUrl: string): Promise<Record<string, unknown>> => {
    const document = schemasDocument(schema, baseUrl)
    return schema.id === GROUP_ACCESS_SCHEMA ? withRoleCatalog(document, await options.roleCatalog(tenantId)) : document
  }

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

  app.get('/Schemas', async (request, reply) => sendScim(reply, 200, listOf(await Promise.all(ALL_SCHEMAS.map((s) => schemaDocument(s, tenantOf(request), base(request)))))))
  app.get<{ Params: { id: string } }>('/Schemas/:id', async (request, reply) => {
    const found = ALL_SCHEMAS.find((s) => s.id.toLowerCase() === request.params.id.toLowerCase())
    if (found === undefined) throw new ScimError(404, undefined, `schema ${request.params.id} not found`)
    return sendScim(reply, 200, await schemaDocument(found, tenantOf(request), base(request)))
  })
}
