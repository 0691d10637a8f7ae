import { randomBytes } from 'node:crypto'
import closeWithGrace from 'close-with-grace'
import { loadGatewayConfig } from '../config/gateway-config.ts'
import { loadNodeConfig } from '../config/node-config.ts'
import type { RegionCatalog } from '../config/region-catalog.ts'
import { sha256Hex } from '../gateway/admin/admin-credential.ts'
import { startGateway } from '../gateway/server.ts'
import { startRegionNode } from '../region-node/server.ts'
import { loadOrCreateDevKeys } from './dev-keys.ts'

/** The same server as DATABASE_URL, another database name: one database per region. */
function withDatabase(url: string, name: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/**
 * `npm start`: every region's node on its catalog port (each on its own
 * database, created and migrated when missing) and the gateway in front.
 */
export async function startDev(env: Readonly<Record<string, string | undefined>>, catalog: RegionCatalog): Promise<void> {
  const keys = await loadOrCreateDevKeys()
  const jwks = JSON.stringify({ keys: [keys.publicJwk] })
  const closers: (() => Promise<void>)[] = []
  for (const region of catalog.regions) {
    const databaseUrl = env.DATABASE_URL === undefined ? undefined : withDatabase(env.DATABASE_URL, `scimgate_${region.code.toLowerCase()}`)
    const config = loadNodeConfig(
      { ...env, SCIMGATE_REGION: region.code, PORT: undefined, HOST: undefined, IDENTITY_JWKS: jwks, DATABASE_URL: databaseUrl, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
      catalog,
    )
    const node = await startRegionNode(config, { prepareDatabase: true, handleSignals: false })
    closers.push(node.close)
    console.log(`${region.code.padEnd(4)} node ${node.url}`)
  }

  const adminToken = env.ADMIN_TOKEN ?? `dev-admin-${randomBytes(12).toString('hex')}`
  const gatewayConfig = loadGatewayConfig({ ...env, ADMIN_TOKEN_SHA256: env.ADMIN_TOKEN_SHA256 ?? sha256Hex(adminToken), LOG_LEVEL: env.LOG_LEVEL ?? 'warn' }, catalog)
  const gateway = await startGateway(gatewayConfig, { signingKey: keys.signingKey })
  closers.unshift(gateway.close)
  closeWithGrace({ delay: 10_000 }, async () => {
    for (const close of closers) await close()
  })

  const port = new URL(gateway.url).port
  console.log(`\ngateway ${gateway.url}   admin API ${gateway.adminUrl ?? 'off'}${env.ADMIN_TOKEN === undefined ? `   (admin credential for this run: ${adminToken})` : ''}`)
  console.log('\ntenant URLs (locally, send the Host header):')
  for (const region of catalog.regions) {
    const local = region.hostnames.find((h) => h.endsWith('.localhost')) ?? region.hostnames[0]
    console.log(`  ${region.code.padEnd(4)} ${region.tenantUrl.padEnd(44)} local: http://${local}:${port}/scim`)
  }
  console.log('\ntry:')
  console.log('  TOKEN=$(npx scimgate token create --tenant acme --region EU1)')
  console.log(`  curl -s -H "Host: eu1.localhost" -H "Authorization: Bearer $TOKEN" http://127.0.0.1:${port}/scim/v2/Users`)
}
