// RFC 7644 §3.5.2.1–3: the value one attribute holds after one operation.
// Pure: `current` is never mutated; unchanged elements keep their identity so
// the primary rule below can tell new values from old ones.
import { ScimError } from '../../../lib/scim-error.ts'
import type { DescribeAttribute, FilterNode, FilterValue } from '../filter/index.ts'
import { compileFilter } from '../filter/index.ts'
import { coerceAttributeValue } from '../ingest/index.ts'
import { findAttributeDefinition } from '../schema/index.ts'
import type { AttributeDefinition } from '../schema/index.ts'
import {
  addValue,
  asArray,
  mergeComplex,
  orUnassigned,
  replaceValue,
  withKey,
  withoutEmptyObjects,
} from './attribute-values.ts'
import { deepEqual } from './deep-equal.ts'
import type { PatchOperationKind } from './patch-operation.ts'
import { isPlainObject, readKey } from './plain-object.ts'
import type { PlainObject } from './plain-object.ts'

export interface AttributeChange {
  readonly kind: PatchOperationKind
  readonly attribute: AttributeDefinition
  /** `name.givenName`, `emails.value`: a sub-attribute named without value filter. */
  readonly subAttribute?: AttributeDefinition
  /** `emails[type eq "work"]`: only on a multi-valued complex attribute. */
  readonly valueFilter?: FilterNode
  /** `emails[type eq "work"].value`: the sub-attribute after `]`. */
  readonly filterSubAttribute?: AttributeDefinition
  /** Describes element-relative filter paths. */
  readonly describe: DescribeAttribute
  readonly value: unknown
  /** JSON pointer to the value in the request, for coercion errors. */
  readonly pointer: string
}

export function nextAttributeValue(current: unknown, change: AttributeChange): unknown {
  let next: unknown
  if (change.valueFilter !== undefined) next = nextFilteredValue(current, change, change.valueFilter)
  else if (change.subAttribute !== undefined) next = nextSubAttributeValue(current, change, change.subAttribute)
  else next = nextWholeValue(current, change)
  return keepOnePrimary(change.attribute, current, next)
}

function nextWholeValue(current: unknown, change: AttributeChange): unknown {
  // RFC 7644 §3.5.2.2: a multi-valued attribute without filter loses all values.
  if (change.kind === 'remove') return undefined
  const incoming = coerceAttributeValue(change.attribute, change.value, change.pointer)
  if (incoming === undefined) return current
  return combine(change.kind, change.attribute, current, incoming)
}

function nextSubAttributeValue(current: unknown, change: AttributeChange, sub: AttributeDefinition): unknown {
  const { kind, attribute } = change
  if (!attribute.multiValued) {
    const object = isPlainObject(current) ? current : undefined
    if (kind === 'remove') return object === undefined ? current : nonEmpty(withKey(object, sub.name, undefined))
    const incoming = coerceAttributeValue(sub, change.value, change.pointer)
    if (incoming === undefined) return current
    return withKey(object ?? {}, sub.name, combine(kind, sub, object && readKey(object, sub.name), incoming))
  }
  // `emails.value` without filter names that sub-attribute in every element.
  const elements = asArray(current)
  if (kind === 'remove') {
    return orUnassigned(withoutEmptyObjects(elements.map((element) => withoutSubAttribute(element, sub))))
  }
  const incoming = coerceAttributeValue(sub, change.value, change.pointer)
  if (incoming === undefined) return current
  if (elements.length === 0) return [{ [sub.name]: incoming }]
  return elements.map((element) => withSubAttribute(kind, element, sub, incoming))
}

function nextFilteredValue(current: unknown, change: AttributeChange, filter: FilterNode): unknown {
  const { kind, attribute, filterSubAttribute: sub } = change
  const elements = asArray(current)
  const test = compileFilter(filter, change.describe)
  const matches = elements.map((element) => isPlainObject(element) && test(element))
  const anyMatch = matches.includes(true)

  if (kind === 'remove') {
    // RFC 7644 §3.5.2.2: matching values are removed; none matching changes nothing.
    if (!anyMatch) return current
    if (sub === undefined) return orUnassigned(elements.filter((_, index) => !matches[index]))
    return orUnassigned(
      withoutEmptyObjects(elements.map((element, index) => (matches[index] ? withoutSubAttribute(element, sub) : element))),
    )
  }

  if (sub !== undefined) {
    // RFC 7644 §3.5.2.3: the sub-attribute of every matching value is replaced.
    const incoming = coerceAttributeValue(sub, change.value, change.pointer)
    if (incoming === undefined) return current
    if (anyMatch) {
      return elements.map((element, index) => (matches[index] ? withSubAttribute(kind, element, sub, incoming) : element))
    }
    // Entra ID: Add/Replace `emails[type eq "work"].value` with no work email creates it.
    return [...elements, ...createdElement(change, filter, { [sub.name]: incoming })]
  }

  const incoming = asArray(coerceAttributeValue(attribute, change.value, change.pointer))
  if (incoming.length === 0) return current
  if (kind === 'replace') {
    // RFC 7644 §3.5.2.3: no match on a value filter → 400 noTarget.
    if (!anyMatch) throw new ScimError(400, 'noTarget', `no value of "${attribute.name}" matches the filter`)
    const firstMatch = matches.indexOf(true)
    const replaced = elements.flatMap((element, index) =>
      index === firstMatch ? incoming : matches[index] === true ? [] : [element],
    )
    return withoutDuplicates(replaced)
  }
  // add `emails[type eq "work"]` with an object: merge it into every matching value.
  const [onlyValue] = incoming
  if (incoming.length !== 1 || !isPlainObject(onlyValue)) {
    throw new ScimError(400, 'invalidValue', `add to "${attribute.name}[…]" expects one object value`)
  }
  if (anyMatch) return elements.map((element, index) => (matches[index] ? mergeComplex(element, onlyValue) : element))
  return [...elements, ...createdElement(change, filter, onlyValue)]
}

function combine(kind: PatchOperationKind, definition: AttributeDefinition, current: unknown, incoming: unknown): unknown {
  return kind === 'add' ? addValue(definition, current, incoming) : replaceValue(definition, current, incoming)
}

function withSubAttribute(kind: PatchOperationKind, element: unknown, sub: AttributeDefinition, incoming: unknown): unknown {
  const object = isPlainObject(element) ? element : {}
  return withKey(object, sub.name, combine(kind, sub, readKey(object, sub.name), incoming))
}

function withoutSubAttribute(element: unknown, sub: AttributeDefinition): unknown {
  return isPlainObject(element) ? withKey(element, sub.name, undefined) : element
}

function nonEmpty(object: PlainObject): PlainObject | undefined {
  return Object.keys(object).length === 0 ? undefined : object
}

function withoutDuplicates(elements: readonly unknown[]): unknown[] {
  return elements.filter((element, index) => elements.findIndex((other) => deepEqual(other, element)) === index)
}

/**
 * The value a filter of `eq` comparisons joined by `and` describes, plus
 * `fields`. Any other filter cannot say what to create: 400 noTarget (the
 * RFC 7644 §3.5.2.3 answer for "no match").
 */
function createdElement(change: AttributeChange, filter: FilterNode, fields: PlainObject): unknown[] {
  const equalities = equalityFields(filter, change.attribute)
  if (equalities === undefined) {
    throw new ScimError(
      400,
      'noTarget',
      `no value of "${change.attribute.name}" matches the filter, and only "eq" comparisons joined by "and" can create one`,
    )
  }
  return asArray(coerceAttributeValue(change.attribute, [{ ...equalities, ...fields }], change.pointer))
}

function equalityFields(filter: FilterNode, attribute: AttributeDefinition): PlainObject | undefined {
  if (filter.kind === 'and') {
    const left = equalityFields(filter.left, attribute)
    const right = equalityFields(filter.right, attribute)
    if (left === undefined || right === undefined) return undefined
    const conflict = Object.keys(right).some((name) => name in left && !deepEqual(left[name], right[name]))
    return conflict ? undefined : { ...left, ...right }
  }
  if (filter.kind !== 'compare' || filter.op !== 'eq' || filter.value === null) return undefined
  if (filter.path.uri !== undefined || filter.path.subAttribute !== undefined) return undefined
  const sub = findAttributeDefinition(attribute.subAttributes ?? [], filter.path.attribute)
  if (sub === undefined) return undefined
  const value: FilterValue = filter.value
  return { [sub.name]: value }
}

// RFC 7644 §3.5.2: setting "primary" to true on one value sets it to false on
// the others ("primary" true MUST appear no more than once, RFC 7643 §2.4).
function keepOnePrimary(attribute: AttributeDefinition, current: unknown, next: unknown): unknown {
  if (!attribute.multiValued || !Array.isArray(next)) return next
  if (findAttributeDefinition(attribute.subAttributes ?? [], 'primary') === undefined) return next
  const isPrimary = (element: unknown) => isPlainObject(element) && element['primary'] === true
  const primaryBefore = new Set(asArray(current).filter(isPrimary))
  const newPrimaries = next.filter((element) => isPrimary(element) && !primaryBefore.has(element))
  const kept = newPrimaries[newPrimaries.length - 1]
  if (kept === undefined) return next
  return next.map((element) =>
    element !== kept && isPrimary(element) ? withKey(element as PlainObject, 'primary', false) : element,
  )
}
