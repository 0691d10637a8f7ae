// `attributes=emails[type eq "work"]` (what Entra ID's test collection sends):
// RFC 7644 §3.4.2.5 names attribute paths; a value filter on a multi-valued
// attribute narrows the values returned to those that match.
import { compileFilter, describeWithin, formatAttributePath, parsePath, type ElementTest } from '../filter/index.ts'
import { attributeShape } from '../schema/index.ts'
import type { ResourceTypeDefinition } from '../schema/types.ts'

/** The path without its value filter: `emails[type eq "work"].value` → `emails.value`. */
export function withoutValueFilter(text: string): string {
  if (!text.includes('[')) return text
  const path = parsePath(text)
  const attribute = formatAttributePath(path.attribute)
  return path.subAttribute === undefined ? attribute : `${attribute}.${path.subAttribute}`
}

/** The value filters of an attributes list, by the plain path of their attribute (without sub-attribute). */
export function valueFiltersOf(resourceType: ResourceTypeDefinition, attributes: readonly string[]): Map<string, ElementTest> {
  const filters = new Map<string, ElementTest>()
  for (const text of attributes) {
    if (!text.includes('[')) continue
    const path = parsePath(text)
    if (path.valueFilter === undefined) continue
    const describe = describeWithin(path.attribute, (full) => attributeShape(resourceType, full))
    filters.set(formatAttributePath(path.attribute).toLowerCase(), compileFilter(path.valueFilter, describe))
  }
  return filters
}
