// Event cursors are opaque to callers: a position in the region's log (the
// event's seq), encoded so nobody builds one by hand.
import { ScimError } from '../../lib/scim-error.ts'

const PREFIX = 'ev1.'

export function encodeEventCursor(seq: string | bigint): string {
  return Buffer.from(`${PREFIX}${String(seq)}`).toString('base64url')
}

/** The seq a cursor names; 400 when it is not one of ours. */
export function decodeEventCursor(cursor: string, parameter: string): bigint {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : ''
  const match = /^ev1\.(\d{1,19})$/.exec(text)
  if (match === null) throw new ScimError(400, 'invalidValue', `${parameter} is not a cursor this service issued`)
  const seq = BigInt(match[1]!)
  if (seq > 9_223_372_036_854_775_807n) throw new ScimError(400, 'invalidValue', `${parameter} is not a cursor this service issued`)
  return seq
}
