// RFC 7643 §2.1: attribute names are case-insensitive. Maps the keys of an
// input object to attribute definitions; keys naming no attribute are dropped
// (docs/identity-providers.md#r2: unknown attributes are ignored, not stored).
import { findAttributeDefinition } from '../schema/resolve.ts'
import type { AttributeDefinition } from '../schema/types.ts'

/**
 * When one attribute arrives under several spellings (`title` and `Title`),
 * the exactly-cased key wins; otherwise the last one does, as with duplicate
 * keys in JSON.parse.
 */
export function canonicalEntries(
  entries: Iterable<readonly [string, unknown]>,
  definitions: readonly AttributeDefinition[],
): Map<AttributeDefinition, unknown> {
  const found = new Map<AttributeDefinition, { value: unknown; exact: boolean }>()
  for (const [key, value] of entries) {
    const definition = findAttributeDefinition(definitions, key)
    if (definition === undefined) continue
    const exact = key === definition.name
    if (found.get(definition)?.exact === true && !exact) continue
    found.set(definition, { value, exact })
  }
  const result = new Map<AttributeDefinition, unknown>()
  // In schema order, so the output reads like the schema.
  for (const definition of definitions) {
    const entry = found.get(definition)
    if (entry !== undefined) result.set(definition, entry.value)
  }
  return result
}
