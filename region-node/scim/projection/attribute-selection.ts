// RFC 7644 §3.4.2.5 with RFC 7643 §7 `returned`: which attributes and
// sub-attributes of a resource a response carries.
import { findResourceSchema, resolveAttribute } from '../schema/resolve.ts'
import type { AttributeDefinition, ResourceTypeDefinition } from '../schema/types.ts'
import { withoutValueFilter } from './value-filters.ts'

export interface AttributeRequest {
  readonly attributes?: readonly string[]
  readonly excludedAttributes?: readonly string[]
}

/** One resolved entry of an attributes list (canonical names); no `attribute` = a whole extension. */
export interface RequestedPath {
  readonly schemaId: string
  readonly attribute?: string
  readonly subAttribute?: string
  readonly definition?: AttributeDefinition
  readonly subDefinition?: AttributeDefinition
}

export interface AttributeSelection {
  includesAttribute(schemaId: string, attribute: AttributeDefinition): boolean
  /** Only meaningful when the parent attribute is included. */
  includesSubAttribute(schemaId: string, attribute: AttributeDefinition, subAttribute: AttributeDefinition): boolean
}

/**
 * A path of an attributes list: `userName`, `name.givenName`,
 * `urn:…:core:2.0:User:name.givenName`, `urn:…:enterprise:2.0:User` (the
 * whole extension), `urn:…:enterprise:2.0:User:manager.value`,
 * `meta.lastModified`. Case-insensitive. Unknown paths resolve to undefined.
 */
export function resolveRequestedPath(resourceType: ResourceTypeDefinition, text: string): RequestedPath | undefined {
  const whole = findResourceSchema(resourceType, text)
  if (whole !== undefined) return whole.inExtension ? { schemaId: whole.schema.id } : undefined
  const lower = text.toLowerCase()
  const qualifying = [resourceType.schema, ...resourceType.extensions.map(({ schema }) => schema)]
    .filter((schema) => lower.startsWith(`${schema.id.toLowerCase()}:`))
    .sort((left, right) => right.id.length - left.id.length)[0]
  const rest = qualifying === undefined ? text : text.slice(qualifying.id.length + 1)
  if (rest.includes(':')) return undefined
  const [attribute = '', subAttribute, extra] = rest.split('.')
  if (extra !== undefined) return undefined
  const resolved = resolveAttribute(resourceType, { uri: qualifying?.id, attribute, subAttribute })
  if (resolved === undefined) return undefined
  return {
    schemaId: resolved.schemaId,
    attribute: resolved.attribute.name,
    subAttribute: resolved.subAttribute?.name,
    definition: resolved.attribute,
    subDefinition: resolved.subAttribute,
  }
}

export function createAttributeSelection(resourceType: ResourceTypeDefinition, request: AttributeRequest): AttributeSelection {
  // The task's rule: `attributes` wins when both lists are given.
  const mode = (request.attributes?.length ?? 0) > 0 ? 'include' : (request.excludedAttributes?.length ?? 0) > 0 ? 'exclude' : 'all'
  const texts = mode === 'include' ? request.attributes : mode === 'exclude' ? request.excludedAttributes : []
  const named = (texts ?? []).flatMap((text) => resolveRequestedPath(resourceType, withoutValueFilter(text)) ?? [])

  const namesSchema = (schemaId: string) => named.some((path) => path.schemaId === schemaId && path.attribute === undefined)
  const namesAttribute = (schemaId: string, name: string) =>
    named.some((path) => path.schemaId === schemaId && path.attribute === name && path.subAttribute === undefined)
  const namesAnyPartOf = (schemaId: string, name: string) => named.some((path) => path.schemaId === schemaId && path.attribute === name)
  const namesSubAttribute = (schemaId: string, name: string, subName: string) =>
    named.some((path) => path.schemaId === schemaId && path.attribute === name && path.subAttribute === subName)

  return {
    includesAttribute(schemaId, attribute) {
      if (attribute.returned === 'never') return false
      if (attribute.returned === 'always') return true
      // RFC 7643 §7: `request` attributes only when named in `attributes`.
      if (attribute.returned === 'request') return mode === 'include' && namesAnyPartOf(schemaId, attribute.name)
      if (mode === 'include') return namesSchema(schemaId) || namesAnyPartOf(schemaId, attribute.name)
      if (mode === 'exclude') return !namesSchema(schemaId) && !namesAttribute(schemaId, attribute.name)
      return true
    },
    includesSubAttribute(schemaId, attribute, subAttribute) {
      if (subAttribute.returned === 'never') return false
      if (subAttribute.returned === 'always') return true
      if (mode === 'include') {
        if (namesSubAttribute(schemaId, attribute.name, subAttribute.name)) return true
        // The whole attribute is wanted when named itself, via its extension, or
        // (for a `returned: always` attribute) when none of its parts is named.
        const wholeAttribute =
          namesSchema(schemaId) ||
          namesAttribute(schemaId, attribute.name) ||
          (attribute.returned === 'always' && !namesAnyPartOf(schemaId, attribute.name))
        return wholeAttribute && subAttribute.returned === 'default'
      }
      if (subAttribute.returned === 'request') return false
      return mode === 'all' || !namesSubAttribute(schemaId, attribute.name, subAttribute.name)
    },
  }
}
