import closeWithGrace from 'close-with-grace'
import type { RegionNodeConfig } from '../config/node-config.ts'
import { buildRegionNode } from './app.ts'
import { ensureDatabase } from './ensure-database.ts'
import { migrateDatabase } from './migrations/migrate.ts'

export interface StartOptions {
  /** Create the database if missing and apply migrations before listening (local runs). */
  readonly prepareDatabase: boolean
  /** Close on SIGINT/SIGTERM here; false when the caller (e.g. `scimgate dev`) owns shutdown. */
  readonly handleSignals?: boolean
}

/** Starts one region node and closes it gracefully on SIGINT/SIGTERM (in-flight requests finish). */
export async function startRegionNode(config: RegionNodeConfig, options: StartOptions): Promise<{ url: string; close: () => Promise<void> }> {
  if (options.prepareDatabase) {
    await ensureDatabase(config.database.url)
    await migrateDatabase({ databaseUrl: config.database.url })
  }
  const app = await buildRegionNode(config)
  const url = await app.listen({ host: config.host, port: config.port })
  if (options.handleSignals !== false) {
    closeWithGrace({ delay: 10_000 }, async ({ err }) => {
      if (err !== undefined) app.log.error({ err }, 'closing after error')
      await app.close()
    })
  }
  return { url, close: () => app.close() }
}
