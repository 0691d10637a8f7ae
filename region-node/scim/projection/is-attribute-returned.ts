// Lets a caller know before any database work whether an attribute will be
// in the response: Entra ID reads groups with `excludedAttributes=members`,
// and then the members must not even be loaded (docs/identity-providers.md#r7).
import { findResourceSchema } from '../schema/resolve.ts'
import type { ResourceTypeDefinition } from '../schema/types.ts'
import { createAttributeSelection, resolveRequestedPath, type AttributeRequest } from './attribute-selection.ts'
import { isProjectionRequested } from './is-projection-requested.ts'

// Without attributes/excludedAttributes the answer depends on the resource type and the name only (every list asks).
const unprojected = new WeakMap<ResourceTypeDefinition, Map<string, boolean>>()

/**
 * `attributeName` is a path as in an attributes list (`members`,
 * `emails.value`, `urn:…:enterprise:2.0:User` for any attribute of the
 * extension). Unknown paths → false.
 */
export function isAttributeReturned(
  resourceType: ResourceTypeDefinition,
  request: AttributeRequest,
  attributeName: string,
): boolean {
  if (isProjectionRequested(request)) return attributeReturned(resourceType, request, attributeName)
  let known = unprojected.get(resourceType)
  if (known === undefined) {
    known = new Map()
    unprojected.set(resourceType, known)
  }
  let returned = known.get(attributeName)
  if (returned === undefined) {
    returned = attributeReturned(resourceType, request, attributeName)
    known.set(attributeName, returned)
  }
  return returned
}

function attributeReturned(resourceType: ResourceTypeDefinition, request: AttributeRequest, attributeName: string): boolean {
  const path = resolveRequestedPath(resourceType, attributeName)
  if (path === undefined) return false
  const selection = createAttributeSelection(resourceType, request)
  const candidates =
    path.definition !== undefined ? [path.definition] : (findResourceSchema(resourceType, path.schemaId)?.schema.attributes ?? [])
  return candidates.some((attribute) => {
    if (!selection.includesAttribute(path.schemaId, attribute)) return false
    const subAttributes = attribute.subAttributes
    if (subAttributes === undefined) return true
    const wanted = path.subDefinition === undefined ? subAttributes : [path.subDefinition]
    return wanted.some((sub) => selection.includesSubAttribute(path.schemaId, attribute, sub))
  })
}
