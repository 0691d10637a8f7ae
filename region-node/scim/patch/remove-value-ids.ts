// Entra ID removes members with a value array instead of a filter:
// `{"op":"Remove","path":"members","value":[{"value":"<id>"}]}`
// (docs/identity-providers.md#r12). These are the ids of such a value.
import { ScimError } from '../../../lib/scim-error.ts'
import { isPlainObject, readKey } from './plain-object.ts'

export function removeValueIds(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value]
  return items.map((item, position) => {
    const id = isPlainObject(item) ? readKey(item, 'value') : undefined
    if (typeof id !== 'string' || id === '') {
      throw new ScimError(400, 'invalidValue', `remove value[${position}] needs a non-empty string "value"`)
    }
    return id
  })
}

/** `members[value eq "<id>"]`; the id is written as a JSON string, as RFC 7644 §3.4.2.2 filter literals are. */
export function valueFilterPath(path: string, id: string): string {
  return `${path}[value eq ${JSON.stringify(id)}]`
}
