import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import type { RegionNodeConfig } from '../config/node-config.ts'
import { collectProcessMetrics, createMetricsRegistry } from '../lib/metrics/request-metrics.ts'
import type { OpsListen } from '../config/process-settings.ts'
import { startOpsServer } from '../lib/ops-server.ts'
import { DependencyUnavailableError } from '../lib/scim-error.ts'
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

/**
 * A role that sees past row-level security stops the start (the CLI lists why).
 * A database that cannot be reached yet does not: every new connection is
 * checked before its first use (storage/database.ts), and the node recovers.
 */
async function refuseUnsafeDatabaseRole(app: FastifyInstance): Promise<void> {
  try {
    await app.database.verifyRowSecurity()
  } catch (error) {
    if (error instanceof DependencyUnavailableError) {
      app.log.warn('the database is not reachable yet; its role is checked on every new connection')
      return
    }
    await app.close()
    throw error
  }
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
  await refuseUnsafeDatabaseRole(app)
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
