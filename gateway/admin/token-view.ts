import type { TokenView } from '../../lib/admin-api/contract.ts'
import type { TokenUsage } from '../tokens/token-events.ts'
import { isUsable, type TokenRecord } from '../tokens/token-record.ts'

/**
 * What the admin API shows of a token or credential: everything but the
 * secret. `usage` is its last use as the gateways record it (null: never
 * used); left out, the view says nothing of last use (not tracked).
 */
export function describeToken(record: TokenRecord, usage?: TokenUsage | null, nowMs: number = Date.now()): TokenView {
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
    ...(usage === undefined ? {} : { lastUsedAt: usage === null ? null : new Date(usage.lastUsedAt).toISOString(), lastUsedBy: usage?.clientKind ?? null }),
  }
}
