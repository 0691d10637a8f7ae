// The strict core's gate for a whole resource (after normalizeResource, or
// after a PATCH): RFC 7643 types, required attributes, size limits,
// immutability on replace (RFC 7644 §3.5.1). Returns a new, cleaned resource:
// canonical keys only, unknown keys dropped, `schemas` recomputed.
import { ScimError } from '../../../lib/scim-error.ts'
import { findAttributeDefinition, topLevelAttributes } from '../schema/resolve.ts'
import type { AttributeDefinition, ResourceTypeDefinition, ScimResource } from '../schema/types.ts'
import { GROUP_SCHEMA } from '../schema/urns.ts'
import { checkAttributeValue, type ValueLimits } from './check-attribute-value.ts'
import { invalidValue, isPlainObject } from './value-checks.ts'

export interface ValidateOptions {
  readonly mode: 'create' | 'replace'
  /** The stored resource a replace (PUT, PATCH result) applies to. */
  readonly existing?: ScimResource
}

type JsonObject = { [key: string]: unknown }

export function validateResource(
  resource: ScimResource,
  resourceType: ResourceTypeDefinition,
  options: ValidateOptions,
): ScimResource {
  if (!isPlainObject(resource)) throw new ScimError(400, 'invalidSyntax', `The ${resourceType.name} must be a JSON object`)
  const limits = limitsFor(resourceType)
  const existing = options.mode === 'replace' ? options.existing : undefined

  const schemaIds = [resourceType.schema.id]
  const core = checkAttributes(resource, topLevelAttributes(resourceType.schema), '', limits, existing)
  const cleaned: ScimResource = { schemas: schemaIds, ...core }
  for (const { schema, required } of resourceType.extensions) {
    const pointer = `/${schema.id}`
    const raw = resource[schema.id]
    const previous = existing?.[schema.id]
    if (raw !== undefined && raw !== null && !isPlainObject(raw)) throw invalidValue(pointer, 'expected a JSON object of extension attributes')
    const attributes = checkAttributes(
      isPlainObject(raw) ? raw : {},
      schema.attributes,
      pointer,
      limits,
      isPlainObject(previous) ? previous : undefined,
    )
    if (Object.keys(attributes).length === 0) {
      if (required) throw invalidValue(pointer, 'the extension is required')
      continue
    }
    cleaned[schema.id] = attributes
    schemaIds.push(schema.id)
  }
  return cleaned
}

const limitsByType = new WeakMap<ResourceTypeDefinition, ValueLimits>()

function limitsFor(resourceType: ResourceTypeDefinition): ValueLimits {
  let found = limitsByType.get(resourceType)
  if (found === undefined) {
    const members = resourceType.schema.id === GROUP_SCHEMA ? findAttributeDefinition(resourceType.schema.attributes, 'members') : undefined
    found = { unlimited: new Set(members === undefined ? [] : [members]) }
    limitsByType.set(resourceType, found)
  }
  return found
}

function checkAttributes(
  input: JsonObject,
  definitions: readonly AttributeDefinition[],
  pointerPrefix: string,
  limits: ValueLimits,
  previous: JsonObject | undefined,
): JsonObject {
  const result: JsonObject = {}
  for (const definition of definitions) {
    const pointer = `${pointerPrefix}/${definition.name}`
    const value = Object.hasOwn(input, definition.name) ? input[definition.name] : undefined
    const previousValue = previous !== undefined && Object.hasOwn(previous, definition.name) ? previous[definition.name] : undefined
    const present = value !== null && value !== undefined
    if (present) result[definition.name] = checkAttributeValue(definition, value, pointer, limits)
    if (previous !== undefined) checkImmutable(definition, result, previousValue, pointer, limits)
    if (definition.required && result[definition.name] === undefined) throw invalidValue(pointer, 'is required')
  }
  return result
}

/**
 * RFC 7644 §3.5.1: an immutable attribute that already has a value must be
 * given the same value; when the replacement omits it, the stored value is
 * kept. Multi-valued attributes with immutable sub-attributes (Group
 * `members`) are not compared: their elements are added and removed, never
 * changed in place.
 */
function checkImmutable(
  definition: AttributeDefinition,
  result: JsonObject,
  previousValue: unknown,
  pointer: string,
  limits: ValueLimits,
): void {
  if (previousValue === null || previousValue === undefined) return
  const next = result[definition.name]
  if (definition.mutability === 'immutable') {
    if (next === undefined) {
      result[definition.name] = checkAttributeValue(definition, previousValue, pointer, limits)
    } else if (!jsonEqual(next, previousValue)) {
      throw new ScimError(400, 'mutability', `${pointer}: the attribute is immutable and cannot be changed`)
    }
    return
  }
  if (definition.type !== 'complex' || definition.multiValued || !isPlainObject(previousValue)) return
  const nextObject: JsonObject = isPlainObject(next) ? { ...next } : {}
  for (const subAttribute of definition.subAttributes ?? []) {
    const previousSub = Object.hasOwn(previousValue, subAttribute.name) ? previousValue[subAttribute.name] : undefined
    checkImmutable(subAttribute, nextObject, previousSub, `${pointer}/${subAttribute.name}`, limits)
  }
  if (Object.keys(nextObject).length > 0) result[definition.name] = nextObject
}

function jsonEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true
  if (Array.isArray(left)) {
    return Array.isArray(right) && left.length === right.length && left.every((item, index) => jsonEqual(item, right[index]))
  }
  if (!isPlainObject(left) || !isPlainObject(right)) return false
  const leftKeys = Object.keys(left).filter((key) => left[key] !== null && left[key] !== undefined)
  const rightKeys = Object.keys(right).filter((key) => right[key] !== null && right[key] !== undefined)
  return leftKeys.length === rightKeys.length && leftKeys.every((key) => jsonEqual(left[key], right[key]))
}
