// Client JSON is walked with an explicit stack, never by recursion, and refused
// past a fixed depth: a 20,000-deep array must become a 400, not a stack overflow
// in whatever later walks the value (normalisation, PATCH, /Bulk references).
import { ScimError } from '../../lib/scim-error.ts'

/** Deep enough for any SCIM body (a PatchOp value holding an extension's complex attribute is about 6 levels). */
export const MAX_JSON_DEPTH = 32

/** Throws 400 invalidSyntax when `value` nests objects or arrays deeper than `maxDepth`. */
export function assertJsonDepth(value: unknown, maxDepth: number = MAX_JSON_DEPTH): void {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }]
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!
    if (typeof current !== 'object' || current === null) continue
    if (depth >= maxDepth) throw new ScimError(400, 'invalidSyntax', `the JSON body nests deeper than ${maxDepth} levels`)
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: depth + 1 })
    }
  }
}
