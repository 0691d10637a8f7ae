// Event cursors are opaque to callers: a position in the region's log,
// encoded so nobody builds one by hand. A position is the event's row (seq)
// and, for a membership row holding many members, the member's place in it
// (1..n); an ordinary row is one event at place 0, written without it, so
// the cursors of such events are the same as before membership rows existed.
import { ScimError } from '../../lib/scim-error.ts'

const PREFIX = 'ev1.'
const MAX_SEQ = 9_223_372_036_854_775_807n
/** Places are integers in SQL (event_feed_positions.after_pos, array subscripts): room left for a page after one. */
const MAX_POS = 1_000_000_000

export interface EventPosition {
  readonly seq: bigint
  /** 0 for an ordinary row; 1..n for the members of a membership row. */
  readonly pos: number
}

export function encodeEventCursor(seq: string | bigint, pos = 0): string {
  return Buffer.from(`${PREFIX}${String(seq)}${pos === 0 ? '' : `.${pos}`}`).toString('base64url')
}

/** The position a cursor names; 400 when it is not one of ours. */
export function decodeEventPosition(cursor: string, parameter: string): EventPosition {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : ''
  const match = /^ev1\.(\d{1,19})(?:\.([1-9]\d{0,9}))?$/.exec(text)
  const seq = match === null ? undefined : BigInt(match[1]!)
  const pos = match?.[2] === undefined ? 0 : Number(match[2])
  if (seq === undefined || seq > MAX_SEQ || pos > MAX_POS) throw new ScimError(400, 'invalidValue', `${parameter} is not a cursor this service issued`)
  return { seq, pos }
}

/** The row (seq) a cursor names; 400 when it is not one of ours. */
export function decodeEventCursor(cursor: string, parameter: string): bigint {
  return decodeEventPosition(cursor, parameter).seq
}
