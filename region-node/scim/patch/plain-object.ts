// Small helpers for JSON objects whose keys arrive in any letter case.
export type PlainObject = Record<string, unknown>

export function isPlainObject(value: unknown): value is PlainObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype: unknown = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** The key of `object` equal to `name` ignoring case; an exact match wins. */
export function findKey(object: PlainObject, name: string): string | undefined {
  if (Object.hasOwn(object, name)) return name
  const wanted = name.toLowerCase()
  return Object.keys(object).find((key) => key.toLowerCase() === wanted)
}

export function readKey(object: PlainObject, name: string): unknown {
  const key = findKey(object, name)
  return key === undefined ? undefined : object[key]
}
