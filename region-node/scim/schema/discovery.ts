// RFC 7643 §5–§7 and §8.5–§8.7: the discovery documents served by
// /ServiceProviderConfig, /ResourceTypes and /Schemas, built from the schema
// data so they can never disagree with validation or projection.
import type { AttributeDefinition, ResourceTypeDefinition, SchemaDefinition } from './types.ts'
import { RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA } from './urns.ts'

export type JsonObject = { [key: string]: unknown }

export interface ServiceProviderConfigOptions {
  readonly baseUrl: string
  readonly bulk: { readonly maxOperations: number; readonly maxPayloadSize: number }
  readonly filterMaxResults: number
  readonly pagination: {
    readonly cursor: true
    readonly index: true
    readonly defaultPaginationMethod: 'index'
    readonly defaultPageSize: number
    readonly maxPageSize: number
    /** Seconds a cursor stays valid (RFC 9865). */
    readonly cursorTimeout: number
  }
  readonly documentationUri?: string
}

function trimTrailingSlash(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '')
}

function attributeDocument(attribute: AttributeDefinition): JsonObject {
  const document: JsonObject = {
    name: attribute.name,
    type: attribute.type,
    multiValued: attribute.multiValued,
    description: attribute.description,
    required: attribute.required,
    caseExact: attribute.caseExact,
    mutability: attribute.mutability,
    returned: attribute.returned,
    uniqueness: attribute.uniqueness,
  }
  if (attribute.canonicalValues !== undefined) document.canonicalValues = [...attribute.canonicalValues]
  if (attribute.referenceTypes !== undefined) document.referenceTypes = [...attribute.referenceTypes]
  if (attribute.subAttributes !== undefined) document.subAttributes = attribute.subAttributes.map(attributeDocument)
  return document
}

/** RFC 7643 §7: one entry of /Schemas. */
export function schemasDocument(schema: SchemaDefinition, baseUrl: string): JsonObject {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(attributeDocument),
    meta: {
      resourceType: 'Schema',
      location: `${trimTrailingSlash(baseUrl)}/Schemas/${schema.id}`,
    },
  }
}

/** RFC 7643 §6: one entry of /ResourceTypes. */
export function resourceTypeDocument(resourceType: ResourceTypeDefinition, baseUrl: string): JsonObject {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: resourceType.id,
    name: resourceType.name,
    endpoint: resourceType.endpoint,
    description: resourceType.description,
    schema: resourceType.schema.id,
    schemaExtensions: resourceType.extensions.map(({ schema, required }) => ({ schema: schema.id, required })),
    meta: {
      resourceType: 'ResourceType',
      location: `${trimTrailingSlash(baseUrl)}/ResourceTypes/${resourceType.id}`,
    },
  }
}

/** RFC 7643 §5, plus the `pagination` block of RFC 9865 §4. */
export function serviceProviderConfigDocument(options: ServiceProviderConfigOptions): JsonObject {
  const scheme: JsonObject = {
    type: 'oauthbearertoken',
    name: 'OAuth Bearer Token',
    description: 'Authentication scheme using the OAuth Bearer Token Standard',
    specUri: 'https://www.rfc-editor.org/info/rfc6750',
    primary: true,
  }
  const document: JsonObject = { schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA] }
  if (options.documentationUri !== undefined) {
    document.documentationUri = options.documentationUri
    scheme.documentationUri = options.documentationUri
  }
  return {
    ...document,
    patch: { supported: true },
    bulk: { supported: true, maxOperations: options.bulk.maxOperations, maxPayloadSize: options.bulk.maxPayloadSize },
    filter: { supported: true, maxResults: options.filterMaxResults },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    pagination: { ...options.pagination },
    authenticationSchemes: [scheme],
    meta: {
      resourceType: 'ServiceProviderConfig',
      location: `${trimTrailingSlash(options.baseUrl)}/ServiceProviderConfig`,
    },
  }
}
