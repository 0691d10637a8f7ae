// docs/identity-providers.md#r2: the lenient per-attribute normalisation of what
// identity providers send, followed by strict type checking (RFC 7643 §2.3).
// Leniency never widens what is stored: the result has the RFC types only.
import type { AttributeDefinition } from '../schema/types.ts'
import { canonicalEntries } from './canonical-entries.ts'
import { expectedTypeError, invalidValue, isPlainObject, isValidSimpleValue } from './value-checks.ts'

/**
 * Returns the canonical value, or `undefined` when the input means "absent"
 * (RFC 7643 §2.5: null and unassigned are equivalent). Throws
 * ScimError(400, 'invalidValue') naming `pointer` (a JSON pointer such as
 * `/emails/0/primary`). Never mutates `value`.
 */
export function coerceAttributeValue(definition: AttributeDefinition, value: unknown, pointer: string): unknown {
  if (value === null || value === undefined) return undefined
  if (definition.type === 'complex') value = parseEmbeddedJson(value)
  if (definition.multiValued) {
    // OneLogin sends `emails` as one object: a single value becomes a one-element array.
    const items: readonly unknown[] = Array.isArray(value) ? value : [value]
    const result: unknown[] = []
    items.forEach((item, index) => {
      const coerced = coerceSingleValue(definition, item, `${pointer}/${index}`)
      if (coerced !== undefined) result.push(coerced)
    })
    return result
  }
  if (Array.isArray(value)) {
    // Entra ID sends `manager` as a one-element `[{value,$ref}]` array.
    if (value.length === 0) return undefined
    if (value.length > 1) throw invalidValue(pointer, 'expected a single value, got an array')
    return coerceSingleValue(definition, value[0], pointer)
  }
  return coerceSingleValue(definition, value, pointer)
}

/**
 * Entra ID sends app roles as JSON text: `"value": "[{\"value\":\"Admin\",...}]"`.
 * On a complex attribute, a string that is a JSON object or array is read as one.
 */
function parseEmbeddedJson(value: unknown): unknown {
  if (typeof value !== 'string' || !/^\s*[[{]/.test(value)) return value
  try {
    const parsed: unknown = JSON.parse(value)
    return typeof parsed === 'object' && parsed !== null ? parsed : value
  } catch {
    return value
  }
}

function coerceSingleValue(definition: AttributeDefinition, value: unknown, pointer: string): unknown {
  if (value === null || value === undefined) return undefined
  switch (definition.type) {
    case 'complex':
      return coerceComplexValue(definition, value, pointer)
    case 'boolean':
      return coerceBoolean(value, pointer)
    default:
      if (!isValidSimpleValue(definition.type, value)) throw expectedTypeError(definition.type, pointer)
      return value
  }
}

// Entra ID (without aadOptscim062020) and OneLogin send booleans as "True"/"false".
function coerceBoolean(value: unknown, pointer: string): boolean {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase()
    if (text === 'true') return true
    if (text === 'false') return false
  }
  throw expectedTypeError('boolean', pointer)
}

function coerceComplexValue(definition: AttributeDefinition, value: unknown, pointer: string): unknown {
  const subAttributes = definition.subAttributes ?? []
  // Entra ID sends `manager` as a bare id string: read it as `{ value }`.
  if (typeof value === 'string' && !definition.multiValued && subAttributes.some((sub) => sub.name === 'value')) {
    return { value }
  }
  if (!isPlainObject(value)) throw expectedTypeError('complex', pointer)
  const result: { [key: string]: unknown } = {}
  for (const [subAttribute, subValue] of canonicalEntries(Object.entries(value), subAttributes)) {
    // RFC 7644 §3.5.1: readOnly values sent by a client SHALL be ignored.
    if (subAttribute.mutability === 'readOnly') continue
    const coerced = coerceAttributeValue(subAttribute, subValue, `${pointer}/${subAttribute.name}`)
    if (coerced !== undefined) result[subAttribute.name] = coerced
  }
  return Object.keys(result).length === 0 ? undefined : result
}
