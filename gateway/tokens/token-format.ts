// Provisioning token format, GitHub-style so a leaked token is recognisable
// and a mistyped one is refused without any I/O:
//
//   scg_<region>_<32 random base62><6 base62 checksum>     e.g. scg_eu1_…
//
// - `scg_` is a fixed prefix; the region code is lower-case (catalog codes are
//   `[A-Z][A-Z0-9]{1,15}`);
// - 32 base62 characters from crypto.randomBytes carry 32·log2(62) ≈ 190 bits;
// - the checksum is CRC32 (node:zlib) over everything before it, written as
//   6 base62 digits (62^6 > 2^32), left-padded with '0'. CRC32 detects every
//   burst error up to 32 bits, so any single changed character fails it.
import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'

export const TOKEN_PREFIX = 'scg_'
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const SECRET_LENGTH = 32
const CHECKSUM_LENGTH = 6
const REGION_PATTERN = /^[a-z][a-z0-9]{1,15}$/

/**
 * Finds provisioning tokens in free text, for secret scanners (GitHub secret
 * scanning custom patterns, gitleaks, trufflehog). Unanchored and without
 * flags so it is safe to share; use `new RegExp(TOKEN_PATTERN.source, 'g')`
 * to find every match. A match is only a candidate: confirm with parseToken
 * (checksum) to rule out look-alikes.
 *
 *   \bscg_[a-z][a-z0-9]{1,15}_[0-9A-Za-z]{38}\b
 */
export const TOKEN_PATTERN = /\bscg_[a-z][a-z0-9]{1,15}_[0-9A-Za-z]{38}\b/

const EXACT_PATTERN = /^scg_([a-z][a-z0-9]{1,15})_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/

/** `count` uniformly distributed base62 characters (rejection sampling keeps the distribution flat). */
export function randomBase62(count: number): string {
  let out = ''
  while (out.length < count) {
    for (const byte of randomBytes(count * 2)) {
      // 248 = 4 × 62: bytes above it would bias the first characters.
      if (byte < 248) out += BASE62[byte % 62]
      if (out.length === count) break
    }
  }
  return out
}

function checksum(body: string): string {
  let value = crc32(body)
  let digits = ''
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    digits = BASE62[value % 62] + digits
    value = Math.floor(value / 62)
  }
  return digits
}

/** How every token of the region begins: `scg_<code>_`, the code in lower case. */
export function tokenPrefix(region: string): string {
  return `${TOKEN_PREFIX}${region.toLowerCase()}_`
}

export function generateToken(region: string): string {
  if (!REGION_PATTERN.test(region.toLowerCase())) throw new Error(`invalid region code ${JSON.stringify(region)}`)
  const body = `${tokenPrefix(region)}${randomBase62(SECRET_LENGTH)}`
  return body + checksum(body)
}

/** Structural check only (prefix, length, alphabet, checksum): no I/O. */
export function parseToken(text: string): { region: string } | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined
  const match = EXACT_PATTERN.exec(text)
  if (match === null) return undefined
  const [, region = '', , sum = ''] = match
  if (checksum(text.slice(0, text.length - CHECKSUM_LENGTH)) !== sum) return undefined
  return { region: region.toUpperCase() }
}
