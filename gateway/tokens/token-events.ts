// What happens to tokens, for the region's event log. Tokens live in Redis
// (or the built-in file store), not in a region database: each change writes
// its event into an outbox together with the change itself, and the gateway's
// relay (token-event-relay.ts) delivers the outbox to the token's region node,
// which stores every event once by its id.
import { randomUUID } from 'node:crypto'
import type { ClientKind } from '../../lib/client-kind.ts'
import type { TokenRecord } from './token-record.ts'

export type TokenEventType = 'token.created' | 'token.rotated' | 'token.revoked' | 'token.expired'

export type TokenEventActor = { readonly type: 'token'; readonly id: string; readonly label?: string } | { readonly type: 'admin'; readonly id?: string } | { readonly type: 'system' }

/** Who asked for a token change (the admin API passes its request; the CLI names itself). */
export interface TokenEventContext {
  readonly actor: TokenEventActor
  readonly clientKind?: ClientKind
  readonly requestId?: string
}

export const CLI_CONTEXT: TokenEventContext = Object.freeze({ actor: Object.freeze({ type: 'admin', id: 'cli' }) })

export interface TokenEvent {
  readonly id: string
  readonly time: string
  readonly region: string
  readonly tenantId: string
  readonly type: TokenEventType
  readonly resourceId: string
  readonly actor: TokenEventActor
  readonly clientKind: ClientKind
  readonly requestId?: string
  readonly data?: Readonly<Record<string, unknown>>
}

export function tokenEvent(type: TokenEventType, record: TokenRecord, context: TokenEventContext, nowMs: number, data?: Record<string, unknown>): TokenEvent {
  return {
    id: randomUUID(),
    time: new Date(nowMs).toISOString(),
    region: record.region,
    tenantId: record.tenantId,
    type,
    resourceId: record.tokenId,
    actor: context.actor,
    clientKind: context.clientKind ?? 'other',
    ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
    data: { label: record.label, ...data },
  }
}

export function decodeTokenEvent(text: string): TokenEvent | undefined {
  try {
    const value = JSON.parse(text) as TokenEvent
    return typeof value.id === 'string' && typeof value.region === 'string' && typeof value.tenantId === 'string' && typeof value.type === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

/** When a token was last used, and by which kind of client. */
export interface TokenUsage {
  readonly lastUsedAt: number
  readonly clientKind: ClientKind
}
