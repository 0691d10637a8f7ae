// The admin API's contract: what the gateway's admin routes accept and answer,
// what a region node's admin routes answer the gateway, and what the console
// (console/client/) reads. Types and constants only, so the browser bundle
// takes nothing else from here; request-schemas.ts validates requests against
// these types on the server.
import type { IdentityScope } from '../internal-identity.ts'

/**
 * What an admin route demands, declared on every route of the admin listener
 * (`config: { permission }`; a route without one fails at registration):
 * - `public`: no credential (the console's pages and sign-in);
 * - `signed-in`: any valid credential;
 * - `access:read`: operator, a team admin of the route's tenant and region, or an access credential of the region;
 * - `tenant:admin`: operator, or a team admin of the route's tenant and region;
 * - `operator`: the operator's global admin credential only.
 */
export type Permission = 'public' | 'signed-in' | 'access:read' | 'tenant:admin' | 'operator'
export const PERMISSIONS: readonly Permission[] = ['public', 'signed-in', 'access:read', 'tenant:admin', 'operator']

export type Principal =
  | { readonly kind: 'operator' }
  | { readonly kind: 'admin'; readonly tenantId: string; readonly region: string; readonly credentialId: string }
  | { readonly kind: 'access'; readonly region: string; readonly credentialId: string }

export const CSRF_HEADER = 'x-csrf-token'

// ---- console session ----------------------------------------------------
export interface SignInRequest {
  readonly credential: string
}
export interface SessionInfo {
  readonly principal: Principal
  /** Send back in the `x-csrf-token` header on every state-changing request. */
  readonly csrfToken: string
  readonly idleTimeoutSeconds: number
}

// ---- region catalog -----------------------------------------------------
export interface RegionInfo {
  readonly code: string
  readonly name: string
  /** The tenant URL Okta and Entra ID use. */
  readonly tenantUrl: string
  /** OneLogin's tenant URL, where the region has one. */
  readonly oneLoginUrl: string | null
}
export interface RegionList {
  readonly regions: readonly RegionInfo[]
}

// ---- provisioning tokens and credentials --------------------------------
export interface CreateTokenRequest {
  readonly tenantId: string
  readonly region: string
  readonly label?: string | undefined
  /** ISO 8601 with offset; null or absent: never expires. */
  readonly expiresAt?: string | null | undefined
  /** Default `scim`; `groups:access:write` lets the identity provider set group roles and scope. */
  readonly scopes?: IdentityScope[] | undefined
}
export interface RotateTokenRequest {
  readonly label?: string | undefined
  readonly expiresAt?: string | null | undefined
}
export interface CreateCredentialRequest {
  readonly kind: 'admin' | 'access'
  readonly region: string
  /** Admin credentials only. */
  readonly tenantId?: string | undefined
  readonly label?: string | undefined
  readonly expiresAt?: string | null | undefined
}

export interface TokenView {
  readonly tokenId: string
  readonly kind: 'provisioning' | 'admin' | 'access'
  readonly tenantId: string
  readonly region: string
  readonly label: string
  readonly scopes: readonly string[]
  readonly createdAt: string
  readonly expiresAt: string | null
  readonly status: 'active' | 'revoked' | 'expired'
  /** Last use, when the gateway tracks it. */
  readonly lastUsedAt?: string | null
  /** The identity provider that used it last (`okta`, `entra`, `onelogin`, `other`), when tracked. */
  readonly lastUsedBy?: string | null
}
export interface TokenList {
  readonly tokens: readonly TokenView[]
}
export interface IssuedToken extends TokenView {
  /** The secret: shown once. */
  readonly token: string
  readonly tenantUrl?: string
}

// ---- directory (read from the region's node) ------------------------------
export interface PageQuery {
  readonly cursor?: string | undefined
  /** 1–200, default 50. */
  readonly count: number
}
export interface UserQuery extends PageQuery {
  readonly search?: string | undefined
  readonly status: 'all' | 'active' | 'deactivated'
}
export interface GroupQuery extends PageQuery {
  readonly search?: string | undefined
}

export interface UserSummary {
  readonly id: string
  readonly userName: string
  readonly displayName: string | null
  /** `name.formatted`, else given and family name. */
  readonly name: string | null
  readonly active: boolean
  readonly externalId: string | null
  readonly lastModified: string
}
export interface UserPage {
  readonly users: readonly UserSummary[]
  readonly nextCursor: string | null
}
export interface GroupRef {
  readonly id: string
  readonly displayName: string
}
export interface UserDetail extends UserSummary {
  readonly emails: readonly string[]
  /** The first groups (by name) the user is a direct member of; `moreGroups` says whether there are more. */
  readonly groups: readonly GroupRef[]
  readonly moreGroups: boolean
}

export interface GroupAccessView {
  readonly roles: readonly string[]
  /** null: the roles apply to the whole team. */
  readonly scope: { readonly type: 'Exact'; readonly values: readonly string[] } | null
}
export interface GroupSummary {
  readonly id: string
  readonly displayName: string
  readonly externalId: string | null
  readonly memberCount: number
  readonly lastModified: string
}
export interface GroupPage {
  readonly groups: readonly GroupSummary[]
  readonly nextCursor: string | null
}
export interface GroupDetail extends GroupSummary {
  readonly access: GroupAccessView
  /** The group's ETag: send it as If-Match when saving its access. */
  readonly etag: string
}
export interface MemberView {
  readonly id: string
  readonly type: 'User' | 'Group'
  readonly display: string | null
}
export interface MemberPage {
  readonly members: readonly MemberView[]
  readonly nextCursor: string | null
}
export interface GroupAccessRequest {
  readonly roles: string[]
  /** null: the roles apply to the whole team. */
  readonly scope: { readonly type: 'Exact'; readonly values: string[] } | null
}

// ---- access decisions, role catalog, events (answered by the region's node) --
export interface AccessDecision {
  readonly allowed: boolean
  readonly reason: 'active' | 'deactivated' | 'unknown_user'
  readonly userId?: string
  readonly roles: readonly string[]
  /** null: the whole team. */
  readonly scope: { readonly type: 'Exact'; readonly values: readonly string[] } | null
  readonly groups: readonly GroupRef[]
}
export interface RoleCatalog {
  readonly roles: readonly string[]
  /** What an active user in no group gets. */
  readonly defaultRoles: readonly string[]
}
export type EventActor = { readonly type: 'token'; readonly id: string; readonly label?: string } | { readonly type: 'admin'; readonly id?: string } | { readonly type: 'system' }
export interface AuditEvent {
  readonly id: string
  /** Position in the tenant's log: the change feed's `after`. */
  readonly cursor: string
  readonly time: string
  readonly type: string
  readonly resourceType: string
  readonly resourceId: string
  readonly actor: EventActor
  readonly clientKind: string | null
  readonly requestId: string | null
  readonly data: Readonly<Record<string, unknown>> | null
}
export interface EventPage {
  readonly events: readonly AuditEvent[]
  readonly nextCursor: string | null
}
/** A change-feed consumer tracked in a tenant (`GET …/feed-consumers`). */
export interface FeedConsumer {
  /** The credential's id, plus `/name` when it reads with `consumer=name`. */
  readonly consumer: string
  /** The cursor it last read from: what it has processed. */
  readonly cursor: string
  readonly lastRead: string
  /** Age of the tenant's oldest event it has not read; 0 when caught up. */
  readonly lagSeconds: number
  /** Its cursor is behind the retention purge: its next read is refused (410) until it resyncs. */
  readonly behindRetention: boolean
}
export interface FeedConsumerList {
  readonly consumers: readonly FeedConsumer[]
}
