// RFC 7644 §3.5.2: read a PATCH body into operations, normalising what
// identity providers really send (docs/identity-providers.md#r2) so that applyPatch
// and planMemberOperations only see RFC-shaped operations:
// - keys (`Operations`, `op`, `path`, `value`) and `op` values in any case
//   (Entra sends `"Replace"`);
// - a missing or foreign `schemas` is accepted: the PatchOp URN adds nothing
//   we need, and a 400 here would stop a provider's whole sync;
// - `"value": null` means absent: an add of nothing is dropped, a replace of
//   a path with nothing unassigns it (RFC 7643 §2.5: null ≡ unassigned);
// - remove with a value array becomes one filtered remove per value.
// Dropped and split operations keep the request position in `index`.
import { ScimError } from '../../../lib/scim-error.ts'
import { operationLabel } from './operation-error.ts'
import type { PatchOperation, PatchOperationKind } from './patch-operation.ts'
import { findKey, isPlainObject, readKey } from './plain-object.ts'
import type { PlainObject } from './plain-object.ts'
import { removeValueIds, valueFilterPath } from './remove-value-ids.ts'

/**
 * More operations than this in one request is a 400 `tooMany`: the RFC has no
 * PATCH limit and `tooMany` is the closest scimType (too much to process).
 */
export const MAX_PATCH_OPERATIONS = 1000

const OPERATION_KINDS: ReadonlySet<string> = new Set<PatchOperationKind>(['add', 'remove', 'replace'])

export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isPlainObject(body)) throw new ScimError(400, 'invalidSyntax', 'a PATCH body must be a JSON object')
  const operations = readKey(body, 'Operations')
  // RFC 7644 §3.5.2: "Operations" is an array of one or more operations.
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new ScimError(400, 'invalidSyntax', 'a PATCH body needs "Operations": an array of one or more operations')
  }
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw new ScimError(
      400,
      'tooMany',
      `a PATCH request carries ${operations.length} operations: at most ${MAX_PATCH_OPERATIONS} are accepted`,
    )
  }
  return operations.flatMap((operation: unknown, index) => {
    try {
      return readOperation(operation, index)
    } catch (error) {
      if (error instanceof ScimError) {
        throw new ScimError(error.status, error.scimType, `${operationLabel(index)}: ${error.message}`)
      }
      throw error
    }
  })
}

function readOperation(operation: unknown, index: number): PatchOperation[] {
  if (!isPlainObject(operation)) throw new ScimError(400, 'invalidSyntax', 'an operation must be a JSON object')
  const op = readOp(operation)
  const path = readPath(operation)
  const hasValue = findKey(operation, 'value') !== undefined
  const value = readKey(operation, 'value')

  if (op === 'remove') {
    // RFC 7644 §3.5.2.2: remove without a path → 400 noTarget.
    if (path === undefined) throw new ScimError(400, 'noTarget', 'remove needs a "path"')
    if (value === undefined || value === null || path.includes('[')) return [{ op, path, index }]
    if (Array.isArray(value) || isPlainObject(value)) {
      return removeValueIds(value).map((id) => ({ op, path: valueFilterPath(path, id), index }))
    }
    throw new ScimError(400, 'invalidValue', 'remove takes no "value" other than a list of {"value": <id>} to remove')
  }

  if (!hasValue) throw new ScimError(400, 'invalidValue', `${op} needs a "value"`)
  if (value === null || value === undefined) {
    if (op === 'add') return []
    if (path === undefined) throw new ScimError(400, 'invalidValue', 'replace without a "path" needs an object "value"')
    return [{ op: 'remove', path, index }]
  }
  return [path === undefined ? { op, value, index } : { op, path, value, index }]
}

function readOp(operation: PlainObject): PatchOperationKind {
  const op = readKey(operation, 'op')
  const normalised = typeof op === 'string' ? op.trim().toLowerCase() : undefined
  if (normalised === undefined || !OPERATION_KINDS.has(normalised)) {
    const shown = typeof op === 'string' ? `"${op}"` : 'missing'
    throw new ScimError(400, 'invalidSyntax', `"op" is ${shown}: expected "add", "remove" or "replace"`)
  }
  return normalised as PatchOperationKind
}

/** An empty or null path is no path. */
function readPath(operation: PlainObject): string | undefined {
  const path = readKey(operation, 'path')
  if (path === undefined || path === null) return undefined
  if (typeof path !== 'string') throw new ScimError(400, 'invalidPath', '"path" must be a string')
  const trimmed = path.trim()
  return trimmed === '' ? undefined : trimmed
}
