import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadGatewayConfig } from '../config/gateway-config.ts'
import type { RegionCatalog } from '../config/region-catalog.ts'
import { sha256Hex } from '../gateway/admin/admin-credential.ts'
import { createFileTokenStore } from '../gateway/tokens/file-token-store.ts'
import { createTokenHasher } from '../gateway/tokens/token-hasher.ts'
import { printBanner } from './dev/banner.ts'
import { chooseDatabase } from './dev/choose-database.ts'
import { chooseTokenStore } from './dev/choose-token-store.ts'
import { issueDemoTokens } from './dev/demo-tokens.ts'
import { prepareRegionDatabases } from './dev/region-databases.ts'
import { createSupervisor, type SupervisedProcess } from './dev/supervisor.ts'
import { loadOrCreateDevKeys } from './dev-keys.ts'

export interface DevSystem {
  readonly gatewayUrl: string
  readonly adminUrl: string | undefined
  readonly adminToken: string
  readonly embedded: readonly string[]
  /** Embedded mode: a fresh token of tenant `demo` per region. */
  readonly demoTokens: ReadonlyMap<string, string>
  /** The supervised processes: `gateway`, one per region code, and `postgres` in embedded mode. */
  readonly processes: ReadonlyMap<string, SupervisedProcess>
  close(): Promise<void>
}

type Env = Readonly<Record<string, string | undefined>>

const CLI = fileURLToPath(new URL('../bin/scimgate.js', import.meta.url))

/** OPS_PORT set: the gateway's ops listener on it and node i's on OPS_PORT + 1 + i (0: any free ports); unset: none. */
function opsPortOf(env: Env, index: number): string {
  if (env.OPS_PORT === undefined || env.OPS_PORT.trim().toLowerCase() === 'off') return 'off'
  const base = Number(env.OPS_PORT)
  return base === 0 ? '0' : String(base + index)
}

/**
 * `npm start`: the gateway and every region's node as separate processes (as
 * deployed), supervised by this one. PostgreSQL and Redis are used when
 * configured or answering locally; otherwise (or with SCIMGATE_EMBEDDED=1) an
 * embedded PostgreSQL (another supervised process) and the built-in token store take
 * their place, with data under SCIMGATE_DATA_DIR.
 */
export async function startDev(env: Env, catalog: RegionCatalog, print: (line: string) => void = console.log): Promise<DevSystem> {
  const dataDir = resolve(env.SCIMGATE_DATA_DIR ?? '.data')
  const forceEmbedded = env.SCIMGATE_EMBEDDED === '1' || env.SCIMGATE_EMBEDDED === 'true'
  const keys = await loadOrCreateDevKeys(dataDir)
  const supervisor = createSupervisor({ print })
  const close = (): Promise<void> => supervisor.stopAll()
  try {
    const database = await chooseDatabase(env, { dataDir, forceEmbedded, supervisor, cli: CLI })
    const tokenStoreFile = await chooseTokenStore(env, dataDir, forceEmbedded)
    const embedded = [...(database.embedded ? ['PostgreSQL'] : []), ...(tokenStoreFile === undefined ? [] : ['token store'])]
    const databaseUrls = await prepareRegionDatabases(database.serverUrl, catalog)

    // The children read the same catalog from a file (it may have been built in memory).
    const regionsFile = join(dataDir, 'dev-regions.json')
    await writeFile(regionsFile, JSON.stringify({ regions: catalog.regions }))
    const adminToken = env.ADMIN_TOKEN ?? `dev-admin-${randomBytes(12).toString('hex')}`
    // The development command is the one place that asks for development secrets (cursor key, pepper).
    const common = { ...env, SCIMGATE_REGIONS_FILE: regionsFile, SCIMGATE_DATA_DIR: dataDir, SCIMGATE_DEV_SECRETS: '1', LOG_LEVEL: env.LOG_LEVEL ?? 'warn' }
    const gatewayEnv = {
      ...common,
      OPS_PORT: opsPortOf(env, 0),
      // One local gateway serves every region of the catalog.
      SCIMGATE_REGION: undefined,
      ADMIN_TOKEN_SHA256: env.ADMIN_TOKEN_SHA256 ?? sha256Hex(adminToken),
      IDENTITY_SIGNING_KEY: JSON.stringify(keys.privateJwk),
      IDENTITY_SIGNING_KEY_FILE: undefined,
      ...(tokenStoreFile === undefined ? {} : { SCIMGATE_TOKEN_STORE_FILE: tokenStoreFile }),
    }
    // Read here first, so a bad setting stops `npm start` before any process is spawned.
    const gatewayConfig = loadGatewayConfig(gatewayEnv, catalog)
    const demoTokens =
      tokenStoreFile === undefined
        ? new Map<string, string>()
        : await issueDemoTokens(createFileTokenStore(tokenStoreFile, { hasher: createTokenHasher(gatewayConfig.peppers.peppers, gatewayConfig.peppers.current) }), catalog)

    const nodes: SupervisedProcess[] = []
    const jwks = JSON.stringify({ keys: [keys.publicJwk] })
    for (const [index, region] of catalog.regions.entries()) {
      const nodeEnv = { ...common, HOST: undefined, PORT: undefined, OPS_PORT: opsPortOf(env, 1 + index), IDENTITY_JWKS: jwks, IDENTITY_JWKS_FILE: undefined, DATABASE_URL: databaseUrls.get(region.code) }
      nodes.push(supervisor.start({ name: region.code, command: process.execPath, args: [CLI, 'node', '--region', region.code], env: nodeEnv }))
    }
    const nodesReady = await Promise.all(nodes.map((child) => child.nextReady()))
    const gateway = supervisor.start({ name: 'gateway', command: process.execPath, args: [CLI, 'gateway'], env: gatewayEnv })
    const gatewayReady = await gateway.nextReady()

    printBanner(
      {
        catalog,
        nodeUrls: new Map(catalog.regions.map((region, index) => [region.code, nodesReady[index]?.url ?? '?'])),
        opsUrls: new Map(
          [...supervisor.processes].flatMap(([name, child]) => (child.ready?.opsUrl === undefined ? [] : [[name, child.ready.opsUrl] as const])),
        ),
        gatewayUrl: gatewayReady.url,
        adminUrl: gatewayReady.adminUrl,
        generatedAdminToken: env.ADMIN_TOKEN === undefined ? adminToken : undefined,
        embedded,
        dataDir,
        demoTokens,
      },
      print,
    )
    return { gatewayUrl: gatewayReady.url, adminUrl: gatewayReady.adminUrl, adminToken, embedded, demoTokens, processes: supervisor.processes, close }
  } catch (error) {
    await close().catch(() => undefined)
    throw error
  }
}
