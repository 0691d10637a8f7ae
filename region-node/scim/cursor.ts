// RFC 9865 cursors: opaque to clients, keyset positions to us. A cursor names
// the last row of a page (its sort key and insertion sequence). It is
// encrypted (the sequence is table-wide and would reveal other tenants'
// activity) and authenticated with an HMAC bound to the tenant, the resource
// type and the query, with an expiry inside the MAC: it cannot be replayed by
// another tenant, against another filter or sort, or past its TTL. Keys
// rotate by kid (config/cursor-keys.ts).
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import type { CursorKeys } from '../../config/cursor-keys.ts'
import { ScimError } from '../../lib/scim-error.ts'

export type SortKeyValue = string | number | boolean | null

export interface CursorPosition {
  readonly key: SortKeyValue
  readonly seq: string
}

/** What a cursor is bound to: it is valid only for the same tenant and query. */
export interface CursorBinding {
  readonly tenantId: string
  /** queryFingerprint of resource type, filter and sort. */
  readonly fingerprint: string
}

export interface CursorCodec {
  encode(position: CursorPosition, binding: CursorBinding, nowMs: number): string
  decode(cursor: string, binding: CursorBinding, nowMs: number): CursorPosition
}

interface CursorPayload {
  readonly k: SortKeyValue
  readonly s: string
  /** Expiry, seconds since the epoch. */
  readonly e: number
}

const IV_BYTES = 16
const MAC_BYTES = 32
const MAX_CURSOR_LENGTH = 2048

/** Identifies the query a cursor belongs to: resource type, filter and sort. */
export function queryFingerprint(parts: readonly (string | undefined)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16)
}

function deriveKeys(secret: string): { encryption: Buffer; mac: Buffer } {
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', secret, 'scimgate-cursor', info, 32))
  return { encryption: derive('encryption'), mac: derive('mac') }
}

export function createCursorCodec(keys: CursorKeys, ttlSeconds: number): CursorCodec {
  const derived = new Map(keys.keys.map((k) => [k.kid, deriveKeys(k.secret)]))
  const invalid = (): ScimError => new ScimError(400, 'invalidCursor', 'the cursor is not valid for this query')
  const mac = (key: Buffer, kid: string, sealed: Buffer, binding: CursorBinding): Buffer =>
    createHmac('sha256', key).update(JSON.stringify([kid, binding.tenantId, binding.fingerprint])).update(sealed).digest()

  return {
    encode(position, binding, nowMs) {
      const kid = keys.current
      const key = derived.get(kid)!
      const payload: CursorPayload = { k: position.key, s: position.seq, e: Math.floor(nowMs / 1000) + ttlSeconds }
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-ctr', key.encryption, iv)
      const sealed = Buffer.concat([iv, cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()])
      return `${kid}.${Buffer.concat([sealed, mac(key.mac, kid, sealed, binding)]).toString('base64url')}`
    },

    decode(cursor, binding, nowMs) {
      if (cursor.length > MAX_CURSOR_LENGTH) throw invalid()
      const match = /^([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/.exec(cursor)
      const key = match === null ? undefined : derived.get(match[1]!)
      if (match === null || key === undefined) throw invalid()
      const bytes = Buffer.from(match[2]!, 'base64url')
      if (bytes.length <= IV_BYTES + MAC_BYTES) throw invalid()
      const sealed = bytes.subarray(0, bytes.length - MAC_BYTES)
      if (!timingSafeEqual(bytes.subarray(bytes.length - MAC_BYTES), mac(key.mac, match[1]!, sealed, binding))) throw invalid()
      const decipher = createDecipheriv('aes-256-ctr', key.encryption, sealed.subarray(0, IV_BYTES))
      let payload: Partial<CursorPayload>
      try {
        payload = JSON.parse(Buffer.concat([decipher.update(sealed.subarray(IV_BYTES)), decipher.final()]).toString('utf8')) as Partial<CursorPayload>
      } catch {
        throw invalid()
      }
      const keyOk = payload.k === null || ['string', 'number', 'boolean'].includes(typeof payload.k)
      if (typeof payload !== 'object' || payload === null || !keyOk || typeof payload.s !== 'string' || !/^\d{1,19}$/.test(payload.s) || typeof payload.e !== 'number') throw invalid()
      // The expiry is inside the MAC; a shortened TTL also applies to cursors already handed out.
      const nowSeconds = nowMs / 1000
      if (nowSeconds > payload.e || payload.e - nowSeconds > ttlSeconds + 1) throw new ScimError(400, 'expiredCursor', 'the cursor has expired; start again from the first page')
      return { key: payload.k as SortKeyValue, seq: payload.s }
    },
  }
}
