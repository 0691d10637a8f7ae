// The strict half of ingest: RFC 7643 §2.3 types with no coercion, plus the
// size limits scimgate stores. Returns a fresh copy of a valid value.
import type { AttributeDefinition } from '../schema/types.ts'
import { expectedTypeError, invalidValue, isPlainObject, isValidSimpleValue } from './value-checks.ts'

/** Longest string or reference value accepted, in UTF-16 code units. Far above any real name, e-mail or URL. */
export const MAX_STRING_LENGTH = 4096
/** Longest binary (base64) value: room for an X.509 certificate chain. */
export const MAX_BINARY_LENGTH = 65_536
/** Most values in one multi-valued attribute, except those in UNLIMITED_MULTI_VALUED. */
export const MAX_MULTI_VALUES = 100

export interface ValueLimits {
  /** Multi-valued attributes with no element cap, e.g. Group `members` (groups of 100,000 members exist). */
  readonly unlimited: ReadonlySet<AttributeDefinition>
}

/**
 * `value` must not be null/undefined (the caller treats those as absent).
 * Unknown sub-attributes are dropped; null sub-attribute values are absent.
 */
export function checkAttributeValue(
  definition: AttributeDefinition,
  value: unknown,
  pointer: string,
  limits: ValueLimits,
): unknown {
  if (!definition.multiValued) return checkSingleValue(definition, value, pointer, limits)
  if (!Array.isArray(value)) throw invalidValue(pointer, 'expected an array (multi-valued attribute)')
  if (value.length > MAX_MULTI_VALUES && !limits.unlimited.has(definition)) {
    throw invalidValue(pointer, `at most ${MAX_MULTI_VALUES} values are accepted`)
  }
  const values = value.map((item, index) => {
    if (item === null || item === undefined) throw invalidValue(`${pointer}/${index}`, 'null is not a value')
    return checkSingleValue(definition, item, `${pointer}/${index}`, limits)
  })
  return definition.type === 'complex' ? keepFirstPrimary(values) : values
}

function checkSingleValue(definition: AttributeDefinition, value: unknown, pointer: string, limits: ValueLimits): unknown {
  if (definition.type === 'complex') return checkComplexValue(definition, value, pointer, limits)
  if (!isValidSimpleValue(definition.type, value)) throw expectedTypeError(definition.type, pointer)
  if (typeof value === 'string') {
    const maxLength = definition.type === 'binary' ? MAX_BINARY_LENGTH : MAX_STRING_LENGTH
    if (value.length > maxLength) throw invalidValue(pointer, `at most ${maxLength} characters are accepted`)
    if (definition.required && value.trim() === '') throw invalidValue(pointer, 'must not be empty')
  }
  return value
}

function checkComplexValue(definition: AttributeDefinition, value: unknown, pointer: string, limits: ValueLimits): unknown {
  if (!isPlainObject(value)) throw expectedTypeError('complex', pointer)
  const result: { [key: string]: unknown } = {}
  for (const subAttribute of definition.subAttributes ?? []) {
    const subPointer = `${pointer}/${subAttribute.name}`
    const subValue = Object.hasOwn(value, subAttribute.name) ? value[subAttribute.name] : undefined
    if (subValue === null || subValue === undefined) {
      if (subAttribute.required) throw invalidValue(subPointer, 'is required')
      continue
    }
    result[subAttribute.name] = checkAttributeValue(subAttribute, subValue, subPointer, limits)
  }
  return result
}

/**
 * RFC 7643 §2.4: "primary" true MUST appear no more than once. Providers'
 * templates (OneLogin) and attribute mappings (Entra ID) do send several
 * primaries; rejecting would fail a whole provisioning cycle over a flag, so
 * the first one stays primary and the others become false.
 */
function keepFirstPrimary(values: readonly unknown[]): unknown[] {
  let primarySeen = false
  return values.map((value) => {
    if (!isPlainObject(value) || value.primary !== true) return value
    if (!primarySeen) {
      primarySeen = true
      return value
    }
    return { ...value, primary: false }
  })
}
