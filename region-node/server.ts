import closeWithGrace from 'close-with-grace'
import type { RegionNodeConfig } from '../config/node-config.ts'
import { collectProcessMetrics, createMetricsRegistry } from '../lib/metrics/request-metrics.ts'
import type { OpsListen } from '../config/process-settings.ts'
import { startOpsServer } from '../lib/ops-server.ts'
import { shutdownTracing } from '../lib/tracing.ts'
import { buildRegionNode } from './app.ts'
import { ensureDatabase } from './ensure-database.ts'
import { migrateDatabase } from './migrations/migrate.ts'

export interface StartOptions {
  /** Create the database if missing and apply migrations before listening (local runs). */
  readonly prepareDatabase: boolean
  /** Close on SIGINT/SIGTERM here; false when the caller (e.g. `scimgate dev`) owns shutdown. */
  readonly handleSignals?: boolean
  /** The ops listener (/metrics, /livez, /readyz); none when undefined. */
  readonly ops?: OpsListen
  /** Process metrics (CPU, memory, event loop) on /metrics. */
  readonly processMetrics?: boolean
  /** How long in-flight requests may take to finish on SIGINT/SIGTERM. */
  readonly shutdownGraceMs?: number
}

export interface RunningRegionNode {
  readonly url: string
  readonly opsUrl: string | undefined
  close(): Promise<void>
}

/** Starts one region node and closes it gracefully on SIGINT/SIGTERM (in-flight requests finish). */
export async function startRegionNode(config: RegionNodeConfig, options: StartOptions): Promise<RunningRegionNode> {
  if (options.prepareDatabase) {
    await ensureDatabase(config.database.url)
    await migrateDatabase({ databaseUrl: config.database.url })
  }
  const metricsRegistry = createMetricsRegistry()
  if (options.processMetrics === true) collectProcessMetrics(metricsRegistry)
  const app = await buildRegionNode(config, { metricsRegistry })
  const url = await app.listen({ host: config.host, port: config.port })
  const ops =
    options.ops === undefined
      ? undefined
      : await startOpsServer({ ...options.ops, registry: metricsRegistry, readiness: () => app.database.ping().then(() => undefined, () => 'database') })
  const close = async (): Promise<void> => {
    ops?.beginDraining()
    // Waits for in-flight requests (fastify drains; see buildRegionNode).
    await app.close()
    await ops?.close()
  }
  if (options.handleSignals !== false) {
    closeWithGrace({ delay: options.shutdownGraceMs ?? 10_000 }, async ({ err }) => {
      if (err !== undefined) app.log.error({ err }, 'closing after error')
      await close()
      await shutdownTracing()
    })
  }
  return { url, opsUrl: ops?.url, close }
}
