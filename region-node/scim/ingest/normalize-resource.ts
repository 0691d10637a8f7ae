// docs/identity-providers.md#r2, for resource bodies (POST, PUT, Bulk): turn what
// Okta, Entra ID and OneLogin send into the wire shape the strict core knows.
// - attribute names and schema URNs in any letter case → canonical;
// - extension attributes under their URN key (any case), or as URN-qualified
//   top-level keys (`urn:…:enterprise:2.0:User:department`);
// - unknown attributes and unknown URN keys (Entra's malformed extension URN,
//   Entra's ADSCIM Group schema) are ignored;
// - readOnly attributes (`id`, `meta`, `groups`) are ignored (RFC 7644 §3.5.1);
// - `schemas` is recomputed: core + the extensions actually present, so
//   OneLogin's `urn:scim:schemas:core:2.0` is harmless;
// - value-level leniency is coerceAttributeValue's.
import { ScimError } from '../../../lib/scim-error.ts'
import { topLevelAttributes } from '../schema/resolve.ts'
import type { AttributeDefinition, ResourceTypeDefinition, ScimResource, SchemaDefinition } from '../schema/types.ts'
import { canonicalEntries } from './canonical-entries.ts'
import { coerceAttributeValue } from './coerce-attribute-value.ts'
import { invalidValue, isPlainObject } from './value-checks.ts'

type Entry = readonly [string, unknown]

/** A resource type's schemas as ingest looks them up (schema data, built once per type). */
interface SchemaLookup {
  readonly schemas: readonly SchemaDefinition[]
  /** Extension schemas by lower-case URN: the key of an extension object. */
  readonly extensionByKey: ReadonlyMap<string, SchemaDefinition>
  /** Every schema with its lower-case `urn:` prefix, in order: URN-qualified attribute names. */
  readonly qualifiers: readonly (readonly [prefix: string, schema: SchemaDefinition])[]
}

const lookups = new WeakMap<ResourceTypeDefinition, SchemaLookup>()

function schemaLookup(resourceType: ResourceTypeDefinition): SchemaLookup {
  let lookup = lookups.get(resourceType)
  if (lookup === undefined) {
    const schemas = [resourceType.schema, ...resourceType.extensions.map(({ schema }) => schema)]
    const extensionByKey = new Map<string, SchemaDefinition>()
    // the first schema of a URN wins, as a find over the list would
    for (const schema of schemas) if (schema !== resourceType.schema && !extensionByKey.has(schema.id.toLowerCase())) extensionByKey.set(schema.id.toLowerCase(), schema)
    lookup = { schemas, extensionByKey, qualifiers: schemas.map((schema) => [`${schema.id.toLowerCase()}:`, schema] as const) }
    lookups.set(resourceType, lookup)
  }
  return lookup
}

function entriesOf(bySchema: Map<SchemaDefinition, Entry[]>, schema: SchemaDefinition): Entry[] {
  let entries = bySchema.get(schema)
  if (entries === undefined) bySchema.set(schema, (entries = []))
  return entries
}

export function normalizeResource(body: unknown, resourceType: ResourceTypeDefinition): ScimResource {
  if (!isPlainObject(body)) {
    throw new ScimError(400, 'invalidSyntax', `The ${resourceType.name} body must be a JSON object`)
  }
  const coreSchema = resourceType.schema
  const { schemas, extensionByKey, qualifiers } = schemaLookup(resourceType)
  const coreEntries: Entry[] = []
  // Extension entries only when a body has any (most have one extension object or none).
  let extensionEntries: Map<SchemaDefinition, Entry[]> | undefined

  for (const key of Object.keys(body)) {
    const value = body[key]
    // Every schema URN has a colon: a plain name is a core attribute (or `schemas`).
    if (!key.includes(':')) {
      if (key.length !== 7 || key.toLowerCase() !== 'schemas') coreEntries.push([key, value])
      continue
    }
    const lowerKey = key.toLowerCase()
    const extension = extensionByKey.get(lowerKey)
    if (extension !== undefined) {
      if (value === null || value === undefined) continue
      if (!isPlainObject(value)) throw invalidValue(`/${extension.id}`, 'expected a JSON object of extension attributes')
      const entries = entriesOf((extensionEntries ??= new Map()), extension)
      for (const subKey of Object.keys(value)) entries.push([subKey, value[subKey]])
      continue
    }
    const qualifying = qualifiers.find(([prefix]) => lowerKey.startsWith(prefix))?.[1]
    if (qualifying === undefined) continue
    const qualified: Entry = [key.slice(qualifying.id.length + 1), value]
    if (qualifying === coreSchema) coreEntries.push(qualified)
    else entriesOf((extensionEntries ??= new Map()), qualifying).push(qualified)
  }

  const schemaIds = [coreSchema.id]
  const resource: ScimResource = {
    schemas: schemaIds,
    ...normalizeAttributes(coreEntries, topLevelAttributes(coreSchema), ''),
  }
  if (extensionEntries === undefined) return resource
  for (const schema of schemas) {
    const entries = schema === coreSchema ? undefined : extensionEntries.get(schema)
    if (entries === undefined) continue
    const attributes = normalizeAttributes(entries, schema.attributes, `/${schema.id}`)
    if (Object.keys(attributes).length === 0) continue
    resource[schema.id] = attributes
    schemaIds.push(schema.id)
  }
  return resource
}

function normalizeAttributes(
  entries: readonly Entry[],
  definitions: readonly AttributeDefinition[],
  pointerPrefix: string,
): ScimResource {
  const result: ScimResource = {}
  for (const [definition, value] of canonicalEntries(entries, definitions)) {
    if (definition.mutability === 'readOnly') continue
    const coerced = coerceAttributeValue(definition, value, `${pointerPrefix}/${definition.name}`)
    if (coerced !== undefined) result[definition.name] = coerced
  }
  return result
}
