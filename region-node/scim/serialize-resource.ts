import { formatVersion } from './etag.ts'
import type { ResourceTypeDefinition, ScimResource } from './schema/types.ts'

export interface ResourceState {
  readonly id: string
  readonly version: number
  readonly created: Date
  readonly lastModified: Date
  readonly attributes: ScimResource
}

/** The full wire form of a stored resource (before attributes/excludedAttributes projection). */
const extensionIdsOf = new WeakMap<ResourceTypeDefinition, readonly string[]>()

export function serializeResource(resourceType: ResourceTypeDefinition, state: ResourceState, derived: ScimResource, location: string): ScimResource {
  let extensionIds = extensionIdsOf.get(resourceType)
  if (extensionIds === undefined) {
    extensionIds = resourceType.extensions.map((e) => e.schema.id)
    extensionIdsOf.set(resourceType, extensionIds)
  }
  const schemas = [resourceType.schema.id]
  for (const id of extensionIds) if (state.attributes[id] !== undefined) schemas.push(id)
  return {
    schemas,
    id: state.id,
    ...state.attributes,
    ...derived,
    meta: {
      resourceType: resourceType.name,
      created: state.created.toISOString(),
      lastModified: state.lastModified.toISOString(),
      location,
      version: formatVersion(state.version),
    },
  }
}

/** The client-settable part of a wire resource: what the store keeps in `attributes`. */
export function storableAttributes(resource: ScimResource, notStored: readonly string[]): ScimResource {
  const result: ScimResource = {}
  for (const key of Object.keys(resource)) {
    const value = resource[key]
    if (value === undefined || key === 'schemas' || key === 'id' || key === 'meta' || notStored.includes(key)) continue
    result[key] = value
  }
  return result
}
