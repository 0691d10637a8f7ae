import { decodeEventPosition, encodeEventCursor, type EventPosition } from '../events/event-cursor.ts'
import type { EventActor, RecordedEvent } from '../events/event-types.ts'
import type { EventWaker } from '../events/event-waker.ts'
import type { TenantDatabase } from '../storage/database.ts'
import { createEventsStore, type AuditQuery, type EventRow, type ExternalEvent } from '../storage/events-store.ts'
import { recordFeedPosition } from '../storage/feed-positions-store.ts'

export interface FeedRequest {
  readonly after?: string
  readonly limit: number
  readonly waitMs: number
  /** Who reads (events/feed-consumer.ts): its position is recorded for the lag metrics. */
  readonly consumer?: string
}

export interface FeedTracking {
  /** How many consumers the region tracks at most; beyond it, reads go on untracked. */
  readonly maxConsumers: number
  /** A read by a consumer the region does not track (it is at its cap). */
  readonly onUntracked: (consumer: string) => void
}

export interface EventPage {
  readonly events: RecordedEvent[]
  readonly nextCursor: string | null
}

export interface AuditRequest extends Omit<AuditQuery, 'before'> {
  readonly cursor?: string
}

export interface EventsService {
  /** Events after the cursor, oldest first; with `waitMs`, waits (woken by LISTEN/NOTIFY) until one arrives or the time is up. */
  changes(tenantId: string, request: FeedRequest): Promise<EventPage>
  /** Newest first, filtered. */
  audit(tenantId: string, request: AuditRequest): Promise<EventPage>
  appendExternal(tenantId: string, events: readonly ExternalEvent[]): Promise<number>
}

function actorOf(row: EventRow): EventActor {
  if (row.actor_type === 'token') return { type: 'token', id: row.actor_id ?? '', ...(row.actor_label === null ? {} : { label: row.actor_label }) }
  if (row.actor_type === 'admin') return row.actor_id === null ? { type: 'admin' } : { type: 'admin', id: row.actor_id }
  return { type: 'system' }
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    cursor: encodeEventCursor(row.seq, row.pos),
    time: row.time.toISOString(),
    type: row.type,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    actor: actorOf(row),
    clientKind: row.client_kind,
    requestId: row.request_id,
    data: row.data,
  }
}

export function createEventsService(deps: { database: TenantDatabase; waker: EventWaker; now?: () => number; tracking?: FeedTracking }): EventsService {
  const now = deps.now ?? Date.now
  const { tracking } = deps

  // The consumer's position (the cursor it reads from: what it has processed) is recorded in the read's
  // transaction, before the exclusive advisory lock that waits for the tenant's writers in flight (see
  // storage/events-store.ts), so the writers never wait for the recording.
  const readAfter = (tenantId: string, after: EventPosition, limit: number, consumer: string | undefined): Promise<EventRow[]> =>
    deps.database.write(tenantId, async (db) => {
      if (consumer !== undefined && tracking !== undefined && !(await recordFeedPosition(db, tenantId, consumer, after, tracking.maxConsumers))) tracking.onUntracked(consumer)
      const store = createEventsStore(db)
      await store.lockForFeed(tenantId)
      return store.after(tenantId, after, limit)
    })

  return {
    async changes(tenantId, request) {
      const after = request.after === undefined ? { seq: 0n, pos: 0 } : decodeEventPosition(request.after, 'after')
      const deadline = now() + request.waitMs
      // Recorded once per request: a long poll's later reads start from the same cursor.
      let consumer = request.consumer
      for (;;) {
        // Subscribed before reading: a commit between the read and the wait still wakes us.
        const waiter = request.waitMs > 0 ? deps.waker.subscribe(tenantId) : undefined
        try {
          const rows = await readAfter(tenantId, after, request.limit, consumer)
          consumer = undefined
          const remaining = deadline - now()
          if (rows.length > 0 || waiter === undefined || remaining <= 0 || deps.waker.closed) {
            const last = rows.at(-1)
            return { events: rows.map(toRecordedEvent), nextCursor: last === undefined ? encodeEventCursor(after.seq, after.pos) : encodeEventCursor(last.seq, last.pos) }
          }
          await waiter.wait(remaining)
        } finally {
          waiter?.cancel()
        }
      }
    },

    async audit(tenantId, request) {
      const { cursor, ...filters } = request
      const before = cursor === undefined ? undefined : decodeEventPosition(cursor, 'cursor')
      const rows = await deps.database.read(tenantId, (db) => createEventsStore(db).audit(tenantId, { ...filters, ...(before === undefined ? {} : { before }), limit: request.limit + 1 }))
      const page = rows.slice(0, request.limit)
      const last = page.at(-1)
      return { events: page.map(toRecordedEvent), nextCursor: rows.length > request.limit && last !== undefined ? encodeEventCursor(last.seq, last.pos) : null }
    },

    appendExternal: (tenantId, events) => deps.database.write(tenantId, (db) => createEventsStore(db).appendExternal(tenantId, events)),
  }
}
