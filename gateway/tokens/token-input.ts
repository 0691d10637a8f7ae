// Validation of what an admin asks the token store to do. Errors list every
// problem at once and never quote a token.
import { IDENTITY_SCOPES, type IdentityScope } from '../../lib/internal-identity.ts'
import { ScimError } from '../../lib/scim-error.ts'
import type { CredentialKind } from './token-record.ts'

export const TENANT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
export const REGION_CODE_PATTERN = /^[A-Z][A-Z0-9]{1,15}$/
/** The tenant of an access credential: every tenant of its region. */
export const ALL_TENANTS = '*'
export const TOKEN_ID_PATTERN = /^tok_[0-9A-Za-z]{20}$/
export const MAX_LABEL_LENGTH = 200
const KNOWN_SCOPES: readonly IdentityScope[] = IDENTITY_SCOPES
// Tabs and newlines would break `token list` output and log lines.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/

/** Bad input for the token store (an admin mistake, answered 400 by the admin API). */
export class TokenInputError extends ScimError {
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(400, 'invalidValue', problems.length === 1 ? (problems[0] ?? '') : `invalid token request:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'TokenInputError'
    this.problems = problems
  }
}

export interface CreateTokenInput {
  /** Default `provisioning`. */
  kind?: CredentialKind
  tenantId: string
  region: string
  label?: string
  scopes?: IdentityScope[]
  expiresAt?: number | null
}

export interface ValidCreateTokenInput {
  kind: CredentialKind
  tenantId: string
  region: string
  label: string
  scopes: IdentityScope[]
  expiresAt: number | null
}

export function labelProblems(label: unknown): string[] {
  if (typeof label !== 'string') return ['label must be a string']
  if (label.length > MAX_LABEL_LENGTH) return [`label must be at most ${MAX_LABEL_LENGTH} characters (got ${label.length})`]
  if (CONTROL_CHARACTERS.test(label)) return ['label must not contain control characters (tabs, newlines)']
  return []
}

export function expiresAtProblems(expiresAt: unknown, nowMs: number): string[] {
  if (expiresAt === null || expiresAt === undefined) return []
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt)) return ['expiresAt must be a time in milliseconds since the epoch, or null']
  if (expiresAt <= nowMs) return [`expiresAt ${new Date(expiresAt).toISOString()} is not in the future`]
  return []
}

export function validateCreateInput(input: CreateTokenInput, nowMs: number): ValidCreateTokenInput {
  const problems: string[] = []
  const kind = input.kind ?? 'provisioning'
  const tenantId: unknown = input.tenantId
  if (kind === 'access') {
    if (tenantId !== ALL_TENANTS) problems.push('an access credential belongs to a whole region: its tenant is *')
  } else if (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId)) {
    problems.push(`tenant id must match ${TENANT_ID_PATTERN.source}`)
  }
  const region = typeof input.region === 'string' ? input.region.toUpperCase() : ''
  if (!REGION_CODE_PATTERN.test(region)) problems.push(`region must be a region code such as EU1 (${REGION_CODE_PATTERN.source})`)
  const label = input.label ?? ''
  problems.push(...labelProblems(label))
  // Admin and access credentials never provision: what they may do follows from their kind.
  const scopes: unknown = kind === 'provisioning' ? (input.scopes ?? ['scim']) : []
  if (kind !== 'provisioning') {
    if (input.scopes !== undefined && input.scopes.length > 0) problems.push(`a credential of kind ${kind} takes no scopes`)
  } else if (!Array.isArray(scopes) || scopes.length === 0) problems.push(`scopes must be a non-empty list of ${KNOWN_SCOPES.join(', ')}`)
  else {
    const unknown = scopes.filter((s) => !KNOWN_SCOPES.includes(s as IdentityScope))
    if (unknown.length > 0) problems.push(`unknown scope(s) ${unknown.map((s) => JSON.stringify(s)).join(', ')}; known: ${KNOWN_SCOPES.join(', ')}`)
  }
  problems.push(...expiresAtProblems(input.expiresAt, nowMs))
  if (problems.length > 0) throw new TokenInputError(problems)
  return {
    kind,
    tenantId: input.tenantId,
    region,
    label,
    scopes: KNOWN_SCOPES.filter((s) => (scopes as IdentityScope[]).includes(s)),
    expiresAt: input.expiresAt ?? null,
  }
}
