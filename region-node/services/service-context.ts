import type { ScimLimits } from '../../config/node-config.ts'
import type { CursorCodec } from '../scim/cursor.ts'
import type { VersionCondition } from '../scim/etag.ts'
import type { EventOrigin } from '../events/event-types.ts'
import type { TenantDatabase } from '../storage/database.ts'
import type { EventRecorder } from './event-recorder.ts'

/** Who asks and where the answer's locations point. */
export interface RequestScope {
  readonly tenantId: string
  /** Public base of the SCIM API as the client reached it, e.g. `https://host/scim/v2`. */
  readonly baseUrl: string
  /** Who is asking, for the event log; absent = scimgate itself. */
  readonly origin?: EventOrigin
  /** The credential may set a group's roles and scope (token scope `groups:access:write`, or a team admin). */
  readonly mayWriteGroupAccess: boolean
}

export interface ServiceDependencies {
  readonly database: TenantDatabase
  readonly limits: ScimLimits
  /** Makes and checks RFC 9865 cursors (signed, bound to tenant and query). */
  readonly cursors: CursorCodec
  readonly now?: () => number
  /** Told about member ids a push referred to that the tenant does not have (skipped, not fatal). */
  readonly onSkippedMembers?: (tenantId: string, groupId: string, ids: readonly string[]) => void
  /** Records every change in the region's event log, in the change's transaction (default: on). */
  readonly events?: EventRecorder
}

export interface WriteConditions {
  readonly ifMatch?: VersionCondition
}

export interface ResourceResult {
  readonly resource: Record<string, unknown>
  readonly version: number
}
