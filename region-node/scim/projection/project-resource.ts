// RFC 7644 §3.4.2.5 and RFC 7643 §7: shape a stored resource for a response.
// `schemas` and `returned: always` attributes (`id`) are always there,
// `returned: never` ones (`password`) never, `default` ones unless excluded,
// `request` ones only when named in `attributes`. Never mutates its input.
import { COMMON_ATTRIBUTES } from '../schema/common-attributes.ts'
import type { AttributeDefinition, ResourceTypeDefinition, ScimResource } from '../schema/types.ts'
import type { ElementTest } from '../filter/index.ts'
import { createAttributeSelection, resolveRequestedPath, type AttributeRequest, type AttributeSelection } from './attribute-selection.ts'
import { valueFiltersOf } from './value-filters.ts'

type JsonObject = { [key: string]: unknown }

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function projectResource(
  resource: ScimResource,
  resourceType: ResourceTypeDefinition,
  request: AttributeRequest,
): ScimResource {
  const selection = createAttributeSelection(resourceType, request)
  const filters = selectedValueFilters(resourceType, request)
  const coreId = resourceType.schema.id
  const meta = COMMON_ATTRIBUTES.filter((attribute) => attribute.name === 'meta')
  const leading = COMMON_ATTRIBUTES.filter((attribute) => attribute.name !== 'meta')

  const projected: ScimResource = {}
  if (Array.isArray(resource.schemas)) projected.schemas = [...resource.schemas]
  Object.assign(projected, projectAttributes(resource, [...leading, ...resourceType.schema.attributes], coreId, selection, filters))
  for (const { schema } of resourceType.extensions) {
    const extension = resource[schema.id]
    if (!isPlainObject(extension)) continue
    const attributes = projectAttributes(extension, schema.attributes, schema.id, selection, filters)
    if (Object.keys(attributes).length > 0) projected[schema.id] = attributes
  }
  Object.assign(projected, projectAttributes(resource, meta, coreId, selection, filters))
  return projected
}

/**
 * Value filters of `attributes` (`emails[type eq "work"]`), keyed `schemaId:attribute` in lower case. An
 * attribute also named without a filter is returned whole.
 */
function selectedValueFilters(resourceType: ResourceTypeDefinition, request: AttributeRequest): Map<string, ElementTest> {
  const result = new Map<string, ElementTest>()
  const attributes = request.attributes ?? []
  if (!attributes.some((text) => text.includes('['))) return result
  const plain = new Set(attributes.filter((text) => !text.includes('[')).flatMap((text) => resolveRequestedPath(resourceType, text)?.attribute ?? []).map((name) => name.toLowerCase()))
  for (const [text, test] of valueFiltersOf(resourceType, attributes)) {
    const resolved = resolveRequestedPath(resourceType, text)
    if (resolved?.attribute === undefined || resolved.definition?.multiValued !== true || plain.has(resolved.attribute.toLowerCase())) continue
    result.set(`${resolved.schemaId}:${resolved.attribute}`.toLowerCase(), test)
  }
  return result
}

function projectAttributes(
  source: JsonObject,
  definitions: readonly AttributeDefinition[],
  schemaId: string,
  selection: AttributeSelection,
  filters: ReadonlyMap<string, ElementTest>,
): JsonObject {
  const result: JsonObject = {}
  for (const attribute of definitions) {
    let value = Object.hasOwn(source, attribute.name) ? source[attribute.name] : undefined
    if (value === undefined || value === null || !selection.includesAttribute(schemaId, attribute)) continue
    const filter = filters.get(`${schemaId}:${attribute.name}`.toLowerCase())
    if (filter !== undefined && Array.isArray(value)) {
      value = value.filter((element) => isPlainObject(element) && filter(element))
      if ((value as unknown[]).length === 0) continue
    }
    const projected = projectValue(value, attribute, schemaId, selection)
    if (projected !== undefined) result[attribute.name] = projected
  }
  return result
}

function projectValue(value: unknown, attribute: AttributeDefinition, schemaId: string, selection: AttributeSelection): unknown {
  if (attribute.type !== 'complex') return Array.isArray(value) ? [...value] : value
  const subAttributes = (attribute.subAttributes ?? []).filter((sub) => selection.includesSubAttribute(schemaId, attribute, sub))
  const projectElement = (element: unknown): JsonObject | undefined => {
    if (!isPlainObject(element)) return undefined
    const projected: JsonObject = {}
    for (const sub of subAttributes) {
      const subValue = Object.hasOwn(element, sub.name) ? element[sub.name] : undefined
      if (subValue !== undefined && subValue !== null) projected[sub.name] = Array.isArray(subValue) ? [...subValue] : subValue
    }
    return Object.keys(projected).length > 0 ? projected : undefined
  }
  if (!Array.isArray(value)) return projectElement(value)
  const elements = value.flatMap((element) => projectElement(element) ?? [])
  // An empty array stays empty (`members: []`); one emptied by projection disappears.
  return elements.length > 0 || value.length === 0 ? elements : undefined
}
