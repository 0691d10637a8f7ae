import { Command } from 'commander'
import { ConfigError } from '../config/config-error.ts'
import type { RegionCatalog } from '../config/region-catalog.ts'
import { signIdentity, type IdentityScope } from '../lib/internal-identity.ts'
import { loadOrCreateDevKeys } from './dev-keys.ts'

export function devIdentityCommand(catalog: () => RegionCatalog): Command {
  return new Command('dev-identity')
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
}
