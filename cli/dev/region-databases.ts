import type { RegionCatalog } from '../../config/region-catalog.ts'
import { ensureDatabase } from '../../region-node/ensure-database.ts'
import { migrateDatabase } from '../../region-node/migrations/migrate.ts'

/** The same server as `url`, another database name: one database per region. */
function withDatabase(url: string, name: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/**
 * Creates and migrates `scimgate_<region>` for every region, one after the other, before any node
 * starts: the migrations create cluster-wide roles, and a node restarted by the supervisor then
 * only connects.
 */
export async function prepareRegionDatabases(serverUrl: string, catalog: RegionCatalog): Promise<ReadonlyMap<string, string>> {
  const urls = new Map<string, string>()
  for (const region of catalog.regions) {
    const url = withDatabase(serverUrl, `scimgate_${region.code.toLowerCase()}`)
    await ensureDatabase(url)
    await migrateDatabase({ databaseUrl: url })
    urls.set(region.code, url)
  }
  return urls
}
