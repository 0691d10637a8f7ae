// The event log's vocabulary, free of HTTP and SQL: what happened, to what,
// and who caused it.
import type { ClientKind } from '../../lib/client-kind.ts'

export const EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'user.deleted',
  'group.created',
  'group.renamed',
  'group.deleted',
  'group.access_changed',
  'membership.added',
  'membership.removed',
  'role_catalog.changed',
  'token.created',
  'token.rotated',
  'token.revoked',
  'token.expired',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

export type EventResourceType = 'User' | 'Group' | 'Tenant' | 'Token'

/** Who caused a change: a provisioning token (identity provider), an admin, or scimgate itself. */
export type EventActor = { readonly type: 'token'; readonly id: string; readonly label?: string } | { readonly type: 'admin'; readonly id?: string } | { readonly type: 'system' }

/** Where a change came from: recorded with every event of the request. */
export interface EventOrigin {
  readonly actor: EventActor
  readonly clientKind: ClientKind
  readonly requestId?: string
}

export const SYSTEM_ORIGIN: EventOrigin = Object.freeze({ actor: Object.freeze({ type: 'system' }), clientKind: 'other' })

export interface NewEvent {
  readonly type: EventType
  readonly resourceType: EventResourceType
  readonly resourceId: string
  readonly data?: Readonly<Record<string, unknown>>
}

/** An event as the feed and the audit trail show it. */
export interface RecordedEvent {
  readonly id: string
  readonly cursor: string
  readonly time: string
  readonly type: string
  readonly resourceType: string
  readonly resourceId: string
  readonly actor: EventActor
  readonly clientKind: string | null
  readonly requestId: string | null
  readonly data: Record<string, unknown> | null
}
