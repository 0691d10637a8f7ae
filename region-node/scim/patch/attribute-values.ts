// RFC 7644 §3.5.2.1 and §3.5.2.3: how an add and a replace combine an
// incoming (already coerced) value with the current one, by attribute kind.
// Every function returns a new value and never mutates its inputs;
// `undefined` means unassigned (RFC 7643 §2.5: so is an empty array).
import type { AttributeDefinition } from '../schema/types.ts'
import { deepEqual } from './deep-equal.ts'
import { findKey, isPlainObject } from './plain-object.ts'
import type { PlainObject } from './plain-object.ts'

export function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? value : [value]
}

export function orUnassigned<T>(values: T[]): T[] | undefined {
  return values.length === 0 ? undefined : values
}

/** A copy of `object` with `name` (matched ignoring case) set to `value`, or removed when `value` is undefined. */
export function withKey(object: PlainObject, name: string, value: unknown): PlainObject {
  const copy: PlainObject = { ...object }
  const existing = findKey(copy, name)
  if (existing !== undefined && existing !== name) delete copy[existing]
  if (value === undefined) delete copy[name]
  else copy[name] = value
  return copy
}

/** A copy of `object` with the keys of `incoming` set; sub-attributes absent from `incoming` are left unchanged. */
export function mergeComplex(current: unknown, incoming: PlainObject): PlainObject {
  let merged: PlainObject = isPlainObject(current) ? current : {}
  for (const [name, value] of Object.entries(incoming)) merged = withKey(merged, name, value)
  return merged
}

export function withoutEmptyObjects(elements: readonly unknown[]): unknown[] {
  return elements.filter((element) => !isPlainObject(element) || Object.keys(element).length > 0)
}

// RFC 7644 §3.5.2.1: a multi-valued add appends; a value already there is not
// added twice ("no changes SHOULD be made"); a single-valued add replaces.
export function addValue(definition: AttributeDefinition, current: unknown, incoming: unknown): unknown {
  if (definition.multiValued) {
    const result = [...asArray(current)]
    for (const value of asArray(incoming)) {
      if (!result.some((existing) => deepEqual(existing, value))) result.push(value)
    }
    return orUnassigned(result)
  }
  if (definition.type === 'complex' && isPlainObject(incoming)) return mergeComplex(current, incoming)
  return incoming
}

// RFC 7644 §3.5.2.3: a multi-valued replace without filter replaces all values;
// a complex replace sets the given sub-attributes and leaves the others.
export function replaceValue(definition: AttributeDefinition, current: unknown, incoming: unknown): unknown {
  if (definition.multiValued) return orUnassigned(asArray(incoming))
  if (definition.type === 'complex' && isPlainObject(incoming)) return mergeComplex(current, incoming)
  return incoming
}
