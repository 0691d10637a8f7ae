// The node refuses to start when the role its connections run as would see
// past row-level security: a superuser, a role with BYPASSRLS, or the tables'
// owner. Against the real PostgreSQL.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import t, { type Test } from 'tap'
import { ConfigError } from '../../../config/config-error.ts'
import { DEVELOPMENT_CURSOR_KEYS } from '../../../config/cursor-keys.ts'
import { DEFAULT_LIMITS, type RegionNodeConfig } from '../../../config/node-config.ts'
import { loadRegionCatalog } from '../../../config/region-catalog.ts'
import { generateIdentityKeyPair, IDENTITY_HEADER, signIdentity } from '../../../lib/internal-identity.ts'
import { buildRegionNode } from '../../../region-node/app.ts'
import { startRegionNode } from '../../../region-node/server.ts'
import { createTestDatabase } from '../../helpers/test-database.ts'

const region = loadRegionCatalog().byCode('EU1')!
const keys = await generateIdentityKeyPair()
const suffix = randomBytes(4).toString('hex')
const BYPASS = `scimgate_test_bypass_${suffix}`
const OWNER = `scimgate_test_owner_${suffix}`

const db = await createTestDatabase('rls_role')
const admin = new pg.Client({ connectionString: db.url })
await admin.connect()
// Roles are cluster-wide: dropped after the database (teardowns run in reverse order).
t.teardown(async () => {
  const server = new pg.Client({ connectionString: new URL('/postgres', db.url).toString() })
  await server.connect()
  for (const role of [BYPASS, OWNER]) await server.query(`DROP ROLE IF EXISTS ${role}`)
  await server.end()
})
t.teardown(db.drop)
t.teardown(() => admin.end())
await admin.query(`CREATE ROLE ${BYPASS} LOGIN BYPASSRLS IN ROLE scimgate_app`)
await admin.query(`CREATE ROLE ${OWNER} NOLOGIN`)
await admin.query(`GRANT ${OWNER} TO postgres`)
await admin.query(`ALTER TABLE group_members OWNER TO ${OWNER}`)

function config(url: string, rowSecurityRole: string | null): RegionNodeConfig {
  return {
    region,
    host: '127.0.0.1',
    port: 0,
    database: { url, poolSize: 2, rowSecurityRole, statementTimeoutMs: 30_000, connectionTimeoutMs: 2_000 },
    identityKeySet: { keys: [keys.publicJwk] },
    cursorKeys: DEVELOPMENT_CURSOR_KEYS,
    limits: DEFAULT_LIMITS,
    logLevel: 'silent',
  }
}

function loginAs(role: string): string {
  const url = new URL(db.url)
  url.username = role
  return url.toString()
}

async function refusal(t: Test, nodeConfig: RegionNodeConfig): Promise<string> {
  try {
    const node = await startRegionNode(nodeConfig, { prepareDatabase: false, handleSignals: false })
    await node.close()
  } catch (error) {
    t.ok(error instanceof ConfigError, 'refused with the list of what is wrong')
    return (error as ConfigError).message
  }
  t.fail('the node started')
  return ''
}

t.test('a superuser login without DATABASE_ROW_SECURITY_ROLE is refused', async (t) => {
  t.match(await refusal(t, config(db.url, null)), /role postgres is a superuser/)
})

t.test('a login with BYPASSRLS is refused', async (t) => {
  t.match(await refusal(t, config(loginAs(BYPASS), null)), new RegExp(`role ${BYPASS} has BYPASSRLS`))
})

t.test('switching to the tables’ owner is refused', async (t) => {
  t.match(await refusal(t, config(db.url, OWNER)), new RegExp(`role ${OWNER} owns .*group_members`))
})

t.test('the unprivileged scimgate_app role starts and serves', async (t) => {
  const node = await startRegionNode(config(db.url, 'scimgate_app'), { prepareDatabase: false, handleSignals: false })
  t.teardown(node.close)
  const identity = await signIdentity(keys.signingKey, { tenantId: 'acme', tokenId: 'tok-test', region: 'EU1', scopes: ['scim'] }, 60)
  const response = await fetch(`${node.url}/scim/v2/Users`, { headers: { [IDENTITY_HEADER]: identity } })
  t.equal(response.status, 200)
})

t.test('a node built around the check still serves nothing past row-level security', async (t) => {
  const app = await buildRegionNode(config(db.url, null), { logger: false })
  t.teardown(() => app.close())
  const identity = await signIdentity(keys.signingKey, { tenantId: 'acme', tokenId: 'tok-test', region: 'EU1', scopes: ['scim'] }, 60)
  const response = await app.inject({ method: 'GET', url: '/scim/v2/Users', headers: { [IDENTITY_HEADER]: identity } })
  t.equal(response.statusCode, 500, 'every connection is checked before its first use')
  t.match(response.json(), { status: '500', detail: /internal error/ })
})
