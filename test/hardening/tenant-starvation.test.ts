// Issue 9.3: requests were counted, not weighed — one tenant's slow list
// queries could fill a node's database pool for 30 s. Now each tenant holds at
// most its share of the pool, list queries run under a shorter statement
// timeout, and a tenant over its share gets a SCIM 503 with Retry-After.
import t from 'tap'
import pg from 'pg'
import { startTestNode } from '../helpers/region-node.ts'
import { scimCalls } from '../helpers/scim-calls.ts'

const HEAVY = 'tenant-a-heavy'
const LIGHT = 'tenant-b-light'
const USERS_OF_A = 150_000

// Pool and timeouts as in production, scaled down so the test stays short.
const node = await startTestNode(t, {
  database: { poolSize: 10, connectionTimeoutMs: 2_000, statementTimeoutMs: 30_000, listStatementTimeoutMs: 1_500, tenantQueueTimeoutMs: 1_000 },
})
const scim = scimCalls((tenant, method, path, body) => node.scim(tenant, method, path, body))

const seed = new pg.Client({ connectionString: node.config.database.url })
await seed.connect()
await seed.query(
  `INSERT INTO users (tenant_id, id, user_name, display_name, attributes)
   SELECT $1, gen_random_uuid(), 'u' || i || '@a.example', 'User ' || i,
          jsonb_build_object('userName', 'u' || i || '@a.example', 'title', 'Title ' || i, 'emails', jsonb_build_array(jsonb_build_object('value', 'u' || i || '@a.example', 'type', 'work')))
   FROM generate_series(1, $2::int) AS i`,
  [HEAVY, USERS_OF_A],
)
await seed.query('ANALYZE users')
await seed.end()
const lightUser = await scim.create(LIGHT, 'Users', { userName: 'b@b.example' })

// Unindexed `co` on a JSON attribute and a sort on a multi-valued attribute: a scan of the whole tenant per query.
const slowList = `Users?filter=${encodeURIComponent('title co "zz" or emails.value co "zz"')}&sortBy=emails.value&count=10`

t.test('tenant A runs 50 concurrent slow list queries; tenant B keeps being served', async (t) => {
  const heavy = Promise.all(Array.from({ length: 50 }, () => node.scim(HEAVY, 'GET', slowList)))
  await new Promise((resolve) => setTimeout(resolve, 200)) // A fills its share first
  const latencies: number[] = []
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) {
    const started = process.hrtime.bigint()
    const response = await node.scim(LIGHT, 'GET', i % 2 === 0 ? `Users/${lightUser}` : `Users?filter=${encodeURIComponent('userName eq "b@b.example"')}`)
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
    statuses.push(response.statusCode)
  }
  const heavyAnswers = await heavy
  latencies.sort((a, b) => a - b)
  t.comment(`tenant B: p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(1)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms over ${latencies.length} reads while A ran 50 slow lists`)
  t.same(statuses, Array(20).fill(200), 'every read of tenant B succeeds')

  const heavyStatuses = heavyAnswers.map((r) => r.statusCode)
  t.comment(`tenant A: ${heavyStatuses.filter((s) => s === 200).length} answered, ${heavyStatuses.filter((s) => s === 503).length} got 503`)
  t.ok(heavyStatuses.every((s) => s === 200 || s === 503), `tenant A gets answers or 503s, never anything else: ${[...new Set(heavyStatuses)].join(', ')}`)
  t.ok(heavyStatuses.includes(503), 'tenant A over its share is told to retry')
  for (const refused of heavyAnswers.filter((r) => r.statusCode === 503)) {
    t.match(refused.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' })
    t.match(refused.headers['retry-after'], /^\d+$/, 'with Retry-After in seconds')
  }
})

t.test('a list query longer than the list statement timeout is a SCIM 503 with Retry-After, not a 30 s wait', async (t) => {
  // A second node on the same database whose list timeout no scan of tenant A can meet.
  const strict = await startTestNode(t, { databaseUrl: node.config.database.url, database: { listStatementTimeoutMs: 5 } })
  const response = await strict.scim(HEAVY, 'GET', slowList)
  t.equal(response.statusCode, 503, response.body)
  t.match(response.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' })
  t.match(response.headers['retry-after'], /^\d+$/)
  const read = await strict.scim(LIGHT, 'GET', `Users/${lightUser}`)
  t.equal(read.statusCode, 200, 'reads by id are not lists: the default statement timeout applies')
})
