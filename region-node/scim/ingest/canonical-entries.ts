// RFC 7643 §2.1: attribute names are case-insensitive. Maps the keys of an
// input object to attribute definitions; keys naming no attribute are dropped
// (docs/identity-providers.md#r2: unknown attributes are ignored, not stored).
import type { AttributeDefinition } from '../schema/types.ts'

// Definitions by lower-case name, per definition list (schema data, built once): every key of every
// ingested object is looked up here (a /Bulk of 1,000 users looks up tens of thousands).
const indexes = new WeakMap<readonly AttributeDefinition[], ReadonlyMap<string, AttributeDefinition>>()

function definitionsByName(definitions: readonly AttributeDefinition[]): ReadonlyMap<string, AttributeDefinition> {
  let index = indexes.get(definitions)
  if (index === undefined) {
    const byName = new Map<string, AttributeDefinition>()
    // the first definition of a name wins, as in findAttributeDefinition
    for (const definition of definitions) if (!byName.has(definition.name.toLowerCase())) byName.set(definition.name.toLowerCase(), definition)
    index = byName
    indexes.set(definitions, index)
  }
  return index
}

/**
 * When one attribute arrives under several spellings (`title` and `Title`),
 * the exactly-cased key wins; otherwise the last one does, as with duplicate
 * keys in JSON.parse.
 */
export function canonicalEntries(
  entries: Iterable<readonly [string, unknown]>,
  definitions: readonly AttributeDefinition[],
): Map<AttributeDefinition, unknown> {
  const byName = definitionsByName(definitions)
  const found = new Map<AttributeDefinition, { value: unknown; exact: boolean }>()
  for (const [key, value] of entries) {
    const definition = byName.get(key.toLowerCase())
    if (definition === undefined) continue
    const exact = key === definition.name
    if (found.get(definition)?.exact === true && !exact) continue
    found.set(definition, { value, exact })
  }
  const result = new Map<AttributeDefinition, unknown>()
  if (found.size === 0) return result
  // In schema order, so the output reads like the schema.
  for (const definition of definitions) {
    const entry = found.get(definition)
    if (entry !== undefined) result.set(definition, entry.value)
  }
  return result
}
