// Group `members` are never read-modified-written: large groups change by SQL
// set operations (docs/identity-providers.md#r3). This splits the member changes of
// a PATCH (already read by parsePatchRequest) from the other operations,
// keeping request order within each list. Member ids are not checked here:
// the store skips ids unknown in the tenant.
import { ScimError } from '../../../lib/scim-error.ts'
import { parsePath } from '../filter/index.ts'
import type { FilterNode, PatchPath } from '../filter/index.ts'
import type { ResourceTypeDefinition } from '../schema/index.ts'
import { findResourceSchema } from '../schema/index.ts'
import { withOperationIndex } from './operation-error.ts'
import type { MemberOperation, MemberInput, PatchOperation } from './patch-operation.ts'
import { isPlainObject, readKey } from './plain-object.ts'
import type { PlainObject } from './plain-object.ts'
import { removeValueIds } from './remove-value-ids.ts'

export function planMemberOperations(
  operations: readonly PatchOperation[],
  resourceType: ResourceTypeDefinition,
): { memberOperations: MemberOperation[]; otherOperations: PatchOperation[] } {
  const memberOperations: MemberOperation[] = []
  const otherOperations: PatchOperation[] = []
  const hasMembers = resourceType.schema.attributes.some(({ name }) => name === 'members')
  operations.forEach((operation, position) => {
    if (!hasMembers) {
      otherOperations.push(operation)
      return
    }
    try {
      const split = splitOperation(operation, resourceType)
      if (split.member !== undefined) memberOperations.push(split.member)
      if (split.other !== undefined) otherOperations.push(split.other)
    } catch (error) {
      throw withOperationIndex(error, operation.index ?? position)
    }
  })
  return { memberOperations, otherOperations }
}

interface Split {
  readonly member?: MemberOperation
  readonly other?: PatchOperation
}

function splitOperation(operation: PatchOperation, resourceType: ResourceTypeDefinition): Split {
  if (operation.path === undefined) return splitObjectValue(operation, resourceType)
  const path = parsePath(operation.path)
  if (path.attribute.attribute === '' && isCoreSchema(path.attribute.uri ?? '', resourceType)) {
    return splitObjectValue(operation, resourceType)
  }
  if (!namesMembers(path, resourceType)) return { other: operation }
  const whole = path.valueFilter === undefined && path.attribute.subAttribute === undefined
  switch (operation.op) {
    case 'add':
    case 'replace':
      if (!whole) {
        throw new ScimError(400, 'invalidPath', `${operation.op} "${operation.path}": members are added or replaced as a list`)
      }
      return { member: listOperation(operation.op, operation.value) }
    case 'remove':
      if (path.valueFilter !== undefined) {
        if (path.subAttribute !== undefined) {
          throw new ScimError(400, 'invalidPath', `remove "${operation.path}": a member is removed whole`)
        }
        return { member: { kind: 'remove', memberIds: filterMemberIds(path.valueFilter) } }
      }
      if (!whole) throw new ScimError(400, 'invalidPath', `remove "${operation.path}": a member is removed whole`)
      // Entra's remove with a value array, when parsePatchRequest did not already split it.
      if (operation.value !== undefined && operation.value !== null) {
        return { member: { kind: 'remove', memberIds: removeValueIds(operation.value) } }
      }
      // RFC 7644 §3.5.2.2: remove "members" without filter removes them all.
      return { member: { kind: 'removeAll' } }
  }
}

/**
 * A no-path add/replace (or one whose path is the core schema URN) whose value
 * carries `members`, also under the core URN key: the members become a member
 * operation, the rest stays.
 */
function splitObjectValue(operation: PatchOperation, resourceType: ResourceTypeDefinition): Split {
  const { op, value } = operation
  if (op === 'remove' || !isPlainObject(value)) return { other: operation }
  const { found, members, rest } = takeMembers(value, resourceType, false)
  if (!found) return { other: operation }
  return {
    ...(members === null || members === undefined ? {} : { member: listOperation(op, members) }),
    ...(Object.keys(rest).length === 0 ? {} : { other: { ...operation, value: rest } }),
  }
}

function takeMembers(
  value: PlainObject,
  resourceType: ResourceTypeDefinition,
  nested: boolean,
): { found: boolean; members: unknown; rest: PlainObject } {
  let found = false
  let members: unknown
  const rest: PlainObject = {}
  for (const [key, entry] of Object.entries(value)) {
    if (keyNamesMembers(key, resourceType)) {
      found = true
      members = entry
    } else if (!nested && isCoreSchema(key, resourceType) && isPlainObject(entry)) {
      const inner = takeMembers(entry, resourceType, true)
      if (inner.found) {
        found = true
        members = inner.members
      }
      if (Object.keys(inner.rest).length > 0) rest[key] = inner.rest
    } else {
      rest[key] = entry
    }
  }
  return { found, members, rest }
}

function isCoreSchema(uri: string, resourceType: ResourceTypeDefinition): boolean {
  return findResourceSchema(resourceType, uri)?.inExtension === false
}

/**
 * Whether a key of a no-path value names Group members; read as a path, as
 * applyPatch reads it. A member sub-attribute or filter as key is refused, as
 * it is in a path.
 */
function keyNamesMembers(key: string, resourceType: ResourceTypeDefinition): boolean {
  let path: PatchPath
  try {
    path = parsePath(key)
  } catch {
    return false
  }
  if (!namesMembers(path, resourceType)) return false
  if (path.valueFilter !== undefined || path.attribute.subAttribute !== undefined) {
    throw new ScimError(400, 'invalidPath', `"${key}": members are added or replaced as a list`)
  }
  return true
}

function namesMembers(path: PatchPath, resourceType: ResourceTypeDefinition): boolean {
  const { uri, attribute } = path.attribute
  if (attribute.toLowerCase() !== 'members') return false
  return uri === undefined || isCoreSchema(uri, resourceType)
}

function listOperation(kind: 'add' | 'replace', value: unknown): MemberOperation {
  if (value === undefined || value === null) throw new ScimError(400, 'invalidValue', `${kind} of members needs a "value"`)
  return { kind, members: readMembers(value) }
}

/**
 * `[{value, display, $ref, type}]` or one such object; only `value` and `type` are kept. Entra ID's test
 * collection also sends bare id strings (`"value": "<id>"` or `["<id>"]`): read as `{ value: "<id>" }`.
 */
function readMembers(value: unknown): MemberInput[] {
  const items = Array.isArray(value) ? value : [value]
  return items.map((item, position) => {
    const id = isPlainObject(item) ? readKey(item, 'value') : item
    if (typeof id !== 'string' || id.trim() === '') {
      throw new ScimError(400, 'invalidValue', `members[${position}] needs a non-empty string "value"`)
    }
    const type = isPlainObject(item) ? memberType(readKey(item, 'type')) : undefined
    return type === undefined ? { value: id } : { value: id, type }
  })
}

function memberType(type: unknown): MemberInput['type'] {
  if (typeof type !== 'string') return undefined
  const lower = type.toLowerCase()
  return lower === 'user' ? 'User' : lower === 'group' ? 'Group' : undefined
}

// `members[value eq "a"]` and `members[value eq "a" or value eq "b"]`: the
// only member filters a set operation can execute.
function filterMemberIds(filter: FilterNode): string[] {
  if (filter.kind === 'or') return [...filterMemberIds(filter.left), ...filterMemberIds(filter.right)]
  if (
    filter.kind === 'compare' &&
    filter.op === 'eq' &&
    typeof filter.value === 'string' &&
    filter.path.uri === undefined &&
    filter.path.subAttribute === undefined &&
    filter.path.attribute.toLowerCase() === 'value'
  ) {
    return [filter.value]
  }
  throw new ScimError(400, 'invalidFilter', 'a members filter can only compare "value eq" (joined by "or")')
}
