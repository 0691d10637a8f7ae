// What the store keeps about a provisioning token or an admin-API credential (never the secret itself).
import { IDENTITY_SCOPES, type IdentityScope } from '../../lib/internal-identity.ts'

/**
 * What a stored secret is for: `provisioning` tokens for identity providers (SCIM),
 * `admin` credentials for a team admin of one tenant in one region (admin API and console),
 * `access` credentials for a region's product services (access decisions and change feed only).
 */
export type CredentialKind = 'provisioning' | 'admin' | 'access'
export const CREDENTIAL_KINDS: readonly CredentialKind[] = ['provisioning', 'admin', 'access']

export interface TokenRecord {
  /** Public, random identifier (`tok_…`) used by the CLI and the admin API; reveals nothing about the token. */
  tokenId: string
  kind: CredentialKind
  /** The tenant; `*` for an access credential, which answers for every tenant of its region. */
  tenantId: string
  /** Upper-case region code, e.g. EU1. */
  region: string
  label: string
  scopes: IdentityScope[]
  /** Milliseconds since the epoch. */
  createdAt: number
  /** Milliseconds since the epoch; null = never expires. */
  expiresAt: number | null
  status: 'active' | 'revoked'
  /** Pepper version the stored digest was computed with. */
  pepperVersion: string
}

export function isUsable(record: TokenRecord, nowMs: number): boolean {
  return record.status === 'active' && (record.expiresAt === null || record.expiresAt > nowMs)
}

const SCOPES: ReadonlySet<string> = new Set<string>(IDENTITY_SCOPES)

/** Reads a record back from Redis; anything unexpected is treated as absent rather than trusted. */
export function decodeTokenRecord(text: string | null | undefined): TokenRecord | undefined {
  if (typeof text !== 'string') return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const r = value as Record<string, unknown>
  const ok =
    typeof r.tokenId === 'string' &&
    (r.kind === undefined || CREDENTIAL_KINDS.includes(r.kind as CredentialKind)) &&
    typeof r.tenantId === 'string' &&
    typeof r.region === 'string' &&
    typeof r.label === 'string' &&
    Array.isArray(r.scopes) &&
    r.scopes.every((s) => typeof s === 'string' && SCOPES.has(s)) &&
    typeof r.createdAt === 'number' &&
    (r.expiresAt === null || typeof r.expiresAt === 'number') &&
    (r.status === 'active' || r.status === 'revoked') &&
    typeof r.pepperVersion === 'string'
  if (!ok) return undefined
  return {
    tokenId: r.tokenId as string,
    // Records written before credential kinds existed are provisioning tokens.
    kind: (r.kind as CredentialKind | undefined) ?? 'provisioning',
    tenantId: r.tenantId as string,
    region: r.region as string,
    label: r.label as string,
    scopes: [...(r.scopes as IdentityScope[])],
    createdAt: r.createdAt as number,
    expiresAt: r.expiresAt as number | null,
    status: r.status as TokenRecord['status'],
    pepperVersion: r.pepperVersion as string,
  }
}

export function encodeTokenRecord(record: TokenRecord): string {
  const { tokenId, kind, tenantId, region, label, scopes, createdAt, expiresAt, status, pepperVersion } = record
  return JSON.stringify({ tokenId, kind, tenantId, region, label, scopes, createdAt, expiresAt, status, pepperVersion })
}
