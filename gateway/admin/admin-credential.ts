import { createHash, timingSafeEqual } from 'node:crypto'

/** Compares a presented admin credential with the configured SHA-256 without leaking timing. */
export function createAdminCredentialCheck(expectedSha256Hex: string): (presented: string | undefined) => boolean {
  const expected = Buffer.from(expectedSha256Hex, 'hex')
  return (presented) => {
    if (presented === undefined || presented === '') return false
    const actual = createHash('sha256').update(presented).digest()
    return actual.length === expected.length && timingSafeEqual(actual, expected)
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
