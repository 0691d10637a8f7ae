import closeWithGrace from 'close-with-grace'
import { Command } from 'commander'
import type { RegionCatalog } from '../config/region-catalog.ts'
import { startDev } from './dev.ts'

/** Covers the children's own grace (SHUTDOWN_GRACE_MS) plus stopping the embedded PostgreSQL. */
const SUPERVISOR_GRACE_MS = 30_000

/**
 * `scimgate dev` (`npm start`): owns the terminal's signals; the processes it supervises run in their
 * own process groups and are stopped by it, gateway first.
 */
export function devCommand(catalog: () => RegionCatalog): Command {
  return new Command('dev')
    .description('start the whole system locally: the gateway and a node per region of the catalog as supervised processes, each node with its own database')
    .action(async () => {
      const system = await startDev(process.env, catalog())
      closeWithGrace({ delay: SUPERVISOR_GRACE_MS }, async () => {
        await system.close()
      })
    })
}
