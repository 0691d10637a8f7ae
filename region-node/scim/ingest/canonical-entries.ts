// RFC 7643 §2.1: attribute names are case-insensitive. Maps the keys of an
// input object to attribute definitions; keys naming no attribute are dropped
// (docs/identity-providers.md#r2: unknown attributes are ignored, not stored).
import type { AttributeDefinition } from '../schema/types.ts'

/** Positions in a definition list by lower-case name, and by exact name for the usual, exactly-cased key. */
interface DefinitionIndex {
  readonly byLowerName: ReadonlyMap<string, number>
  readonly byName: ReadonlyMap<string, number>
}

// Per definition list (schema data, built once): every key of every ingested object is looked up here
// (a /Bulk of 1,000 users looks up tens of thousands).
const indexes = new WeakMap<readonly AttributeDefinition[], DefinitionIndex>()

function indexOf(definitions: readonly AttributeDefinition[]): DefinitionIndex {
  let index = indexes.get(definitions)
  if (index === undefined) {
    const byLowerName = new Map<string, number>()
    // the first definition of a name wins, as in findAttributeDefinition
    definitions.forEach((definition, position) => {
      if (!byLowerName.has(definition.name.toLowerCase())) byLowerName.set(definition.name.toLowerCase(), position)
    })
    const byName = new Map<string, number>()
    for (const definition of definitions) byName.set(definition.name, byLowerName.get(definition.name.toLowerCase())!)
    index = { byLowerName, byName }
    indexes.set(definitions, index)
  }
  return index
}

/**
 * The entries naming an attribute, in schema order (so the output reads like the schema). When one
 * attribute arrives under several spellings (`title` and `Title`), the exactly-cased key wins;
 * otherwise the last one does, as with duplicate keys in JSON.parse.
 */
export function canonicalEntries(
  entries: Iterable<readonly [string, unknown]>,
  definitions: readonly AttributeDefinition[],
): (readonly [AttributeDefinition, unknown])[] {
  const { byLowerName, byName } = indexOf(definitions)
  // One element per attribute found: its position in `definitions`, its value, and whether the key was exactly cased.
  const found: [position: number, value: unknown, exact: boolean][] = []
  for (const [key, value] of entries) {
    const position = byName.get(key) ?? byLowerName.get(key.toLowerCase())
    if (position === undefined) continue
    const exact = key === definitions[position]!.name
    const seen = found.find((entry) => entry[0] === position)
    if (seen === undefined) found.push([position, value, exact])
    else if (exact || !seen[2]) {
      seen[1] = value
      seen[2] = exact
    }
  }
  if (found.length > 1) found.sort((a, b) => a[0] - b[0])
  return found.map(([position, value]) => [definitions[position]!, value] as const)
}
