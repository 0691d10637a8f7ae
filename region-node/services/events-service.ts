import type { FeedConsumer } from '../../lib/admin-api/contract.ts'
import { ScimError } from '../../lib/scim-error.ts'
import { decodeEventPosition, encodeEventCursor, type EventPosition } from '../events/event-cursor.ts'
import type { EventActor, RecordedEvent } from '../events/event-types.ts'
import type { EventWaker } from '../events/event-waker.ts'
import type { TenantDatabase } from '../storage/database.ts'
import { createEventsStore, type AuditQuery, type EventRow, type ExternalEvent } from '../storage/events-store.ts'
import { forgetFeedConsumer, recordFeedPosition, tenantFeedConsumers } from '../storage/feed-positions-store.ts'

export interface FeedRequest {
  readonly after?: string
  /** `now`: start at the head of the log (what comes next), instead of `after` or the oldest event kept. */
  readonly from?: 'now'
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
  /** A read refused because the retention purge deleted events past its cursor. */
  readonly onPurgedCursor?: (tenantId: string, consumer: string | undefined) => void
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
  /** The consumers the region tracks in this tenant. */
  consumers(tenantId: string): Promise<FeedConsumerView[]>
  /** Stops tracking a consumer in this tenant (it is tracked again if it reads again); false when it was not tracked. */
  forgetConsumer(tenantId: string, consumer: string): Promise<boolean>
}

/** As the admin API shows it (lib/admin-api/contract.ts). */
export type FeedConsumerView = FeedConsumer

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

const START: EventPosition = { seq: 0n, pos: 0 }

export function createEventsService(deps: { database: TenantDatabase; waker: EventWaker; now?: () => number; tracking?: FeedTracking }): EventsService {
  const now = deps.now ?? Date.now
  const { tracking } = deps

  // The consumer's position (the cursor it reads from: what it has processed) is recorded in the read's
  // transaction, before the exclusive advisory lock that waits for the tenant's writers in flight (see
  // storage/events-store.ts), so the writers never wait for the recording.
  // A cursor the caller gave is checked against the purge's mark (the last event it deleted): a cursor before it
  // has unread events that are gone, and reading on would skip them silently. Without a cursor, the feed starts
  // at the mark: the feed is the log after the last event purged (a few events kept below the mark, whose time
  // was later than their seq order, are left to the audit trail).
  const readAfter = (tenantId: string, after: EventPosition | undefined, limit: number, consumer: string | undefined): Promise<{ rows: EventRow[]; start: EventPosition }> =>
    deps.database.write(tenantId, async (db) => {
      if (consumer !== undefined && tracking !== undefined && !(await recordFeedPosition(db, tenantId, consumer, after ?? START, tracking.maxConsumers))) tracking.onUntracked(consumer)
      const store = createEventsStore(db)
      await store.lockForFeed(tenantId)
      let start = after ?? START
      for (let attempt = 0; ; attempt++) {
        const page = await store.afterUnlessPurged(tenantId, start, limit)
        if ('rows' in page) return { rows: page.rows, start }
        // Without a cursor, start at the mark (again, if a purge raised it in between).
        if (after === undefined && attempt < 3) {
          start = page.purgedThrough
          continue
        }
        tracking?.onPurgedCursor?.(tenantId, consumer)
        throw new ScimError(
          410,
          undefined,
          `after is older than the event log keeps: events after it, up to ${encodeEventCursor(page.purgedThrough.seq, page.purgedThrough.pos)}, were deleted by the retention purge (EVENT_RETENTION_DAYS), so reading on would skip them. ` +
            'To recover: take the head cursor (GET …/changes?from=now: nextCursor), resync this tenant from its current state (SCIM GET /Users and /Groups), then read the feed with after=<that cursor>.',
        )
      }
    })

  return {
    async changes(tenantId, request) {
      if (request.from !== undefined && request.after !== undefined) throw new ScimError(400, 'invalidValue', 'give either after or from, not both')
      const after =
        request.from === 'now'
          ? await deps.database.write(tenantId, async (db) => {
              // The head once the tenant's writers in flight have committed: none of them can land behind it.
              const store = createEventsStore(db)
              await store.lockForFeed(tenantId)
              return store.head(tenantId)
            })
          : request.after === undefined
            ? undefined
            : decodeEventPosition(request.after, 'after')
      const deadline = now() + request.waitMs
      // Recorded once per request: a long poll's later reads start from the same cursor.
      let consumer = request.consumer
      for (;;) {
        // Subscribed before reading: a commit between the read and the wait still wakes us.
        const waiter = request.waitMs > 0 ? deps.waker.subscribe(tenantId) : undefined
        try {
          const { rows, start } = await readAfter(tenantId, after, request.limit, consumer)
          consumer = undefined
          const remaining = deadline - now()
          if (rows.length > 0 || waiter === undefined || remaining <= 0 || deps.waker.closed) {
            const last = rows.at(-1)
            return { events: rows.map(toRecordedEvent), nextCursor: last === undefined ? encodeEventCursor(start.seq, start.pos) : encodeEventCursor(last.seq, last.pos) }
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

    async consumers(tenantId) {
      const rows = await deps.database.read(tenantId, (db) => tenantFeedConsumers(db, tenantId))
      return rows.map((c) => ({
        consumer: c.consumer,
        cursor: encodeEventCursor(c.after.seq, c.after.pos),
        lastRead: c.lastRead.toISOString(),
        lagSeconds: c.lagSeconds,
        behindRetention: c.behindRetention,
      }))
    },

    forgetConsumer: (tenantId, consumer) => deps.database.write(tenantId, (db) => forgetFeedConsumer(db, consumer)),
  }
}
