// The rules every token store follows, whatever it keeps records in.
import { generateToken, randomBase62 } from './token-format.ts'
import type { TokenHasher } from './token-hasher.ts'
import { ALL_TENANTS, REGION_CODE_PATTERN, TENANT_ID_PATTERN, TokenInputError, expiresAtProblems, labelProblems, validateCreateInput, type CreateTokenInput } from './token-input.ts'
import type { TokenRecord } from './token-record.ts'

/** A new token and its record, with the digest it is stored under; nothing is stored yet. */
export function newToken(input: CreateTokenInput, hasher: TokenHasher, nowMs: number): { token: string; digest: string; record: TokenRecord } {
  const valid = validateCreateInput(input, nowMs)
  const token = generateToken(valid.region)
  const record: TokenRecord = {
    tokenId: `tok_${randomBase62(20)}`,
    kind: valid.kind,
    tenantId: valid.tenantId,
    region: valid.region,
    label: valid.label,
    scopes: valid.scopes,
    createdAt: nowMs,
    expiresAt: valid.expiresAt,
    status: 'active',
    pepperVersion: hasher.current,
  }
  return { token, digest: hasher.digest(token, hasher.current), record }
}

/** What a rotation creates: same tenant, region and scopes; by default the old label and the old lifetime, counted from now. */
export function rotationInput(old: TokenRecord, options: { expiresAt?: number | null; label?: string }, nowMs: number): CreateTokenInput {
  if (old.status === 'revoked') throw new TokenInputError([`token ${old.tokenId} is revoked; create a new token instead`])
  const problems = [...(options.label === undefined ? [] : labelProblems(options.label)), ...expiresAtProblems(options.expiresAt, nowMs)]
  if (problems.length > 0) throw new TokenInputError(problems)
  const expiresAt = options.expiresAt !== undefined ? options.expiresAt : old.expiresAt === null ? null : nowMs + (old.expiresAt - old.createdAt)
  return { kind: old.kind, tenantId: old.tenantId, region: old.region, ...(old.kind === 'provisioning' ? { scopes: old.scopes } : {}), label: options.label ?? old.label, expiresAt }
}

/** Checks a listing's tenant and region; returns the region code in upper case. */
export function validListQuery(tenantId: unknown, region: unknown): string {
  const code = typeof region === 'string' ? region.toUpperCase() : ''
  const problems: string[] = []
  if (tenantId !== ALL_TENANTS && (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId))) problems.push(`tenant id must match ${TENANT_ID_PATTERN.source}`)
  if (!REGION_CODE_PATTERN.test(code)) problems.push('region must be a region code such as EU1')
  if (problems.length > 0) throw new TokenInputError(problems)
  return code
}
