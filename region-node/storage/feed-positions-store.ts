// Where each change-feed consumer reads from (see the migration
// event-feed-consumers): written in the feed reader's own transaction,
// reported across tenants by a narrow SECURITY DEFINER function.
import type { EventPosition } from '../events/event-cursor.ts'
import type { Queryable } from './database.ts'

export interface FeedConsumerLag {
  readonly consumer: string
  /** Age of the oldest event the consumer has not read yet, in any tenant; 0 when caught up. */
  readonly lagSeconds: number
  readonly lastRead: Date
}

// A consumer polling the same position again within this long does not
// rewrite its row: its last read is known to within this much.
const REWRITE_SAME_POSITION_AFTER = '15 seconds'

/**
 * Records that `consumer` read the tenant's feed from `after`, registering
 * the consumer when the region tracks fewer than `maxConsumers`. False when
 * the consumer is not tracked (the region is at its cap); the read goes on.
 * Concurrent first reads of new consumers may pass the cap by a few.
 */
export async function recordFeedPosition(db: Queryable, tenantId: string, consumer: string, after: EventPosition, maxConsumers: number): Promise<boolean> {
  const { rows } = await db.query<{ tracked: boolean }>(
    `WITH registered AS (
       INSERT INTO event_feed_consumers (consumer)
       SELECT $2 WHERE NOT EXISTS (SELECT 1 FROM event_feed_consumers WHERE consumer = $2)
                   AND (SELECT count(*) FROM event_feed_consumers) < $4
       ON CONFLICT (consumer) DO NOTHING
       RETURNING consumer
     ), tracked AS (
       SELECT consumer FROM event_feed_consumers WHERE consumer = $2
       UNION ALL SELECT consumer FROM registered
     ), recorded AS (
       INSERT INTO event_feed_positions AS p (tenant_id, consumer, after_seq, after_pos, read_at)
       SELECT $1, consumer, $3, $5, now() FROM tracked LIMIT 1
       ON CONFLICT (tenant_id, consumer) DO UPDATE SET after_seq = excluded.after_seq, after_pos = excluded.after_pos, read_at = excluded.read_at
       WHERE p.after_seq <> excluded.after_seq OR p.after_pos <> excluded.after_pos OR p.read_at < now() - interval '${REWRITE_SAME_POSITION_AFTER}'
     )
     SELECT EXISTS (SELECT 1 FROM tracked) AS tracked`,
    [tenantId, consumer, after.seq.toString(), maxConsumers, after.pos],
  )
  return rows[0]?.tracked === true
}

/** Every tracked consumer's lag and last read, across tenants (one index probe of the log per position). */
export async function feedConsumerLag(db: Queryable): Promise<FeedConsumerLag[]> {
  const { rows } = await db.query<{ consumer: string; lag_seconds: number; last_read: Date }>('SELECT consumer, lag_seconds, last_read FROM scimgate_event_feed_lag()')
  return rows.map((row) => ({ consumer: row.consumer, lagSeconds: Math.max(0, row.lag_seconds), lastRead: row.last_read }))
}

/** Forgets the consumers that read nothing since `cutoff`; returns how many. */
export async function forgetIdleFeedConsumers(db: Queryable, cutoff: Date): Promise<number> {
  const { rows } = await db.query<{ forgotten: number }>('SELECT scimgate_forget_idle_feed_consumers($1) AS forgotten', [cutoff.toISOString()])
  return Number(rows[0]?.forgotten ?? 0)
}

export interface TenantFeedConsumer {
  readonly consumer: string
  /** The position it last read from (what it has processed). */
  readonly after: EventPosition
  readonly lastRead: Date
  /** Age of the oldest event of the tenant it has not read yet; 0 when caught up. */
  readonly lagSeconds: number
  /** Its position is before the purge's mark: its next read is refused (410) until it resyncs. */
  readonly behindRetention: boolean
}

/** The tenant's tracked consumers (row security: this tenant's positions only), by name. */
export async function tenantFeedConsumers(db: Queryable, tenantId: string): Promise<TenantFeedConsumer[]> {
  const { rows } = await db.query<{ consumer: string; after_seq: string; after_pos: number; read_at: Date; lag_seconds: number; behind: boolean }>(
    `SELECT p.consumer, p.after_seq::text AS after_seq, p.after_pos, p.read_at,
            coalesce(extract(epoch FROM now() - oldest.time), 0)::double precision AS lag_seconds,
            coalesce((m.purged_seq, m.purged_pos) > (p.after_seq, p.after_pos), false) AS behind
     FROM event_feed_positions p
     LEFT JOIN event_purge_marks m ON m.tenant_id = p.tenant_id
     LEFT JOIN LATERAL (
       SELECT e.time FROM events e
       WHERE e.tenant_id = p.tenant_id AND e.seq >= p.after_seq AND (e.seq > p.after_seq OR e.member_count > p.after_pos)
       ORDER BY e.seq
       LIMIT 1
     ) oldest ON true
     WHERE p.tenant_id = $1
     ORDER BY p.consumer`,
    [tenantId],
  )
  return rows.map((row) => ({
    consumer: row.consumer,
    after: { seq: BigInt(row.after_seq), pos: row.after_pos },
    lastRead: row.read_at,
    lagSeconds: Math.max(0, row.lag_seconds),
    behindRetention: row.behind,
  }))
}

/** Stops tracking the consumer in the transaction's tenant (and in the region, when it reads no other tenant); false when it was not tracked here. */
export async function forgetFeedConsumer(db: Queryable, consumer: string): Promise<boolean> {
  const { rows } = await db.query<{ forgotten: boolean }>('SELECT scimgate_forget_feed_consumer($1) AS forgotten', [consumer])
  return rows[0]?.forgotten === true
}
