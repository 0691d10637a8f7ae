// A region node in its own process, built exactly as the product builds it.
import type { JWK } from 'jose'
import type { AddressInfo } from 'node:net'
import { DEFAULT_EVENT_LOG, DEFAULT_LIMITS, type RegionNodeConfig } from '../../config/node-config.ts'
import { DEVELOPMENT_CURSOR_KEYS } from '../../config/cursor-keys.ts'
import { loadRegionCatalog } from '../../config/region-catalog.ts'
import { buildRegionNode } from '../../region-node/app.ts'
import { announceReady, exitOnSignal, readConfig } from './ready.ts'

export interface NodeProcessConfig {
  readonly region: string
  readonly databaseUrl: string
  readonly publicJwk: JWK
  readonly poolSize: number
  /** false: the event log's off switch, to measure what the log costs (default on). */
  readonly eventLog?: boolean
}

const options = readConfig<NodeProcessConfig>()
const region = loadRegionCatalog().byCode(options.region)
if (region === undefined) throw new Error(`unknown region ${options.region}`)
const config: RegionNodeConfig = {
  region,
  host: '127.0.0.1',
  port: 0,
  database: { url: options.databaseUrl, poolSize: options.poolSize, rowSecurityRole: 'scimgate_app', statementTimeoutMs: 60_000, connectionTimeoutMs: 5_000 },
  identityKeySet: { keys: [options.publicJwk] },
  cursorKeys: DEVELOPMENT_CURSOR_KEYS,
  limits: DEFAULT_LIMITS,
  logLevel: 'silent',
  events: { ...DEFAULT_EVENT_LOG, enabled: options.eventLog !== false },
}
const app = await buildRegionNode(config, { logger: false })
await app.listen({ host: '127.0.0.1', port: 0 })
exitOnSignal(() => app.close())
announceReady({ url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` })
