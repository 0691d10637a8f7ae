import { Command, Option } from 'commander'
import { ConfigError } from '../config/config-error.ts'
import { migrationDatabaseUrl } from '../config/node-config.ts'
import type { RegionCatalog } from '../config/region-catalog.ts'
import { ensureDatabase } from '../region-node/ensure-database.ts'
import { migrateDatabase } from '../region-node/migrations/migrate.ts'

export function migrateCommand(catalog: () => RegionCatalog): Command {
  return new Command('migrate')
    .description('apply database migrations of region nodes')
    .addOption(new Option('-r, --region <code>', 'one region (default: every region of the catalog)'))
    .option('--database-url <url>', 'database to migrate (default: DATABASE_URL, else the local default of the region)')
    .option('--create', 'create the database if it does not exist', false)
    .action(async (options: { region?: string; databaseUrl?: string; create: boolean }) => {
      const regions = options.region === undefined ? catalog().regions : [catalog().byCode(options.region)]
      for (const region of regions) {
        if (region === undefined) throw new ConfigError('--region', [`unknown region ${options.region}`])
        const url = options.databaseUrl ?? migrationDatabaseUrl(process.env, region.code)
        if (options.create) await ensureDatabase(url)
        const applied = await migrateDatabase({ databaseUrl: url })
        console.log(`${region.code}: ${applied.length === 0 ? 'up to date' : `applied ${applied.join(', ')}`}`)
      }
    })
}
