import { Command } from 'commander'
import { ConfigError } from '../config/config-error.ts'
import { loadRegionCatalogFromEnv, type RegionCatalog } from '../config/region-catalog.ts'
import { credentialCommand } from './credential-command.ts'
import { buildConsoleCommand } from './build-console-command.ts'
import { devCommand } from './dev-command.ts'
import { devIdentityCommand } from './dev-identity-command.ts'
import { embeddedPostgresCommand } from './embedded-postgres-command.ts'
import { eventsCommand } from './events-command.ts'
import { gatewayCommand } from './gateway-command.ts'
import { migrateCommand } from './migrate-command.ts'
import { nodeCommand } from './node-command.ts'
import { tokenCommand } from './token-command.ts'

function catalog(): RegionCatalog {
  return loadRegionCatalogFromEnv(process.env)
}

const program = new Command()
  .name('scimgate')
  .description('Multi-region SCIM 2.0 provisioning: region nodes, gateway and tokens')
  .showHelpAfterError()
  .addCommand(nodeCommand(catalog))
  .addCommand(migrateCommand(catalog))
  .addCommand(gatewayCommand(catalog))
  .addCommand(tokenCommand())
  .addCommand(credentialCommand())
  .addCommand(eventsCommand())
  .addCommand(buildConsoleCommand())
  .addCommand(devCommand(catalog))
  .addCommand(devIdentityCommand(catalog))
  .addCommand(embeddedPostgresCommand(), { hidden: true })

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
