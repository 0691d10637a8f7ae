// How far behind each change-feed consumer of the region is, computed when
// Prometheus scrapes, from the positions the feed records and the log itself:
// a consumer that stops reading shows a lag that keeps growing while events
// arrive (docs/runbook.md#scimgateeventfeedconsumerlagging). Labels are the
// region and the consumer, never the tenant: a consumer of every tenant would
// multiply the series by the tenants of the region; its lag is its worst tenant's.
import type { FastifyBaseLogger } from 'fastify'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { FeedTracking } from '../services/events-service.ts'
import type { TenantDatabase } from '../storage/database.ts'
import { feedConsumerLag, type FeedConsumerLag } from '../storage/feed-positions-store.ts'
import { REGION_WIDE } from '../storage/region-wide.ts'

export interface FeedConsumerMetricsOptions {
  readonly registry: Registry
  readonly region: string
  readonly database: TenantDatabase
  readonly retentionDays: number
  readonly maxConsumers: number
  readonly log: FastifyBaseLogger
}

/** Registers the feed-consumer metrics; returns what the feed needs to track its consumers. */
export function registerFeedConsumerMetrics(options: FeedConsumerMetricsOptions): FeedTracking {
  const { registry, region, database, log } = options
  // A scrape collects every metric at once: both gauges share the query in flight.
  let inFlight: Promise<FeedConsumerLag[] | undefined> | undefined

  const report = (): Promise<FeedConsumerLag[] | undefined> => {
    inFlight ??= database
      .read(REGION_WIDE, (db) => feedConsumerLag(db))
      .catch((error: unknown) => {
        // The last values stay: a database hiccup does not restart the lag alert's clock.
        log.warn({ err: error }, 'cannot compute the change feed consumers’ lag')
        return undefined
      })
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }

  /** A gauge per consumer, set from the shared report at each scrape. */
  const consumerGauge = (name: string, help: string, valueOf: (consumer: FeedConsumerLag) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['region', 'consumer'] as const,
      registers: [registry],
      async collect() {
        const consumers = await report()
        if (consumers === undefined) return
        this.reset()
        for (const c of consumers) this.set({ region, consumer: c.consumer }, valueOf(c))
      },
    })
  }
  consumerGauge(
    'scimgate_event_feed_consumer_lag_seconds',
    'Change feed: age of the oldest event a consumer has not read yet, in its furthest-behind tenant (0 when caught up)',
    (c) => c.lagSeconds,
  )
  consumerGauge('scimgate_event_feed_consumer_last_read_timestamp_seconds', 'Change feed: when a consumer last read the feed of any tenant (Unix time)', (c) => c.lastRead.getTime() / 1000)
  new Gauge({
    name: 'scimgate_event_retention_seconds',
    help: 'How long the event log keeps events (EVENT_RETENTION_DAYS): a consumer further behind loses events',
    labelNames: ['region'] as const,
    registers: [registry],
    collect() {
      this.set({ region }, options.retentionDays * 86_400)
    },
  })
  const untracked = new Counter({
    name: 'scimgate_event_feed_untracked_reads_total',
    help: 'Change feed reads by consumers the region does not track, because it tracks EVENT_FEED_MAX_CONSUMERS already',
    labelNames: ['region'] as const,
    registers: [registry],
  })
  untracked.inc({ region }, 0)
  const refused = new Counter({
    name: 'scimgate_event_feed_purged_cursor_refusals_total',
    help: 'Change feed reads refused (410) because the retention purge deleted events the cursor had not read yet: the consumer must resync',
    labelNames: ['region'] as const,
    registers: [registry],
  })
  refused.inc({ region }, 0)

  let warned = false
  return {
    maxConsumers: options.maxConsumers,
    onUntracked(consumer) {
      untracked.inc({ region })
      if (!warned) log.warn({ consumer, maxConsumers: options.maxConsumers }, 'the region tracks EVENT_FEED_MAX_CONSUMERS change feed consumers already; this one is not tracked')
      warned = true
    },
    onPurgedCursor(tenantId, consumer) {
      refused.inc({ region })
      log.warn({ tenantId, consumer }, 'change feed read refused: its cursor is behind the retention purge; the consumer must resync')
    },
  }
}
