import closeWithGrace from 'close-with-grace'
import { Command, Option } from 'commander'
import { ConfigError } from '../config/config-error.ts'
import { loadNodeConfig, migrationDatabaseUrl } from '../config/node-config.ts'
import { devSecretsRequested } from '../config/dev-secrets.ts'
import { shutdownGraceMsFromEnv } from '../config/process-settings.ts'
import { loadRegionCatalogFromEnv, type RegionCatalog } from '../config/region-catalog.ts'
import { signIdentity, type IdentityScope } from '../lib/internal-identity.ts'
import { shutdownTracing } from '../lib/tracing.ts'
import { ensureDatabase } from '../region-node/ensure-database.ts'
import { migrateDatabase } from '../region-node/migrations/migrate.ts'
import { startRegionNode } from '../region-node/server.ts'
import { loadOrCreateDevKeys } from './dev-keys.ts'
import { startDev } from './dev.ts'
import { credentialCommand } from './credential-command.ts'
import { eventsCommand } from './events-command.ts'
import { gatewayCommand } from './gateway-command.ts'
import { tokenCommand } from './token-command.ts'

function catalog(): RegionCatalog {
  return loadRegionCatalogFromEnv(process.env)
}

const program = new Command()
  .name('scimgate')
  .description('Multi-region SCIM 2.0 provisioning: region nodes, gateway and tokens')
  .showHelpAfterError()

program
  .command('node')
  .description('run the region node of one region (settings from the environment; see README)')
  .requiredOption('-r, --region <code>', 'region code, e.g. EU1')
  .option('--migrate', 'create the database if missing and apply migrations before listening', false)
  .action(async (options: { region: string; migrate: boolean }) => {
    const env: Record<string, string | undefined> = { ...process.env, SCIMGATE_REGION: options.region }
    const devKeySet = devSecretsRequested(env) ? { keys: [(await loadOrCreateDevKeys()).publicJwk] } : undefined
    const config = loadNodeConfig(env, catalog(), { devKeySet })
    const node = await startRegionNode(config, { prepareDatabase: options.migrate, ops: config.ops, processMetrics: true, shutdownGraceMs: config.shutdownGraceMs })
    console.error(`region ${config.region.code} node listening on ${node.url}${node.opsUrl === undefined ? '' : `, ops on ${node.opsUrl}`}`)
  })

program
  .command('migrate')
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

program.addCommand(gatewayCommand(catalog))
program.addCommand(tokenCommand())
program.addCommand(eventsCommand())
program.addCommand(credentialCommand())

program
  .command('dev')
  .description('start the whole system locally: the gateway and a node for every region of the catalog, each with its own database')
  .action(async () => {
    const system = await startDev(process.env, catalog())
    closeWithGrace({ delay: shutdownGraceMsFromEnv(process.env) }, async () => {
      await system.close()
      await shutdownTracing()
    })
  })

program
  .command('build-console')
  .description('build the admin console’s browser assets (content-hashed) into dist/console, or CONSOLE_ASSETS_DIR')
  .action(async () => {
    const { buildConsole } = await import('../console/build.ts')
    const manifest = await buildConsole(process.env.CONSOLE_ASSETS_DIR)
    console.error(`console built: ${manifest.script}, ${manifest.style}`)
  })

program
  .command('dev-identity')
  .description('print an internal identity for calling a local region node directly (development only)')
  .requiredOption('-t, --tenant <id>', 'tenant id')
  .requiredOption('-r, --region <code>', 'region code')
  .option('--admin', 'grant the admin scope as well', false)
  .option('--ttl <seconds>', 'lifetime', '3600')
  .action(async (options: { tenant: string; region: string; admin: boolean; ttl: string }) => {
    const keys = await loadOrCreateDevKeys()
    const scopes: IdentityScope[] = options.admin ? ['scim', 'admin'] : ['scim']
    const region = catalog().byCode(options.region)
    if (region === undefined) throw new ConfigError('--region', [`unknown region ${options.region}`])
    console.log(await signIdentity(keys.signingKey, { tenantId: options.tenant, tokenId: 'dev', region: region.code, scopes }, Number(options.ttl)))
  })

try {
  await program.parseAsync()
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message)
    process.exit(2)
  }
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
}
