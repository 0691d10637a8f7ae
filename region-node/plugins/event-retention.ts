import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { TenantDatabase } from '../storage/database.ts'
import { purgeEventBatch } from '../storage/events-store.ts'
import { forgetIdleFeedConsumers } from '../storage/feed-positions-store.ts'
import { REGION_WIDE } from '../storage/region-wide.ts'

export interface EventRetentionOptions {
  readonly database: TenantDatabase
  readonly retentionDays: number
  readonly intervalMs: number
  readonly batchSize: number
}

// A pause between batches, so the purge never holds the database for long.
const PAUSE_BETWEEN_BATCHES_MS = 50
const MAX_BATCHES_PER_RUN = 2_000

/**
 * Deletes events older than the retention period, in small batches: each
 * batch is its own short transaction that skips locked rows, so writers are
 * never blocked behind it. Several nodes of a region may purge at once.
 * Each batch runs like a request's transaction (storage/region-wide.ts): the
 * statement timeout and the unprivileged row-security role set for it alone.
 * Feed consumers that read nothing within the retention period are
 * forgotten at the end of a run.
 */
export const eventRetention = fp(
  async (app: FastifyInstance, options: EventRetentionOptions) => {
    let stopped = false
    let running: Promise<void> | undefined

    async function purge(): Promise<void> {
      for (let batch = 0; batch < MAX_BATCHES_PER_RUN && !stopped; batch++) {
        const cutoff = new Date(Date.now() - options.retentionDays * 86_400_000)
        const purged = await options.database.write(REGION_WIDE, (db) => purgeEventBatch(db, cutoff, options.batchSize))
        if (purged < options.batchSize) break
        await new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_BATCHES_MS))
      }
      if (stopped) return
      const cutoff = new Date(Date.now() - options.retentionDays * 86_400_000)
      await options.database.write(REGION_WIDE, (db) => forgetIdleFeedConsumers(db, cutoff))
    }

    const run = (): void => {
      if (running !== undefined || stopped) return
      running = purge()
        .catch((error: unknown) => app.log.warn({ err: error }, 'event retention purge failed; retrying at the next interval'))
        .finally(() => {
          running = undefined
        })
    }
    const timer = setInterval(run, options.intervalMs)
    timer.unref()
    app.addHook('onReady', async () => run())
    app.addHook('preClose', async () => {
      stopped = true
      clearInterval(timer)
      await running
    })
  },
  { name: 'event-retention' },
)
