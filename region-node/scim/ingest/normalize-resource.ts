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

export function normalizeResource(body: unknown, resourceType: ResourceTypeDefinition): ScimResource {
  if (!isPlainObject(body)) {
    throw new ScimError(400, 'invalidSyntax', `The ${resourceType.name} body must be a JSON object`)
  }
  const coreSchema = resourceType.schema
  const schemas = [coreSchema, ...resourceType.extensions.map(({ schema }) => schema)]
  const entriesBySchema = new Map<SchemaDefinition, Entry[]>(schemas.map((schema) => [schema, []]))

  for (const [key, value] of Object.entries(body)) {
    const lowerKey = key.toLowerCase()
    if (lowerKey === 'schemas') continue
    const extension = schemas.find((schema) => schema !== coreSchema && schema.id.toLowerCase() === lowerKey)
    if (extension !== undefined) {
      if (value === null || value === undefined) continue
      if (!isPlainObject(value)) throw invalidValue(`/${extension.id}`, 'expected a JSON object of extension attributes')
      entriesBySchema.get(extension)?.push(...Object.entries(value))
      continue
    }
    if (!key.includes(':')) {
      entriesBySchema.get(coreSchema)?.push([key, value])
      continue
    }
    const qualifying = schemas.find((schema) => lowerKey.startsWith(`${schema.id.toLowerCase()}:`))
    if (qualifying !== undefined) entriesBySchema.get(qualifying)?.push([key.slice(qualifying.id.length + 1), value])
  }

  const schemaIds = [coreSchema.id]
  const resource: ScimResource = {
    schemas: schemaIds,
    ...normalizeAttributes(entriesBySchema.get(coreSchema) ?? [], topLevelAttributes(coreSchema), ''),
  }
  for (const schema of schemas) {
    if (schema === coreSchema) continue
    const attributes = normalizeAttributes(entriesBySchema.get(schema) ?? [], schema.attributes, `/${schema.id}`)
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
