import closeWithGrace from 'close-with-grace'
import { Command } from 'commander'
import { loadGatewayConfig } from '../config/gateway-config.ts'
import { DEFAULT_SHUTDOWN_GRACE_MS } from '../config/process-settings.ts'
import type { RegionCatalog } from '../config/region-catalog.ts'
import { startGateway } from '../gateway/server.ts'
import { importSigningKey } from '../lib/internal-identity.ts'
import { shutdownTracing } from '../lib/tracing.ts'
import { loadOrCreateDevKeys } from './dev-keys.ts'

export function gatewayCommand(catalog: () => RegionCatalog): Command {
  return new Command('gateway')
    .description('run the public gateway (settings from the environment; see README)')
    .action(async () => {
      const config = loadGatewayConfig(process.env, catalog())
      const signingKey = config.identitySigningKey === undefined ? (await loadOrCreateDevKeys()).signingKey : await importSigningKey(config.identitySigningKey)
      const gateway = await startGateway(config, { signingKey, ops: config.ops, processMetrics: true })
      closeWithGrace({ delay: config.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS }, async () => {
        await gateway.close()
        await shutdownTracing()
      })
      console.error(`gateway listening on ${gateway.url}${gateway.adminUrl === undefined ? ' (admin API off: set ADMIN_TOKEN_SHA256)' : `, admin API on ${gateway.adminUrl}`}${gateway.opsUrl === undefined ? '' : `, ops on ${gateway.opsUrl}`}`)
    })
}
