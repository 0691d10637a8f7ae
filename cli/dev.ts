import { randomBytes } from 'node:crypto'
import { join, resolve } from 'node:path'
import { loadGatewayConfig } from '../config/gateway-config.ts'
import { loadNodeConfig } from '../config/node-config.ts'
import type { RegionCatalog } from '../config/region-catalog.ts'
import { sha256Hex } from '../gateway/admin/admin-credential.ts'
import type { TokenEventContext } from '../gateway/tokens/token-events.ts'
import { startGateway } from '../gateway/server.ts'
import { hasRedisSettings } from '../config/redis-settings.ts'
import { opsListenFromEnv, type OpsListen } from '../config/process-settings.ts'
import { startRegionNode } from '../region-node/server.ts'
import { loadOrCreateDevKeys } from './dev-keys.ts'
import { answers, startEmbeddedPostgres, writeDevModeMarker } from './embedded-services.ts'

// The demo tokens of embedded mode are scimgate's own doing, not an admin's.
const SYSTEM_CONTEXT: TokenEventContext = { actor: { type: 'system' } }

export interface DevSystem {
  readonly gatewayUrl: string
  readonly adminUrl: string | undefined
  readonly adminToken: string
  readonly embedded: readonly string[]
  /** Embedded mode: a fresh token of tenant `demo` per region. */
  readonly demoTokens: ReadonlyMap<string, string>
  close(): Promise<void>
}

type Env = Readonly<Record<string, string | undefined>>

/** The same server as `url`, another database name: one database per region. */
function withDatabase(url: string, name: string): string {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/**
 * `npm start`: every region's node on its catalog port (each on its own
 * database, created and migrated when missing) and the gateway in front.
 * PostgreSQL and Redis are used when configured or answering locally;
 * otherwise (or with SCIMGATE_EMBEDDED=1) an embedded PostgreSQL and the
 * built-in token store take their place, with data under SCIMGATE_DATA_DIR.
 */
export async function startDev(env: Env, catalog: RegionCatalog, print: (line: string) => void = console.log): Promise<DevSystem> {
  const dataDir = resolve(env.SCIMGATE_DATA_DIR ?? '.data')
  const forceEmbedded = env.SCIMGATE_EMBEDDED === '1' || env.SCIMGATE_EMBEDDED === 'true'
  const keys = await loadOrCreateDevKeys(dataDir)
  const jwks = JSON.stringify({ keys: [keys.publicJwk] })
  const closers: (() => Promise<void>)[] = []
  const embedded: string[] = []

  let serverUrl = forceEmbedded ? undefined : env.DATABASE_URL
  if (serverUrl === undefined && !forceEmbedded && (await answers('127.0.0.1', 5432))) serverUrl = 'postgres://postgres@127.0.0.1:5432/postgres'
  if (serverUrl === undefined) {
    const database = await startEmbeddedPostgres(join(dataDir, 'postgres'), Number(env.EMBEDDED_POSTGRES_PORT ?? 54329))
    closers.push(database.stop)
    serverUrl = database.url
    embedded.push('PostgreSQL')
  }

  let tokenStoreFile: string | undefined
  if (forceEmbedded || (!hasRedisSettings(env) && !(await answers('127.0.0.1', 6379)))) {
    tokenStoreFile = join(dataDir, 'tokens.json')
    embedded.push('token store')
    await writeDevModeMarker(dataDir, { tokenStoreFile, devSecrets: true })
  } else {
    await writeDevModeMarker(dataDir, { devSecrets: true })
  }

  // Ops listeners only when OPS_PORT is set: the gateway on it, node i on OPS_PORT + 1 + i (0: any free ports).
  const gatewayOps = env.OPS_PORT === undefined ? undefined : opsListenFromEnv(env, 0)
  const nodeOps = (index: number): OpsListen | undefined => (gatewayOps === undefined ? undefined : { host: gatewayOps.host, port: gatewayOps.port === 0 ? 0 : gatewayOps.port + 1 + index })

  try {
    for (const [index, region] of catalog.regions.entries()) {
      const config = loadNodeConfig(
        {
          ...env,
          SCIMGATE_REGION: region.code,
          PORT: undefined,
          HOST: undefined,
          IDENTITY_JWKS: jwks,
          // The development cursor key unless SCIM_CURSOR_KEYS is given.
          SCIMGATE_DEV_SECRETS: '1',
          DATABASE_URL: withDatabase(serverUrl, `scimgate_${region.code.toLowerCase()}`),
          LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
        },
        catalog,
      )
      const node = await startRegionNode(config, { prepareDatabase: true, handleSignals: false, ops: nodeOps(index), processMetrics: index === 0 && gatewayOps !== undefined })
      closers.unshift(node.close)
      print(`${region.code.padEnd(4)} node ${node.url}${node.opsUrl === undefined ? '' : `   ops ${node.opsUrl}`}`)
    }

    const adminToken = env.ADMIN_TOKEN ?? `dev-admin-${randomBytes(12).toString('hex')}`
    const gatewayConfig = loadGatewayConfig(
      {
        ...env,
        // The development command is the one place that asks for development secrets.
        SCIMGATE_DEV_SECRETS: '1',
        // One local gateway serves every region of the catalog.
        SCIMGATE_REGION: undefined,
        ADMIN_TOKEN_SHA256: env.ADMIN_TOKEN_SHA256 ?? sha256Hex(adminToken),
        LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
        ...(tokenStoreFile === undefined ? {} : { SCIMGATE_TOKEN_STORE_FILE: tokenStoreFile }),
      },
      catalog,
    )
    const gateway = await startGateway(gatewayConfig, { signingKey: keys.signingKey, ops: gatewayOps })
    closers.unshift(gateway.close)

    const demoTokens = new Map<string, string>()
    if (tokenStoreFile !== undefined) {
      // Embedded mode: a demo token per region, new at every start (the previous ones are revoked).
      const store = gateway.tokenStore
      for (const region of catalog.regions) {
        for (const old of await store.list('demo', region.code)) if (old.label === 'demo' && old.status === 'active') await store.revoke(old.tokenId, SYSTEM_CONTEXT)
        demoTokens.set(region.code, (await store.create({ tenantId: 'demo', region: region.code, label: 'demo' }, SYSTEM_CONTEXT)).token)
      }
    }

    const port = new URL(gateway.url).port
    if (embedded.length > 0) print(`\nembedded mode: ${embedded.join(' and ')} (data in ${dataDir})`)
    print(`\ngateway ${gateway.url}   admin API ${gateway.adminUrl ?? 'off'}${gateway.opsUrl === undefined ? '' : `   ops ${gateway.opsUrl}`}`)
    if (gateway.adminUrl !== undefined) {
      print(`console ${gateway.adminUrl}/console/${env.ADMIN_TOKEN === undefined ? `   sign in with the operator credential of this run: ${adminToken}` : ''}`)
      print('        team admins: npx scimgate credential create --kind admin --tenant acme --region EU1')
    }
    print('\ntenant URLs (locally, send the Host header):')
    for (const region of catalog.regions) {
      const local = region.hostnames.find((h) => h.endsWith('.localhost')) ?? region.hostnames[0]
      const demo = demoTokens.get(region.code)
      print(`  ${region.code.padEnd(4)} ${region.tenantUrl.padEnd(44)} local: http://${local}:${port}/scim${demo === undefined ? '' : `   demo token: ${demo}`}`)
    }
    print('\ntry:')
    print('  TOKEN=$(npx scimgate token create --tenant acme --region EU1)')
    print(`  curl -s -H "Host: eu1.localhost" -H "Authorization: Bearer $TOKEN" http://127.0.0.1:${port}/scim/v2/Users`)

    return {
      gatewayUrl: gateway.url,
      adminUrl: gateway.adminUrl,
      adminToken,
      embedded,
      demoTokens,
      async close() {
        for (const close of closers) await close()
      },
    }
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined)
    throw error
  }
}
