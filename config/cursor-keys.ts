// Keys of the RFC 9865 cursors a node hands out (region-node/scim/cursor.ts).
// Several keys while one rotates: new cursors use the current one, every
// configured key is accepted until it is removed (at most the cursor TTL later).
import { z } from 'zod'
import { describeIssues } from './config-error.ts'
import { devSecretsRequested, missingSecret } from './dev-secrets.ts'
import { readJsonSetting } from './json-setting.ts'

export interface CursorKey {
  readonly kid: string
  readonly secret: string
}

export interface CursorKeys {
  readonly current: string
  readonly keys: readonly CursorKey[]
  readonly isDevelopment: boolean
}

/**
 * DEVELOPMENT ONLY, like the development token pepper: used when SCIM_CURSOR_KEYS is not set and
 * SCIMGATE_DEV_SECRETS=1 asks for it (config/dev-secrets.ts). It is public, so cursors signed with it prove nothing.
 */
export const DEVELOPMENT_CURSOR_KEYS: CursorKeys = Object.freeze({
  current: 'dev',
  keys: Object.freeze([Object.freeze({ kid: 'dev', secret: 'scimgate-development-only-cursor-key-do-not-use' })]),
  isDevelopment: true,
})

const keysSchema = z.array(z.strictObject({ kid: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and - only (1-32)'), secret: z.string().min(32, 'must be at least 32 characters') })).min(1)

/** SCIM_CURSOR_KEYS (or SCIM_CURSOR_KEYS_FILE): `[{"kid":"c1","secret":"…"}]`; SCIM_CURSOR_KEY_CURRENT names the signing key when there are several. */
export function resolveCursorKeys(env: Readonly<Record<string, string | undefined>>, problems: string[]): CursorKeys {
  const { given, value } = readJsonSetting(env, 'SCIM_CURSOR_KEYS', problems)
  const development = devSecretsRequested(env)
  if (!given) {
    if (!development) problems.push(missingSecret('SCIM_CURSOR_KEYS or SCIM_CURSOR_KEYS_FILE', 'the keys RFC 9865 cursors are signed with'))
    return DEVELOPMENT_CURSOR_KEYS
  }
  if (value === undefined) return DEVELOPMENT_CURSOR_KEYS
  const parsed = keysSchema.safeParse(value)
  if (!parsed.success) {
    problems.push(...describeIssues(parsed.error.issues).map((p) => `SCIM_CURSOR_KEYS.${p}`))
    return DEVELOPMENT_CURSOR_KEYS
  }
  const keys = parsed.data
  const current = env.SCIM_CURSOR_KEY_CURRENT ?? (keys.length === 1 ? keys[0]!.kid : undefined)
  if (current === undefined) problems.push('SCIM_CURSOR_KEY_CURRENT: is required when SCIM_CURSOR_KEYS holds several keys')
  else if (!keys.some((k) => k.kid === current)) problems.push(`SCIM_CURSOR_KEY_CURRENT: ${current} is not a kid of SCIM_CURSOR_KEYS`)
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) problems.push('SCIM_CURSOR_KEYS: kids must be unique')
  if (keys.some((k) => k.secret === DEVELOPMENT_CURSOR_KEYS.keys[0]!.secret) && !development) problems.push('SCIM_CURSOR_KEYS: the development key is public: it is refused without SCIMGATE_DEV_SECRETS=1')
  return Object.freeze({ current: current ?? '', keys: Object.freeze(keys.map((k) => Object.freeze({ ...k }))), isDevelopment: false })
}
