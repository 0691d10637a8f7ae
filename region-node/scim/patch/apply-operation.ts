// RFC 7644 §3.5.2: one operation against the working copy of a resource:
// path resolution, mutability rules, and where an attribute lives (core
// attributes at the top level, extension attributes under their URN key,
// RFC 7643 §3.3). The working copy is applyPatch's own deep copy.
import { ScimError } from '../../../lib/scim-error.ts'
import { describeWithin, parsePath } from '../filter/index.ts'
import type { PatchPath } from '../filter/index.ts'
import { attributeShape, findAttributeDefinition, findResourceSchema, resolveAttribute } from '../schema/index.ts'
import type { AttributeDefinition, ResolvedAttribute, ResourceTypeDefinition } from '../schema/index.ts'
import { deepEqual } from './deep-equal.ts'
import { assertSafePath, assertSafeValue } from './forbidden-names.ts'
import { nextAttributeValue } from './next-attribute-value.ts'
import type { PatchOperation, PatchOperationKind } from './patch-operation.ts'
import { findKey, isPlainObject } from './plain-object.ts'
import type { PlainObject } from './plain-object.ts'

export interface PatchContext {
  readonly resourceType: ResourceTypeDefinition
  /** applyPatch's deep copy, changed in place. */
  readonly resource: PlainObject
  /** The `id` before the PATCH: a no-path replace may repeat it (Okta). */
  readonly id: unknown
  /** Extension URNs whose object was written, so applyPatch can keep `schemas` in step. */
  readonly touchedExtensions: Set<string>
}

/**
 * How the target was named: by `path` (strict: unknown attributes and
 * readOnly targets are errors) or as a key of a no-path value (lenient, as
 * docs/identity-providers.md#r2 asks: unknown attributes and readOnly attributes
 * such as `meta` are ignored).
 */
interface Target {
  readonly lenient: boolean
  readonly text: string
  readonly pointer: string
}

export function applyOperation(context: PatchContext, operation: PatchOperation): void {
  if (operation.path === undefined) {
    // RFC 7644 §3.5.2.2: remove without path → 400 noTarget.
    if (operation.op === 'remove') throw new ScimError(400, 'noTarget', 'remove needs a "path"')
    assertSafeValue(operation.value)
    applyObjectValue(context, operation.op, operation.value, undefined, true, '/value')
    return
  }
  const path = parsePath(operation.path)
  assertSafePath(path)
  assertSafeValue(operation.value)
  if (path.attribute.attribute === '') {
    applyToSchemaObject(context, operation.op, path.attribute.uri ?? '', operation.value)
    return
  }
  applyToAttribute(context, operation.op, path, operation.value, { lenient: false, text: operation.path, pointer: '/value' })
}

/**
 * RFC 7644 §3.5.2.1/§3.5.2.3 without path: every key of the value is an
 * attribute to add or replace. Entra sends dotted (`name.givenName`) and
 * URN-qualified (`urn:…:enterprise:2.0:User:employeeNumber`) keys: each key is
 * read as a path. A schema URN key holds an object of that schema's attributes.
 */
function applyObjectValue(
  context: PatchContext,
  kind: Exclude<PatchOperationKind, 'remove'>,
  value: unknown,
  uri: string | undefined,
  lenient: boolean,
  pointer: string,
): void {
  if (!isPlainObject(value)) {
    throw new ScimError(400, 'invalidValue', `${kind} ${uri === undefined ? 'without "path"' : `of "${uri}"`} needs an object "value"`)
  }
  for (const [key, entry] of Object.entries(value)) {
    if (entry === null || entry === undefined) continue
    const text = uri === undefined ? key : `${uri}:${key}`
    // RFC 6901: `~` and `/` are escaped in a JSON pointer.
    const entryPointer = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`
    if (uri === undefined && key.toLowerCase() === 'schemas') continue
    if (uri === undefined && findResourceSchema(context.resourceType, key) !== undefined) {
      applyObjectValue(context, kind, entry, key, lenient, entryPointer)
      continue
    }
    const path = readKeyPath(text, lenient)
    if (path === undefined) continue
    assertSafePath(path)
    applyToAttribute(context, kind, path, entry, { lenient, text, pointer: entryPointer })
  }
}

/** A key names an attribute (`name.givenName`, `urn:…:User:employeeNumber`), never a value filter. */
function readKeyPath(text: string, lenient: boolean): PatchPath | undefined {
  let path: PatchPath
  try {
    path = parsePath(text)
  } catch (error) {
    if (lenient && error instanceof ScimError) return undefined
    throw error
  }
  if (path.valueFilter === undefined && path.attribute.attribute !== '') return path
  if (lenient) return undefined
  throw new ScimError(400, 'invalidPath', `"${text}" is not an attribute name`)
}

/** `"path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`: the extension object itself. */
function applyToSchemaObject(context: PatchContext, kind: PatchOperationKind, uri: string, value: unknown): void {
  const target = findResourceSchema(context.resourceType, uri)
  if (target === undefined) throw new ScimError(400, 'invalidPath', `"${uri}" is not a schema of ${context.resourceType.name}`)
  if (kind !== 'remove') return applyObjectValue(context, kind, value, target.schema.id, false, '/value')
  const extension = context.resourceType.extensions.find(({ schema }) => schema === target.schema)
  if (extension === undefined) throw new ScimError(400, 'invalidPath', `the core schema "${uri}" cannot be removed`)
  if (extension.required) throw new ScimError(400, 'mutability', `the required extension "${target.schema.id}" cannot be removed`)
  const key = findKey(context.resource, target.schema.id)
  if (key === undefined) return
  delete context.resource[key]
  context.touchedExtensions.add(target.schema.id)
}

function applyToAttribute(
  context: PatchContext,
  kind: PatchOperationKind,
  path: PatchPath,
  value: unknown,
  target: Target,
): void {
  const { resourceType } = context
  const resolved = resolveAttribute(resourceType, path.attribute)
  if (resolved === undefined) {
    if (target.lenient) return
    throw new ScimError(400, 'invalidPath', `"${target.text}" names no attribute of ${resourceType.name}`)
  }
  if (isGroupMembers(resourceType, resolved)) {
    // Not bad input: the PATCH service must route members through planMemberOperations.
    throw new Error('Group members reached applyPatch: split them out with planMemberOperations first')
  }
  const { attribute, subAttribute } = resolved
  const filterSubAttribute = valueFilterSubAttribute(path, attribute, target)
  if (path.valueFilter !== undefined && (!attribute.multiValued || attribute.type !== 'complex')) {
    throw new ScimError(400, 'invalidPath', `"${target.text}": a value filter applies to a multi-valued complex attribute`)
  }
  const leaf = subAttribute ?? filterSubAttribute
  if (attribute.mutability === 'readOnly' || leaf?.mutability === 'readOnly') {
    if (!target.lenient) throw new ScimError(400, 'mutability', `"${target.text}" is readOnly`)
    // Okta repeats the id in a no-path replace; a different id is a real conflict.
    if (isId(resolved) && subAttribute === undefined && value !== context.id) {
      throw new ScimError(400, 'mutability', `"id" is readOnly: ${JSON.stringify(value)} is not this resource's id`)
    }
    return
  }
  // RFC 7644 §3.5.2.2: removing a required attribute or sub-attribute → mutability.
  if (kind === 'remove' && leaf?.required === true) {
    throw new ScimError(400, 'mutability', `"${target.text}" is required and cannot be removed`)
  }

  const container = attributeContainer(context, resolved, kind !== 'remove')
  const key = container === undefined ? undefined : findKey(container, attribute.name)
  const current = container === undefined || key === undefined ? undefined : container[key]
  const next = nextAttributeValue(current, {
    kind,
    attribute,
    ...(subAttribute === undefined ? {} : { subAttribute }),
    ...(path.valueFilter === undefined ? {} : { valueFilter: path.valueFilter }),
    ...(filterSubAttribute === undefined ? {} : { filterSubAttribute }),
    describe: describeWithin(path.attribute, (full) => attributeShape(resourceType, full)),
    value,
    pointer: target.pointer,
  })

  if (next === undefined && attribute.required) {
    throw new ScimError(400, 'mutability', `"${attribute.name}" is required and cannot be removed`)
  }
  // RFC 7643 §2.2: an immutable attribute may be set once, never changed.
  if (attribute.mutability === 'immutable' && current !== undefined && !deepEqual(current, next)) {
    throw new ScimError(400, 'mutability', `"${attribute.name}" is immutable`)
  }
  if (container === undefined) return
  if (key !== undefined && key !== attribute.name) delete container[key]
  if (next === undefined) delete container[attribute.name]
  else container[attribute.name] = next
  if (resolved.inExtension) context.touchedExtensions.add(resolved.schemaId)
}

function valueFilterSubAttribute(path: PatchPath, attribute: AttributeDefinition, target: Target): AttributeDefinition | undefined {
  if (path.subAttribute === undefined) return undefined
  const sub = findAttributeDefinition(attribute.subAttributes ?? [], path.subAttribute)
  if (sub === undefined) {
    throw new ScimError(400, 'invalidPath', `"${target.text}": "${attribute.name}" has no sub-attribute "${path.subAttribute}"`)
  }
  return sub
}

/** The object holding the attribute: the resource, or its extension object (created when `create`). */
function attributeContainer(context: PatchContext, resolved: ResolvedAttribute, create: boolean): PlainObject | undefined {
  const { resource } = context
  if (!resolved.inExtension) return resource
  const key = findKey(resource, resolved.schemaId)
  const existing = key === undefined ? undefined : resource[key]
  if (isPlainObject(existing)) {
    if (key === resolved.schemaId) return existing
    if (key !== undefined) delete resource[key]
    resource[resolved.schemaId] = existing
    return existing
  }
  if (!create) return undefined
  const created: PlainObject = {}
  resource[resolved.schemaId] = created
  // applyPatch drops it again if nothing ends up in it.
  context.touchedExtensions.add(resolved.schemaId)
  return created
}

function isId(resolved: ResolvedAttribute): boolean {
  return !resolved.inExtension && resolved.attribute.name === 'id'
}

export function isGroupMembers(resourceType: ResourceTypeDefinition, resolved: ResolvedAttribute): boolean {
  return resourceType.id === 'Group' && !resolved.inExtension && resolved.attribute.name === 'members'
}
