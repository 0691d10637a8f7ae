// Token peppers from the environment. Tokens are stored only as HMAC digests
// keyed with a pepper (gateway/tokens/token-hasher.ts); peppers rotate by
// version.
import { z } from 'zod'
import { ConfigError, describeIssues } from './config-error.ts'
import { devSecretsRequested, missingSecret } from './dev-secrets.ts'

export interface Pepper {
  readonly version: string
  readonly secret: string
}

const VERSION_PATTERN = /^[A-Za-z0-9._-]{1,32}$/

/** `strict`: a real deployment's rules (secrets of 32 characters or more). */
export function pepperProblems(peppers: readonly Pepper[], current: string, strict: boolean): string[] {
  const problems: string[] = []
  if (peppers.length === 0) problems.push('at least one pepper is required')
  const seen = new Set<string>()
  peppers.forEach((pepper, index) => {
    if (!VERSION_PATTERN.test(pepper.version)) problems.push(`pepper ${index}: version must match ${VERSION_PATTERN.source}`)
    if (seen.has(pepper.version)) problems.push(`pepper ${index}: duplicate version ${pepper.version}`)
    seen.add(pepper.version)
    if (pepper.secret.length === 0) problems.push(`pepper ${pepper.version}: secret is empty`)
    else if (strict && pepper.secret.length < 32) problems.push(`pepper ${pepper.version}: secret must be at least 32 characters`)
  })
  if (peppers.length > 0 && !seen.has(current)) problems.push(`current pepper version ${JSON.stringify(current)} is not configured`)
  return problems
}

/**
 * DEVELOPMENT ONLY. Used by both the gateway and `scimgate token` when
 * TOKEN_PEPPERS is not set and SCIMGATE_DEV_SECRETS=1, so tokens made by the
 * CLI work against a local gateway. It is public, so refused otherwise.
 */
export const DEVELOPMENT_ONLY_PEPPER: Pepper = Object.freeze({
  version: 'dev',
  secret: 'scimgate-development-only-pepper-do-not-use-in-production',
})

export interface ResolvedPeppers {
  readonly peppers: readonly Pepper[]
  readonly current: string
  readonly isDevelopment: boolean
}

const peppersSchema = z.array(z.strictObject({ version: z.string(), secret: z.string() }))

/**
 * Token peppers from the environment: TOKEN_PEPPERS is a JSON array
 * `[{"version":"v1","secret":"..."}]`; TOKEN_PEPPER_CURRENT names the version
 * for new tokens (optional when there is only one). Throws a ConfigError
 * listing every problem; secrets never appear in messages.
 */
export function resolvePeppers(env: Readonly<Record<string, string | undefined>>): ResolvedPeppers {
  const development = devSecretsRequested(env)
  const raw = env.TOKEN_PEPPERS
  if (raw === undefined || raw.trim() === '') {
    if (!development) throw new ConfigError('environment', [missingSecret('TOKEN_PEPPERS', 'the keys of the token HMAC, [{"version":"v1","secret":"…"}]')])
    if (env.TOKEN_PEPPER_CURRENT !== undefined && env.TOKEN_PEPPER_CURRENT !== DEVELOPMENT_ONLY_PEPPER.version) {
      throw new ConfigError('environment', ['TOKEN_PEPPER_CURRENT is set but TOKEN_PEPPERS is not'])
    }
    return Object.freeze({ peppers: Object.freeze([DEVELOPMENT_ONLY_PEPPER]), current: DEVELOPMENT_ONLY_PEPPER.version, isDevelopment: true })
  }
  let document: unknown
  try {
    document = JSON.parse(raw)
  } catch {
    // The parser's message may quote part of the secret: do not repeat it.
    throw new ConfigError('environment', ['TOKEN_PEPPERS is not valid JSON'])
  }
  const parsed = peppersSchema.safeParse(document)
  if (!parsed.success) {
    throw new ConfigError('environment', describeIssues(parsed.error.issues).map((p) => `TOKEN_PEPPERS.${p}`))
  }
  const peppers = parsed.data.map((p) => Object.freeze({ version: p.version, secret: p.secret }))
  const problems: string[] = []
  let current = env.TOKEN_PEPPER_CURRENT
  if (current === undefined || current === '') {
    if (peppers.length === 1) current = peppers[0]?.version
    else problems.push('TOKEN_PEPPER_CURRENT is required when TOKEN_PEPPERS holds several peppers')
  }
  problems.push(...pepperProblems(peppers, current ?? '', !development).filter((p) => current !== undefined || !p.startsWith('current')))
  if (!development && peppers.some((p) => p.secret === DEVELOPMENT_ONLY_PEPPER.secret)) {
    problems.push('the development pepper is public: it is refused without SCIMGATE_DEV_SECRETS=1')
  }
  if (problems.length > 0 || current === undefined) throw new ConfigError('environment', problems.map((p) => (p.startsWith('TOKEN_') ? p : `TOKEN_PEPPERS: ${p}`)))
  return Object.freeze({ peppers: Object.freeze(peppers), current, isDevelopment: false })
}
