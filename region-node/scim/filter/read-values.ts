// Reads attribute values from a SCIM object the way filters see them:
// attribute names match case-insensitively (RFC 7643 §2.1) and multi-valued
// attributes contribute every value (RFC 7644 §3.4.2.2).

export type PlainObject = Readonly<Record<string, unknown>>

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Own property `name` of `object`, exact spelling first, then any letter case. */
export function getAttribute(object: PlainObject, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name]
  const lower = name.toLowerCase()
  for (const key of Object.keys(object)) {
    if (key.toLowerCase() === lower) return object[key]
  }
  return undefined
}

/**
 * The values at `names` below `object`: arrays along the way are spread, so
 * `['emails', 'value']` yields the value of every email. Absent and null
 * values are left out.
 */
export function readValues(object: PlainObject, names: readonly string[]): unknown[] {
  let values: unknown[] = [object]
  for (const name of names) {
    const next: unknown[] = []
    for (const value of values) {
      if (!isPlainObject(value)) continue
      const child = getAttribute(value, name)
      // A loop, not push(...child): a 100,000-member list would overflow the call stack.
      if (Array.isArray(child)) for (const item of child) next.push(item)
      else next.push(child)
    }
    values = next
  }
  return values.filter((value) => value !== undefined && value !== null)
}

/**
 * RFC 7644 §3.4.2.2 `pr`: "If the attribute has a non-empty value, or if it
 * contains a non-empty node for complex attributes, there is a match."
 */
export function isPresentValue(value: unknown, depth = 0): boolean {
  if (value === undefined || value === null || value === '') return false
  // Resources are shallow (RFC 7643 §2.3.8); the bound only guards odd input.
  if (depth > 8) return true
  if (Array.isArray(value)) return value.some((item) => isPresentValue(item, depth + 1))
  if (isPlainObject(value)) return Object.values(value).some((item) => isPresentValue(item, depth + 1))
  return true
}
