// Prototype-pollution guard (the lesson of scim-patch): a path segment or a
// value key that names an Object.prototype slot is refused before anything is
// resolved or written. Compared ignoring case because attribute names are
// case-insensitive and a lower-casing lookup would turn `__PROTO__` into
// `__proto__`.
import { ScimError } from '../../../lib/scim-error.ts'
import type { AttributePath, FilterNode, PatchPath } from '../filter/ast.ts'

const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

export function isForbiddenName(name: string): boolean {
  return FORBIDDEN_NAMES.has(name.toLowerCase())
}

function refuse(name: string): never {
  throw new ScimError(400, 'invalidPath', `"${name}" is not an attribute name`)
}

function checkAttributePath(path: AttributePath): void {
  const segments = [...(path.uri?.split(':') ?? []), path.attribute, path.subAttribute ?? '']
  for (const segment of segments) if (isForbiddenName(segment)) refuse(segment)
}

function checkFilter(filter: FilterNode): void {
  switch (filter.kind) {
    case 'compare':
    case 'present':
      return checkAttributePath(filter.path)
    case 'and':
    case 'or':
      checkFilter(filter.left)
      return checkFilter(filter.right)
    case 'not':
      return checkFilter(filter.filter)
    case 'valuePath':
      checkAttributePath(filter.path)
      return checkFilter(filter.filter)
  }
}

export function assertSafePath(path: PatchPath): void {
  checkAttributePath(path.attribute)
  if (path.valueFilter !== undefined) checkFilter(path.valueFilter)
  if (path.subAttribute !== undefined && isForbiddenName(path.subAttribute)) refuse(path.subAttribute)
}

/** Every key at every depth of a JSON value, and every segment of dotted or URN-qualified keys. */
export function assertSafeValue(value: unknown): void {
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const current = pending.pop()
    if (Array.isArray(current)) {
      pending.push(...current)
    } else if (typeof current === 'object' && current !== null) {
      for (const key of Object.keys(current)) {
        for (const segment of key.split(/[.:]/)) if (isForbiddenName(segment)) refuse(key)
        pending.push((current as Record<string, unknown>)[key])
      }
    }
  }
}
