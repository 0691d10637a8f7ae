import type { RegionNodeConfig } from '../config/node-config.ts'
import { collectProcessMetrics, createMetricsRegistry } from '../lib/metrics/request-metrics.ts'
import { startOpsServer, type OpsListen } from '../lib/ops-server.ts'
import { buildRegionNode } from './app.ts'
import { ensureDatabase } from './ensure-database.ts'
import { migrateDatabase } from './migrations/migrate.ts'

export interface StartOptions {
  /** Create the database if missing and apply migrations before listening (local runs). */
  readonly prepareDatabase: boolean
  /** The ops listener (/metrics, /livez, /readyz); none when undefined. */
  readonly ops?: OpsListen
  /** Process metrics (CPU, memory, event loop) on /metrics. */
  readonly processMetrics?: boolean
}

export interface RunningRegionNode {
  readonly url: string
  readonly opsUrl: string | undefined
  close(): Promise<void>
}

/**
 * Starts one region node. Signals are the caller's: `scimgate node` closes it on SIGINT/SIGTERM
 * (in-flight requests finish), as `scimgate gateway` does for the gateway.
 */
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
  return { url, opsUrl: ops?.url, close }
}
