// Tokens are stored only as HMAC-SHA256 digests keyed with a server-side
// "pepper", so a Redis dump alone cannot be used to authenticate. Peppers
// rotate by version: new tokens are hashed with the current version, lookups
// try every configured version (a token keeps the version it was created with).
import { createHmac } from 'node:crypto'
import { pepperProblems, type Pepper } from '../../config/token-peppers.ts'

export interface TokenHasher {
  /** The version new tokens are hashed with. */
  readonly current: string
  /** HMAC-SHA256 of the token under the pepper `version`, lower-case hex. */
  digest(token: string, version: string): string
  /** Every configured version, the current one first (the order lookups use). */
  readonly versions: readonly string[]
}

export function createTokenHasher(peppers: readonly Pepper[], currentVersion: string): TokenHasher {
  const problems = pepperProblems(peppers, currentVersion, false)
  if (problems.length > 0) throw new Error(`invalid token peppers: ${problems.join('; ')}`)
  const secrets = new Map(peppers.map((p) => [p.version, p.secret]))
  const versions = Object.freeze([currentVersion, ...peppers.map((p) => p.version).filter((v) => v !== currentVersion)])
  return Object.freeze({
    current: currentVersion,
    versions,
    digest(token: string, version: string): string {
      const secret = secrets.get(version)
      if (secret === undefined) throw new Error(`unknown pepper version ${JSON.stringify(version)}`)
      return createHmac('sha256', secret).update(token, 'utf8').digest('hex')
    },
  })
}
