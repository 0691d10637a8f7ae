import type { z } from 'zod'
import { ScimError } from '../../lib/scim-error.ts'

/** Validates a body or query with its contract schema; a 400 invalidValue lists every problem. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input ?? {})
  if (!result.success) throw new ScimError(400, 'invalidValue', result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '))
  return result.data
}
