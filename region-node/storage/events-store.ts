// The region's event log. Ordering (see the migration): every transaction
// that appends takes the tenant's advisory lock SHARED before it draws seq
// values; a feed reader takes it EXCLUSIVELY before it reads. A reader thus
// waits for every writer of the tenant still in flight and sees all of them,
// and every later writer draws higher seqs: the feed never skips an event
// that commits late, and the order it shows never changes.
import { randomUUID } from 'node:crypto'
import type { EventPosition } from '../events/event-cursor.ts'
import type { EventActor, EventOrigin, NewEvent } from '../events/event-types.ts'
import type { Queryable } from './database.ts'

/** Namespace of the log's advisory locks (the second key is hashtext(tenant_id)). */
const EVENT_LOCK_CLASS = 0x5c1e
export const EVENT_CHANNEL = 'scimgate_events'

/** One event as the log's readers see it: a membership row expanded, one per member. */
export interface EventRow {
  seq: string
  /** 0 for an ordinary row; the member's place (1..n) in a membership row. */
  pos: number
  id: string
  time: Date
  type: string
  resource_type: string
  resource_id: string
  actor_type: EventActor['type']
  actor_id: string | null
  actor_label: string | null
  client_kind: string | null
  request_id: string | null
  data: Record<string, unknown> | null
}

export interface AuditQuery {
  /** Events strictly before this position (newest first). */
  readonly before?: EventPosition
  readonly resourceId?: string
  readonly type?: string
  readonly actor?: string
  readonly since?: Date
  readonly until?: Date
  readonly limit: number
}

export interface ExternalEvent extends NewEvent {
  /** The producer's id: an event delivered twice is stored once. */
  readonly sourceId: string
  readonly origin: EventOrigin
  readonly time: Date
}

/** Adds a change's events to the change's own statement (data-modifying CTEs): one round trip for both. */
export interface EventAttachment {
  attach(text: string, values: readonly unknown[]): { text: string; values: unknown[] }
}

/**
 * Membership events from the rows a membership statement inserted or deleted (CTE `source`: member_id, member_type):
 * ONE row of the log holding the members in member-id order (see the migration membership-event-rows), which the
 * readers expand into one event per member.
 */
export interface MembershipLog {
  ctes(source: string, type: 'membership.added' | 'membership.removed', groupId: string, firstParam: number): { sql: string; values: unknown[] }
}

/** One event per row a statement created (CTE `source`: id, seq), in the order the rows were inserted. */
export interface CreationLog {
  ctes(source: string, firstParam: number): { sql: string; values: unknown[] }
}

const INSERT_COLUMNS = 'tenant_id, type, resource_type, resource_id, actor_type, actor_id, actor_label, client_kind, request_id, data'

/**
 * Event ids for the rows of one multi-row insert: a random uuid per statement with its last 48 bits replaced by
 * the row's number (version and variant bits stay). gen_random_uuid() per row cost more than the rest of an
 * event row; the 74 random bits left keep ids unique across statements.
 */
const ROW_EVENT_ID = (baseParam: string): string => `overlay(${baseParam}::text placing lpad(to_hex(row_number() OVER ()), 12, '0') from 25)::uuid`

/** The CTEs that take the tenant's writer lock (before any seq is drawn) and wake feed readers at commit. */
function writerCtes(tenantParam: string): string {
  return `event_writer AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(${EVENT_LOCK_CLASS}, hashtext(${tenantParam}))),
          event_wake AS MATERIALIZED (SELECT pg_notify('${EVENT_CHANNEL}', ${tenantParam}))`
}

function prependCtes(ctes: string, text: string): string {
  const trimmed = text.trimStart()
  return /^WITH\s/i.test(trimmed) ? `WITH ${ctes}, ${trimmed.slice(4).trimStart()}` : `WITH ${ctes} ${trimmed}`
}

export function eventAttachment(tenantId: string, origin: EventOrigin, events: readonly NewEvent[]): EventAttachment {
  const [actorType, actorId, actorLabel] = actorColumns(origin.actor)
  return {
    attach(text, values) {
      const p = (offset: number): string => `$${values.length + offset}`
      const only = events.length === 1 ? events[0] : undefined
      if (only !== undefined) {
        // One event (a user or group created, updated, deleted): one row of scalars, no arrays to unnest and
        // sort, and its id made here (gen_random_uuid() in the statement costs more than the rest of the row).
        const ctes = `${writerCtes(`${p(1)}::text`)},
          event_rows AS (
            INSERT INTO events (id, ${INSERT_COLUMNS})
            SELECT ${p(11)}::uuid, ${p(1)}::text, ${p(2)}::text, ${p(3)}::text, ${p(4)}::text, ${p(6)}::text, ${p(7)}::text, ${p(8)}::text, ${p(9)}::text, ${p(10)}::text, ${p(5)}::jsonb
            FROM event_writer, event_wake
            RETURNING 1)`
        const data = only.data === undefined ? null : JSON.stringify(only.data)
        return {
          text: prependCtes(ctes, text),
          values: [...values, tenantId, only.type, only.resourceType, only.resourceId, data, actorType, actorId, actorLabel, origin.clientKind, origin.requestId ?? null, randomUUID()],
        }
      }
      const ctes = `${writerCtes(p(1))},
          event_rows AS (
            INSERT INTO events (${INSERT_COLUMNS})
            SELECT ${p(1)}, e.type, e.resource_type, e.resource_id, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, e.data::jsonb
            FROM event_writer, event_wake, unnest(${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[]) WITH ORDINALITY AS e(type, resource_type, resource_id, data, n)
            ORDER BY e.n
            RETURNING 1)`
      return {
        text: prependCtes(ctes, text),
        values: [
          ...values,
          tenantId,
          events.map((e) => e.type),
          events.map((e) => e.resourceType),
          events.map((e) => e.resourceId),
          events.map((e) => (e.data === undefined ? null : JSON.stringify(e.data))),
          actorType,
          actorId,
          actorLabel,
          origin.clientKind,
          origin.requestId ?? null,
        ],
      }
    },
  }
}

export function membershipLog(tenantId: string, origin: EventOrigin): MembershipLog {
  const [actorType, actorId, actorLabel] = actorColumns(origin.actor)
  return {
    ctes(source, type, groupId, firstParam) {
      const p = (offset: number): string => `$${firstParam + offset}`
      // The aggregates read the members sorted once by the subquery (an ORDER BY inside each aggregate sorts per aggregate).
      const sql = `${writerCtes(`${p(0)}::text`)},
          event_rows AS (
            INSERT INTO events (id, ${INSERT_COLUMNS}, member_ids, member_types, member_count)
            SELECT ${p(8)}::uuid, ${p(0)}::text, ${p(7)}::text, 'Group', ${p(1)}::text, ${p(2)}::text, ${p(3)}::text, ${p(4)}::text, ${p(5)}::text, ${p(6)}::text, NULL,
                   m.ids, CASE WHEN m.all_users THEN NULL ELSE m.types END, cardinality(m.ids)
            FROM event_writer, event_wake,
                 (SELECT array_agg(s.member_id) AS ids, array_agg(s.member_type::text) AS types, bool_and(s.member_type = 'User') AS all_users
                  FROM (SELECT member_id, member_type FROM ${source} ORDER BY member_id) s) m
            WHERE m.ids IS NOT NULL
            RETURNING 1)`
      return { sql, values: [tenantId, groupId, actorType, actorId, actorLabel, origin.clientKind, origin.requestId ?? null, type, randomUUID()] }
    },
  }
}

export function creationLog(tenantId: string, origin: EventOrigin, type: 'user.created', resourceType: 'User'): CreationLog {
  const [actorType, actorId, actorLabel] = actorColumns(origin.actor)
  return {
    ctes(source, firstParam) {
      const p = (offset: number): string => `$${firstParam + offset}`
      const sql = `${writerCtes(`${p(0)}::text`)},
          event_rows AS (
            INSERT INTO events (id, ${INSERT_COLUMNS})
            SELECT ${ROW_EVENT_ID(p(8))}, ${p(0)}::text, ${p(1)}::text, ${p(2)}::text, s.id::text, ${p(3)}::text, ${p(4)}::text, ${p(5)}::text, ${p(6)}::text, ${p(7)}::text, NULL
            FROM event_writer, event_wake, ${source} s
            ORDER BY s.seq
            RETURNING 1)`
      return { sql, values: [tenantId, type, resourceType, actorType, actorId, actorLabel, origin.clientKind, origin.requestId ?? null, randomUUID()] }
    },
  }
}

export interface EventsStore {
  /** Appends events (one multi-row insert) and wakes the tenant's feed readers when the transaction commits. */
  append(tenantId: string, origin: EventOrigin, events: readonly NewEvent[]): Promise<void>
  /** Appends events produced elsewhere (the gateway's token events), skipping those already stored. */
  appendExternal(tenantId: string, events: readonly ExternalEvent[]): Promise<number>
  /** Waits for the tenant's writers in flight; call first in the feed reader's transaction. */
  lockForFeed(tenantId: string): Promise<void>
  /** Up to `limit` events after the position (a bare seq: after that whole row), oldest first. */
  after(tenantId: string, after: bigint | EventPosition, limit: number): Promise<EventRow[]>
  /**
   * As `after`, unless the retention purge deleted an event of the tenant past the position (the mark of the
   * migration event-purge-marks): then nothing is read and the mark is returned. The mark and the page come from
   * one statement, so one snapshot: a purge committing meanwhile is seen by both or by neither.
   */
  afterUnlessPurged(tenantId: string, after: EventPosition, limit: number): Promise<{ readonly rows: EventRow[] } | { readonly purgedThrough: EventPosition }>
  /** The position of the tenant's newest event (or of the purge's mark, when later; 0 in an empty log): reading after it reads only what comes next. */
  head(tenantId: string): Promise<EventPosition>
  /** Up to `query.limit` events, newest first. */
  audit(tenantId: string, query: AuditQuery): Promise<EventRow[]>
}

interface StoredEventRow extends EventRow {
  member_id: string | null
  member_type: string | null
}

const COLUMNS = `e.seq::text AS seq, x.pos, e.id::text AS id, e.time, e.type, e.resource_type, e.resource_id, e.actor_type, e.actor_id, e.actor_label,
  e.client_kind, e.request_id, e.data, x.member_id::text AS member_id, x.member_type`

/**
 * The events of row `e` between places `first` and `last` (SQL expressions, 1-based, inclusive; `first` may use
 * `l.last`) in the order of their place: the row itself (place 0) when it is an ordinary one, else those of its
 * members. Only the members in that range are unnested, so a page of a 10,000-member row costs the page.
 */
function expandRow(first: string, last: string): string {
  return `CROSS JOIN LATERAL (
      SELECT 0 AS pos, NULL::uuid AS member_id, NULL::text AS member_type WHERE e.member_ids IS NULL
      UNION ALL
      SELECT (f.first - 1 + m.n)::int, m.member_id, coalesce(m.member_type, 'User')
      FROM (SELECT ${last} AS last) l
      CROSS JOIN LATERAL (SELECT ${first} AS first) f
      CROSS JOIN LATERAL unnest(e.member_ids[f.first : l.last], e.member_types[f.first : l.last]) WITH ORDINALITY AS m(member_id, member_type, n)
      WHERE e.member_ids IS NOT NULL) x`
}

/** A place after which a page of `limit` events still counts within integer. */
const placeWithin = (pos: number, limit: number): number => Math.min(pos, 2_147_483_647 - limit - 1)

/**
 * The page of tenant $1 after position ($2 seq, $3 place), oldest first, at most $4 events, selecting `columns`;
 * `condition`, when given, must hold too.
 */
function pageAfter(columns: string, condition?: string): string {
  return `SELECT ${columns}
    FROM events e
    ${expandRow('CASE WHEN e.seq = $2::bigint THEN $3::int + 1 ELSE 1 END', 'CASE WHEN e.seq = $2::bigint THEN $3::int ELSE 0 END + $4::int')}
    WHERE ${condition === undefined ? '' : `${condition} AND `}e.tenant_id = $1 AND e.seq >= $2::bigint AND (e.seq > $2::bigint OR x.pos > $3::int)
    ORDER BY e.seq, x.pos
    LIMIT $4`
}

const PAGE_AFTER = pageAfter(COLUMNS)

/** The tenant's purge mark beside the page after the position, which is read only when the mark is not past it. */
const PAGE_AFTER_UNLESS_PURGED = `SELECT m.purged_seq::text AS purged_seq, m.purged_pos, p.*
  FROM (SELECT 1) one
  LEFT JOIN event_purge_marks m ON m.tenant_id = $1
  LEFT JOIN LATERAL (${pageAfter(`${COLUMNS}, e.seq AS sort_seq`, '(m.tenant_id IS NULL OR (m.purged_seq, m.purged_pos) <= ($2::bigint, $3::int))')}) p ON true
  ORDER BY p.sort_seq, p.pos`

/** A member's event: the row's id with its last 48 bits replaced by the place (stable across reads, as the ids of a statement's rows were). */
function toEventRow({ member_id: memberId, member_type: memberType, ...row }: StoredEventRow): EventRow {
  if (memberId === null) return row
  return { ...row, id: `${row.id.slice(0, 24)}${row.pos.toString(16).padStart(12, '0')}`, data: { member: { type: memberType, value: memberId } } }
}

function actorColumns(actor: EventActor): [string, string | null, string | null] {
  if (actor.type === 'token') return ['token', actor.id, actor.label ?? null]
  if (actor.type === 'admin') return ['admin', actor.id ?? null, null]
  return ['system', null, null]
}

export function createEventsStore(db: Queryable): EventsStore {
  return {
    async append(tenantId, origin, events) {
      if (events.length === 0) return
      const statement = eventAttachment(tenantId, origin, events).attach('SELECT 1', [])
      await db.query(statement.text, statement.values)
    },

    async appendExternal(tenantId, events) {
      if (events.length === 0) return 0
      const actors = events.map((e) => actorColumns(e.origin.actor))
      const { rowCount } = await db.query(
        `WITH writer AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(${EVENT_LOCK_CLASS}, hashtext($1))),
              wake AS MATERIALIZED (SELECT pg_notify('${EVENT_CHANNEL}', $1))
         INSERT INTO events (tenant_id, type, resource_type, resource_id, actor_type, actor_id, actor_label, client_kind, request_id, data, source_id, time)
         SELECT $1, e.type, e.resource_type, e.resource_id, e.actor_type, e.actor_id, e.actor_label, e.client_kind, e.request_id, e.data::jsonb, e.source_id, e.time
         FROM writer, wake,
              unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])
                WITH ORDINALITY AS e(type, resource_type, resource_id, data, actor_type, actor_id, actor_label, client_kind, request_id, source_id, time, n)
         ORDER BY e.n
         ON CONFLICT (tenant_id, source_id) WHERE source_id IS NOT NULL DO NOTHING`,
        [
          tenantId,
          events.map((e) => e.type),
          events.map((e) => e.resourceType),
          events.map((e) => e.resourceId),
          events.map((e) => (e.data === undefined ? null : JSON.stringify(e.data))),
          actors.map((a) => a[0]),
          actors.map((a) => a[1]),
          actors.map((a) => a[2]),
          events.map((e) => e.origin.clientKind),
          events.map((e) => e.origin.requestId ?? null),
          events.map((e) => e.sourceId),
          events.map((e) => e.time.toISOString()),
        ],
      )
      return rowCount ?? 0
    },

    async lockForFeed(tenantId) {
      await db.query(`SELECT pg_advisory_xact_lock(${EVENT_LOCK_CLASS}, hashtext($1))`, [tenantId])
    },

    async after(tenantId, after, limit) {
      // A bare seq is past its whole row: a place beyond any row's members.
      const { seq, pos } = typeof after === 'bigint' ? { seq: after, pos: Number.MAX_SAFE_INTEGER } : after
      const { rows } = await db.query<StoredEventRow & Record<string, unknown>>(PAGE_AFTER, [tenantId, seq.toString(), placeWithin(pos, limit), limit])
      return rows.map(toEventRow)
    },

    async afterUnlessPurged(tenantId, after, limit) {
      const { rows } = await db.query<(StoredEventRow & { purged_seq: string | null; purged_pos: number | null; sort_seq: string | null }) & Record<string, unknown>>(
        PAGE_AFTER_UNLESS_PURGED,
        [tenantId, after.seq.toString(), placeWithin(after.pos, limit), limit],
      )
      const mark = rows[0]
      if (mark?.purged_seq != null && mark.purged_pos !== null) {
        const purged = { seq: BigInt(mark.purged_seq), pos: mark.purged_pos }
        if (purged.seq > after.seq || (purged.seq === after.seq && purged.pos > after.pos)) return { purgedThrough: purged }
      }
      return { rows: rows.filter((row) => row.seq !== null).map(({ purged_seq: _s, purged_pos: _p, sort_seq: _o, ...row }) => toEventRow(row)) }
    },

    async head(tenantId) {
      const { rows } = await db.query<{ seq: string; pos: number }>(
        `SELECT h.seq::text AS seq, h.pos FROM (
           (SELECT e.seq, coalesce(e.member_count, 0) AS pos FROM events e WHERE e.tenant_id = $1 ORDER BY e.seq DESC LIMIT 1)
           UNION ALL
           (SELECT m.purged_seq, m.purged_pos FROM event_purge_marks m WHERE m.tenant_id = $1)
         ) h
         ORDER BY h.seq DESC, h.pos DESC
         LIMIT 1`,
        [tenantId],
      )
      const row = rows[0]
      return row === undefined ? { seq: 0n, pos: 0 } : { seq: BigInt(row.seq), pos: row.pos }
    },

    async audit(tenantId, query) {
      const { rows } = await db.query<StoredEventRow & Record<string, unknown>>(
        `SELECT ${COLUMNS}
         FROM events e
         ${expandRow('greatest(1, l.last - $9::int + 1)', 'CASE WHEN e.seq = $2::bigint THEN least(e.member_count, $3::int - 1) ELSE e.member_count END')}
         WHERE e.tenant_id = $1
           AND ($2::bigint IS NULL OR e.seq < $2::bigint OR (e.seq = $2::bigint AND x.pos < $3::int))
           AND ($4::text IS NULL OR e.resource_id = $4::text)
           AND ($5::text IS NULL OR e.type = $5::text)
           AND ($6::text IS NULL OR e.actor_id = $6::text OR e.actor_type = $6::text)
           AND ($7::timestamptz IS NULL OR e.time >= $7::timestamptz)
           AND ($8::timestamptz IS NULL OR e.time < $8::timestamptz)
         ORDER BY e.seq DESC, x.pos DESC
         LIMIT $9`,
        [
          tenantId,
          query.before?.seq.toString() ?? null,
          query.before?.pos ?? 0,
          query.resourceId ?? null,
          query.type ?? null,
          query.actor ?? null,
          query.since?.toISOString() ?? null,
          query.until?.toISOString() ?? null,
          query.limit,
        ],
      )
      return rows.map(toEventRow)
    },
  }
}

/** Deletes one batch of events older than `cutoff` across tenants (through the migration's SECURITY DEFINER function); returns how many. */
export async function purgeEventBatch(db: Queryable, cutoff: Date, batchSize: number): Promise<number> {
  const { rows } = await db.query<{ purged: number }>('SELECT scimgate_purge_events($1, $2) AS purged', [cutoff.toISOString(), batchSize])
  return Number(rows[0]?.purged ?? 0)
}
