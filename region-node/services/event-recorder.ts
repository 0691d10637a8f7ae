import { SYSTEM_ORIGIN, type NewEvent } from '../events/event-types.ts'
import type { Queryable } from '../storage/database.ts'
import { createEventsStore, creationLog, eventAttachment, membershipLog, type CreationLog, type EventAttachment, type MembershipLog } from '../storage/events-store.ts'
import type { RequestScope } from './service-context.ts'

/**
 * Appends a write's events inside the write's own transaction, so the log and the data never disagree.
 * Where the events are known before the write, they ride on the write's own statement (`attachment`);
 * membership events are computed in SQL from the rows a statement changed (`membershipLog`).
 */
export interface EventRecorder {
  record(db: Queryable, scope: RequestScope, events: readonly NewEvent[]): Promise<void>
  /** undefined when there is nothing to record. */
  attachment(scope: RequestScope, events: readonly NewEvent[]): EventAttachment | undefined
  membershipLog(scope: RequestScope): MembershipLog | undefined
  /** `user.created` for each row a batch insert created. */
  userCreationLog(scope: RequestScope): CreationLog | undefined
}

/** `enabled: false` exists for the benchmark that measures what the log costs; a deployment always records. */
export function createEventRecorder(options: { enabled: boolean }): EventRecorder {
  if (!options.enabled) return { record: async () => undefined, attachment: () => undefined, membershipLog: () => undefined, userCreationLog: () => undefined }
  return {
    async record(db, scope, events) {
      await createEventsStore(db).append(scope.tenantId, scope.origin ?? SYSTEM_ORIGIN, events)
    },
    attachment: (scope, events) => (events.length === 0 ? undefined : eventAttachment(scope.tenantId, scope.origin ?? SYSTEM_ORIGIN, events)),
    membershipLog: (scope) => membershipLog(scope.tenantId, scope.origin ?? SYSTEM_ORIGIN),
    userCreationLog: (scope) => creationLog(scope.tenantId, scope.origin ?? SYSTEM_ORIGIN, 'user.created', 'User'),
  }
}

export const ALWAYS_RECORD = createEventRecorder({ enabled: true })
