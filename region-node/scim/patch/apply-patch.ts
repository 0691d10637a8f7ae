// RFC 7644 §3.5.2: apply PATCH operations to a resource. Pure and
// non-mutating (the lesson of scim-patch): the resource is deep-copied once
// and only the copy is changed; values are coerced with the ingest rules
// (docs/identity-providers.md#r2), so what is stored has the RFC types only.
// The result still goes through validateResource before it is stored.
//
// Choices where the RFC leaves room or identity providers deviate:
// - `changed` is false when the result deep-equals the input, so idempotent
//   PATCHes (providers resend them) do not bump the version;
// - removing a required attribute (userName, displayName) is 400 mutability
//   (RFC 7644 §3.5.2.2);
// - Group `members` never reach this function (planMemberOperations splits
//   them out for SQL set operations); if they do, it is a bug: plain Error.
import type { ResourceTypeDefinition, ScimResource } from '../schema/index.ts'
import { applyOperation } from './apply-operation.ts'
import type { PatchContext } from './apply-operation.ts'
import { deepEqual } from './deep-equal.ts'
import { withOperationIndex } from './operation-error.ts'
import type { PatchOperation } from './patch-operation.ts'
import { findKey, isPlainObject } from './plain-object.ts'

export function applyPatch(
  resource: ScimResource,
  operations: readonly PatchOperation[],
  resourceType: ResourceTypeDefinition,
): { resource: ScimResource; changed: boolean } {
  const context: PatchContext = {
    resourceType,
    resource: structuredClone(resource),
    id: resource['id'],
    touchedExtensions: new Set(),
  }
  operations.forEach((operation, position) => {
    try {
      applyOperation(context, operation)
    } catch (error) {
      throw withOperationIndex(error, operation.index ?? position)
    }
  })
  for (const schemaId of context.touchedExtensions) keepSchemasInStep(context.resource, schemaId)
  return { resource: context.resource, changed: !deepEqual(context.resource, resource) }
}

// RFC 7643 §3: `schemas` lists the extensions a resource carries; an emptied
// extension object is removed with its URN.
function keepSchemasInStep(resource: ScimResource, schemaId: string): void {
  const key = findKey(resource, schemaId)
  const extension = key === undefined ? undefined : resource[key]
  const present = isPlainObject(extension) && Object.keys(extension).length > 0
  if (!present && key !== undefined) delete resource[key]
  const schemas = resource['schemas']
  if (!Array.isArray(schemas)) return
  const listed = schemas.some((uri) => typeof uri === 'string' && uri.toLowerCase() === schemaId.toLowerCase())
  if (present && !listed) resource['schemas'] = [...schemas, schemaId]
  if (!present && listed) {
    resource['schemas'] = schemas.filter((uri) => typeof uri !== 'string' || uri.toLowerCase() !== schemaId.toLowerCase())
  }
}
