import type { AttributeDefinition, AttributeType } from './types.ts'

type Characteristics = Partial<Omit<AttributeDefinition, 'name' | 'type' | 'description'>>

/**
 * RFC 7643 §2.2: an attribute with the default characteristics (single-valued,
 * optional, not caseExact, readWrite, returned by default, not unique),
 * overridden by `characteristics`. Keeps the schema files readable.
 */
export function defineAttribute(
  name: string,
  type: AttributeType,
  description: string,
  characteristics: Characteristics = {},
): AttributeDefinition {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...characteristics,
  }
}

/** The `type`, `primary`, `display` and `value` sub-attributes shared by the multi-valued attributes of RFC 7643 §2.4. */
export function multiValuedSubAttributes(
  valueType: AttributeType,
  typeCanonicalValues: readonly string[],
  valueDescription: string,
  valueCharacteristics: Characteristics = {},
): AttributeDefinition[] {
  return [
    defineAttribute('value', valueType, valueDescription, valueCharacteristics),
    defineAttribute('display', 'string', 'A human-readable name, primarily used for display purposes.'),
    defineAttribute('type', 'string', "A label indicating the attribute's function.", {
      canonicalValues: typeCanonicalValues,
    }),
    defineAttribute('primary', 'boolean', "A Boolean value indicating the 'primary' or preferred attribute value for this attribute. The primary attribute value 'true' MUST appear no more than once."),
  ]
}
