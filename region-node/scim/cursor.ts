// RFC 9865 cursors: opaque to clients, keyset positions to us. A cursor names
// the last row of a page (its sort key and insertion sequence) and the query it
// belongs to, so it cannot be replayed against another filter or sort.
import { createHash } from 'node:crypto'
import { ScimError } from '../../lib/scim-error.ts'

export type SortKeyValue = string | number | boolean | null

export interface CursorPosition {
  readonly key: SortKeyValue
  readonly seq: string
}

interface CursorPayload {
  readonly v: 1
  readonly k: SortKeyValue
  readonly s: string
  readonly q: string
  readonly t: number
}

/** Identifies the query a cursor belongs to: resource type, filter and sort. */
export function queryFingerprint(parts: readonly (string | undefined)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16)
}

export function encodeCursor(position: CursorPosition, fingerprint: string, issuedAtMs: number): string {
  const payload: CursorPayload = { v: 1, k: position.key, s: position.seq, q: fingerprint, t: Math.floor(issuedAtMs / 1000) }
  return Buffer.from(JSON.stringify(payload)).toString('base64url')
}

export function decodeCursor(cursor: string, fingerprint: string, nowMs: number, ttlSeconds: number): CursorPosition {
  const invalid = (): ScimError => new ScimError(400, 'invalidCursor', 'the cursor is not valid for this query')
  if (cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid()
  let payload: Partial<CursorPayload>
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorPayload>
  } catch {
    throw invalid()
  }
  const keyOk = payload.k === null || ['string', 'number', 'boolean'].includes(typeof payload.k)
  if (typeof payload !== 'object' || payload === null || payload.v !== 1 || !keyOk || typeof payload.s !== 'string' || !/^\d{1,19}$/.test(payload.s) || typeof payload.t !== 'number') {
    throw invalid()
  }
  if (payload.q !== fingerprint) throw invalid()
  if (nowMs / 1000 - payload.t > ttlSeconds) throw new ScimError(400, 'expiredCursor', 'the cursor has expired; start again from the first page')
  return { key: payload.k as SortKeyValue, seq: payload.s }
}
