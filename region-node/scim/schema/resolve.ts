// RFC 7644 §3.10: resolve an attribute path (filter, sort, PATCH path,
// attributes list) against a resource type. Attribute names and schema URNs
// are case-insensitive (RFC 7643 §2.1); the result carries canonical names.
import type { AttributePath } from '../filter/ast.ts'
import { COMMON_ATTRIBUTES, SCHEMAS_ATTRIBUTE } from './common-attributes.ts'
import type { AttributeDefinition, AttributeType, ResolvedAttribute, ResourceTypeDefinition, SchemaDefinition } from './types.ts'

/** What the in-memory filter evaluator needs to know about a path (same shape as the filter module's `AttributeShape`). */
export interface AttributeShape {
  readonly type: AttributeType
  readonly caseExact: boolean
  readonly multiValued: boolean
}

const topLevel = new WeakMap<SchemaDefinition, readonly AttributeDefinition[]>()

/** The common attributes followed by the core schema's: what the top level of a resource may hold (one array per schema). */
export function topLevelAttributes(schema: SchemaDefinition): readonly AttributeDefinition[] {
  let attributes = topLevel.get(schema)
  if (attributes === undefined) {
    attributes = [...COMMON_ATTRIBUTES, ...schema.attributes]
    topLevel.set(schema, attributes)
  }
  return attributes
}

// Every body's every key is looked up here (ingest, PATCH paths, filters): by lower-case name, per schema's list.
const byLowerName = new WeakMap<readonly AttributeDefinition[], Map<string, AttributeDefinition>>()

export function findAttributeDefinition(
  attributes: readonly AttributeDefinition[],
  name: string,
): AttributeDefinition | undefined {
  let index = byLowerName.get(attributes)
  if (index === undefined) {
    index = new Map()
    // The first of a spelling wins, as `find` did.
    for (const attribute of attributes) if (!index.has(attribute.name.toLowerCase())) index.set(attribute.name.toLowerCase(), attribute)
    byLowerName.set(attributes, index)
  }
  return index.get(name) ?? index.get(name.toLowerCase())
}

/** The core schema or one of the resource type's extensions, by URN in any letter case. */
export function findResourceSchema(
  resourceType: ResourceTypeDefinition,
  uri: string,
): { readonly schema: SchemaDefinition; readonly inExtension: boolean } | undefined {
  const wanted = uri.toLowerCase()
  if (resourceType.schema.id.toLowerCase() === wanted) return { schema: resourceType.schema, inExtension: false }
  const extension = resourceType.extensions.find(({ schema }) => schema.id.toLowerCase() === wanted)
  return extension === undefined ? undefined : { schema: extension.schema, inExtension: true }
}

/** Core attributes first, then the common attributes of RFC 7643 §3.1 (`id`, `externalId`, `meta`) and `schemas`. */
export function findCoreAttribute(resourceType: ResourceTypeDefinition, name: string): AttributeDefinition | undefined {
  return (
    findAttributeDefinition(resourceType.schema.attributes, name) ??
    findAttributeDefinition(COMMON_ATTRIBUTES, name) ??
    (name.toLowerCase() === 'schemas' ? SCHEMAS_ATTRIBUTE : undefined)
  )
}

export function resolveAttribute(resourceType: ResourceTypeDefinition, path: AttributePath): ResolvedAttribute | undefined {
  let { uri, attribute: attributeName } = path
  // A URN-qualified name the caller did not split: `urn:…:enterprise:2.0:User:manager`.
  if (uri === undefined && attributeName.includes(':')) {
    const cut = attributeName.lastIndexOf(':')
    uri = attributeName.slice(0, cut)
    attributeName = attributeName.slice(cut + 1)
  }
  const target = uri === undefined ? { schema: resourceType.schema, inExtension: false } : findResourceSchema(resourceType, uri)
  if (target === undefined) return undefined
  const attribute = target.inExtension
    ? findAttributeDefinition(target.schema.attributes, attributeName)
    : findCoreAttribute(resourceType, attributeName)
  if (attribute === undefined) return undefined
  const resolved = { schemaId: target.schema.id, inExtension: target.inExtension, attribute }
  if (path.subAttribute === undefined) return resolved
  const subAttribute = findAttributeDefinition(attribute.subAttributes ?? [], path.subAttribute)
  return subAttribute === undefined ? undefined : { ...resolved, subAttribute }
}

/**
 * `multiValued` is true when the path can hold several values: the attribute
 * or the sub-attribute is multi-valued (`emails.value` → true).
 */
export function attributeShape(resourceType: ResourceTypeDefinition, path: AttributePath): AttributeShape | undefined {
  const resolved = resolveAttribute(resourceType, path)
  if (resolved === undefined) return undefined
  const leaf = resolved.subAttribute ?? resolved.attribute
  return {
    type: leaf.type,
    caseExact: leaf.caseExact,
    multiValued: resolved.attribute.multiValued || leaf.multiValued,
  }
}
