// Which attributes a write changed, as SCIM attribute paths (`name.givenName`,
// `emails`, `urn:…:enterprise:2.0:User:manager.value`), for the event log.
// Values never leave this function: the log records paths only.
import { deepEqual } from './patch/deep-equal.ts'
import type { ScimResource } from './schema/types.ts'

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Paths whose value differs between `before` and `after`; complex attributes and extensions are compared one level down. */
export function changedPaths(before: ScimResource, after: ScimResource, ignored: readonly string[] = []): string[] {
  const skip = new Set(ignored.map((name) => name.toLowerCase()))
  const paths: string[] = []
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
  for (const name of names) {
    if (skip.has(name.toLowerCase())) continue
    const left = before[name]
    const right = after[name]
    if (deepEqual(left, right)) continue
    const separator = name.startsWith('urn:') ? ':' : '.'
    if (isObject(left) && isObject(right)) {
      for (const sub of changedPaths(left, right)) paths.push(`${name}${separator}${sub}`)
    } else if (isObject(left) !== isObject(right) && (isObject(left) || isObject(right))) {
      const side = (isObject(left) ? left : right) as Record<string, unknown>
      for (const sub of Object.keys(side).sort()) paths.push(`${name}${separator}${sub}`)
    } else paths.push(name)
  }
  return paths
}
