import closeWithGrace from 'close-with-grace'
import { Command } from 'commander'
import { loadNodeConfig } from '../config/node-config.ts'
import type { RegionCatalog } from '../config/region-catalog.ts'
import { defaultNodeOpsPort, opsListenFromEnv, shutdownGraceMsFromEnv } from '../lib/ops-server.ts'
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
      if (env.IDENTITY_JWKS === undefined && env.IDENTITY_JWKS_FILE === undefined && env.NODE_ENV !== 'production') {
        env.IDENTITY_JWKS = JSON.stringify({ keys: [(await loadOrCreateDevKeys()).publicJwk] })
      }
      const regions = catalog()
      const config = loadNodeConfig(env, regions)
      const ops = opsListenFromEnv(env, defaultNodeOpsPort(regions.regions.findIndex((r) => r.code === config.region.code)))
      const node = await startRegionNode(config, { prepareDatabase: options.migrate, ops, processMetrics: true })
      closeWithGrace({ delay: shutdownGraceMsFromEnv(env) }, async () => {
        await node.close()
        await shutdownTracing()
      })
      closeWithSupervisor()
      console.error(`region ${config.region.code} node listening on ${node.url}${node.opsUrl === undefined ? '' : `, ops on ${node.opsUrl}`}`)
      announceReady({ url: node.url, ...(node.opsUrl === undefined ? {} : { opsUrl: node.opsUrl }) })
    })
}
