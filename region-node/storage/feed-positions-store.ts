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
