import { loadNodeConfig } from '../config/node-config.ts'
import type { RegionCatalog } from '../config/region-catalog.ts'
import { startRegionNode } from '../region-node/server.ts'
import { loadOrCreateDevKeys } from './dev-keys.ts'

/** `npm start`: every region's node on its catalog port, each on its own database (created and migrated when missing). */
export async function startDev(env: Readonly<Record<string, string | undefined>>, catalog: RegionCatalog): Promise<void> {
  const keys = await loadOrCreateDevKeys()
  const jwks = JSON.stringify({ keys: [keys.publicJwk] })
  const baseUrl = env.DATABASE_URL
  for (const region of catalog.regions) {
    const databaseUrl = baseUrl === undefined ? undefined : withDatabase(baseUrl, `scimgate_${region.code.toLowerCase()}`)
    const config = loadNodeConfig(
      { ...env, SCIMGATE_REGION: region.code, PORT: undefined, IDENTITY_JWKS: jwks, DATABASE_URL: databaseUrl, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
      catalog,
    )
    const { url } = await startRegionNode(config, { prepareDatabase: true })
    console.log(`${region.code.padEnd(4)} node ${url}/scim/v2  (tenant URL ${region.tenantUrl}, locally ${region.hostnames.find((h) => h.endsWith('.localhost')) ?? ''})`)
  }
  console.log('\nCall a node directly with an internal identity:')
  console.log('  ID=$(npx scimgate dev-identity --tenant acme --region EU1)')
  console.log('  curl -s -H "x-scimgate-identity: $ID" http://127.0.0.1:8102/scim/v2/Users')
}

/** The same server as DATABASE_URL, another database name: one database per region. */
function withDatabase(url: string, name: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}
