import type { TokenView } from '../../lib/admin-api/contract.ts'
import { isUsable, type TokenRecord } from '../tokens/token-record.ts'

function optionalTime(value: unknown): string | null | undefined {
  if (value === undefined) return undefined
  return typeof value === 'number' ? new Date(value).toISOString() : typeof value === 'string' ? value : null
}

/** What the admin API shows of a token or credential: everything but the secret (last use when the record tracks it). */
export function describeToken(record: TokenRecord, nowMs: number = Date.now()): TokenView {
  const tracked = record as TokenRecord & { lastUsedAt?: unknown; lastUsedBy?: unknown; lastUsedClient?: unknown }
  const lastUsedAt = optionalTime(tracked.lastUsedAt)
  const lastUsedBy = tracked.lastUsedBy ?? tracked.lastUsedClient
  return {
    tokenId: record.tokenId,
    kind: record.kind,
    tenantId: record.tenantId,
    region: record.region,
    label: record.label,
    scopes: record.scopes,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
    status: record.status === 'revoked' ? 'revoked' : isUsable(record, nowMs) ? 'active' : 'expired',
    ...(lastUsedAt === undefined ? {} : { lastUsedAt }),
    ...(lastUsedBy === undefined ? {} : { lastUsedBy: typeof lastUsedBy === 'string' ? lastUsedBy : null }),
  }
}
