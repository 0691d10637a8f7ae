// The floor server (bench/floor/) in its own process, on the node's database and role.
import type { JWK } from 'jose'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { rowSecurityBypasses } from '../../region-node/storage/row-security-role.ts'
import { buildFloorApp } from '../floor/floor-app.ts'
import { announceReady, exitOnSignal, readConfig } from './ready.ts'

export interface FloorProcessConfig {
  readonly region: string
  readonly databaseUrl: string
  readonly publicJwk: JWK
  readonly poolSize: number
  readonly eventLog: boolean
  readonly maxMembersInResponse: number
}

const ROLE = 'scimgate_app'
const options = readConfig<FloorProcessConfig>()

// As the node does before it serves: the role every transaction switches to must not see past row-level security.
const check = new pg.Client({ connectionString: options.databaseUrl })
await check.connect()
try {
  await check.query('BEGIN READ ONLY')
  await check.query("SELECT set_config('role', $1, true)", [ROLE])
  const reasons = await rowSecurityBypasses(check)
  if (reasons.length > 0) throw new Error(`the floor's role would see past row-level security: ${reasons.join('; ')}`)
} finally {
  await check.end()
}

const app = await buildFloorApp({
  databaseUrl: options.databaseUrl,
  region: options.region,
  keySet: { keys: [options.publicJwk] },
  poolSize: options.poolSize,
  rowSecurityRole: ROLE,
  statementTimeoutMs: 60_000,
  eventLog: options.eventLog,
  maxMembersInResponse: options.maxMembersInResponse,
})
await app.listen({ host: '127.0.0.1', port: 0 })
exitOnSignal(() => app.close())
announceReady({ url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` })
