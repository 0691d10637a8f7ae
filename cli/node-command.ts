import closeWithGrace from 'close-with-grace'
import { Command } from 'commander'
import { loadNodeConfig } from '../config/node-config.ts'
import type { RegionCatalog } from '../config/region-catalog.ts'
import { devSecretsRequested } from '../config/dev-secrets.ts'
import { DEFAULT_SHUTDOWN_GRACE_MS } from '../config/process-settings.ts'
import { shutdownTracing } from '../lib/tracing.ts'
import { startRegionNode } from '../region-node/server.ts'
import { loadOrCreateDevKeys } from './dev-keys.ts'
import { announceReady, closeWithSupervisor } from './announce-ready.ts'

/** `scimgate node --region R`: one region's node; this command owns its signals (graceful close on SIGINT/SIGTERM). */
export function nodeCommand(catalog: () => RegionCatalog): Command {
  return new Command('node')
    .description('run the region node of one region (settings from the environment; see README)')
    .requiredOption('-r, --region <code>', 'region code, e.g. EU1')
    .option('--migrate', 'create the database if missing and apply migrations before listening', false)
    .action(async (options: { region: string; migrate: boolean }) => {
      const env: Record<string, string | undefined> = { ...process.env, SCIMGATE_REGION: options.region }
      const devKeySet = devSecretsRequested(env) ? { keys: [(await loadOrCreateDevKeys()).publicJwk] } : undefined
      const config = loadNodeConfig(env, catalog(), { devKeySet })
      const node = await startRegionNode(config, { prepareDatabase: options.migrate, ops: config.ops, processMetrics: true })
      closeWithGrace({ delay: config.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS }, async () => {
        await node.close()
        await shutdownTracing()
      })
      closeWithSupervisor()
      console.error(`region ${config.region.code} node listening on ${node.url}${node.opsUrl === undefined ? '' : `, ops on ${node.opsUrl}`}`)
      announceReady({ url: node.url, ...(node.opsUrl === undefined ? {} : { opsUrl: node.opsUrl }) })
    })
}
