import { SYSTEM_ORIGIN, type NewEvent } from '../events/event-types.ts'
import type { Queryable } from '../storage/database.ts'
import { createEventsStore } from '../storage/events-store.ts'
import type { RequestScope } from './service-context.ts'

/** Appends a write's events inside the write's own transaction, so the log and the data never disagree. */
export interface EventRecorder {
  record(db: Queryable, scope: RequestScope, events: readonly NewEvent[]): Promise<void>
}

/** `enabled: false` exists for the benchmark that measures what the log costs; a deployment always records. */
export function createEventRecorder(options: { enabled: boolean }): EventRecorder {
  if (!options.enabled) return { record: async () => undefined }
  return {
    async record(db, scope, events) {
      await createEventsStore(db).append(scope.tenantId, scope.origin ?? SYSTEM_ORIGIN, events)
    },
  }
}

export const ALWAYS_RECORD = createEventRecorder({ enabled: true })
