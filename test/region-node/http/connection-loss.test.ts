// Connections to the database lost at random points mid-answer (during the login, the per-connection
// role check, or a pipeline of statements) while reads, lists, creates, group PATCHes and /Bulk are in
// flight: every request is answered, each with its success or a SCIM 503 with Retry-After (never a 500,
// never a hang), and afterwards no pool connection or tenant slot is left held and the node serves in full.
// `npm test` runs this once more through PgBouncer (test/run.js): there the proxy sits between the node and it.
import { randomBytes } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import pg from 'pg'
import t from 'tap'
import { startTestNode, type TestNode } from '../../helpers/region-node.ts'
import { createTestDatabase } from '../../helpers/test-database.ts'
import { startTcpProxy } from '../../helpers/tcp-proxy.ts'

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'
const PER_TENANT = 3
const TENANTS = ['acme', 'globex']
// Far above any answer here: a request still unanswered by then hangs.
const HANG_MS = 20_000
// Connections dropped while requests run before the load stops.
const DROPS = 60

/** A seeded generator: the same points of loss on every run. */
function lcg(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
}

type Call = readonly [method: string, path: string, body?: unknown]

/** The outcome of a request: `ok`, `503`, or what was wrong with it. */
function verdict(call: Call, response: LightMyRequestResponse | 'hung'): string {
  if (response === 'hung') return `hung: ${call[0]} ${call[1]}`
  const { statusCode } = response
  if (statusCode === 503) {
    const body = response.json() as { schemas?: string[]; status?: string }
    if (response.headers['retry-after'] === undefined) return `503 without Retry-After: ${call[0]} ${call[1]}`
    if (body.schemas?.[0] !== ERROR || body.status !== '503') return `503 not a SCIM error: ${response.body.slice(0, 200)}`
    return '503'
  }
  if (statusCode < 200 || statusCode >= 300) return `${statusCode}: ${call[0]} ${call[1]}: ${response.body.slice(0, 200)}`
  if (call[1] === 'Bulk') {
    // Each operation on its own: created, or refused with a 503 (a lost connection is no reason to stop the others).
    const statuses = (response.json() as { Operations: { status: string }[] }).Operations.map((o) => o.status)
    const odd = statuses.filter((status) => status !== '201' && status !== '503')
    if (odd.length > 0) return `Bulk operations answered ${odd.join(', ')}: ${response.body.slice(0, 300)}`
  }
  return 'ok'
}

async function answer(node: TestNode, tenant: string, call: Call): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), HANG_MS)))
  try {
    return verdict(call, await Promise.race([node.scim(tenant, call[0], call[1], call[2]), hung]))
  } finally {
    clearTimeout(timer)
  }
}

/** Waits (bounded) until no request holds a pool connection or a tenant slot; returns what is still held. */
async function settled(node: TestNode): Promise<{ connections: number; slots: number; waiting: number }> {
  const { database } = node.app
  const held = () => ({ connections: database.pool.totalCount - database.pool.idleCount, slots: database.slotsInUse(), waiting: database.pool.waitingCount })
  for (let attempt = 0; attempt < 100; attempt++) {
    const now = held()
    if (now.connections === 0 && now.slots === 0 && now.waiting === 0) return now
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return held()
}

t.test('connections lost mid-answer under mixed load: 503 with Retry-After or success, nothing held afterwards, full service', async (t) => {
  const db = await createTestDatabase('connloss')
  t.teardown(db.drop)
  const proxy = await startTcpProxy(new URL(db.url).hostname, Number(new URL(db.url).port))
  t.teardown(() => proxy.close())
  const viaProxy = new URL(db.url)
  viaProxy.port = String(proxy.port)
  const node = await startTestNode(t, {
    databaseUrl: viaProxy.toString(),
    database: { poolSize: PER_TENANT * TENANTS.length, connectionsPerTenant: PER_TENANT, tenantQueueTimeoutMs: 2_000, connectionTimeoutMs: 2_000 },
    // The feed's LISTEN session stays out of it: this is about the request path.
    events: { listenUrl: db.directUrl },
  })

  const seeded = new Map<string, { users: string[]; group: string }>()
  for (const tenant of TENANTS) {
    const users: string[] = []
    for (let i = 0; i < 4; i++) {
      const created = await node.scim(tenant, 'POST', 'Users', { schemas: [USER], userName: `seed-${i}@example.com` })
      t.equal(created.statusCode, 201, `${tenant}: user ${i} seeded`)
      users.push(created.json().id as string)
    }
    const group = await node.scim(tenant, 'POST', 'Groups', { schemas: [GROUP], displayName: 'crew' })
    t.equal(group.statusCode, 201, `${tenant}: group seeded`)
    seeded.set(tenant, { users, group: group.json().id as string })
  }
  const random = lcg(20_261_130)
  let serial = 0
  const calls = (tenant: string): Call[] => {
    const { users, group } = seeded.get(tenant)!
    const member = users[serial % users.length]!
    const name = () => `load-${serial++}-${randomBytes(3).toString('hex')}@example.com`
    return [
      ['GET', `Users/${member}`],
      ['GET', 'Users?filter=userName sw "seed"&count=3'],
      ['POST', 'Users', { schemas: [USER], userName: name() }],
      ['PATCH', `Groups/${group}`, { schemas: [PATCH], Operations: [{ op: serial % 2 === 0 ? 'add' : 'remove', path: 'members', value: [{ value: member }] }] }],
      ['POST', 'Bulk', { schemas: [BULK], Operations: [0, 1, 2].map((i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName: name() } })) }],
    ]
  }

  // Each connection, open or new, is dropped somewhere in its next 0–3,000 bytes of answers: its login and
  // role check take the first few hundred, so many are lost there, the others mid-request.
  proxy.dropMidAnswer(() => Math.floor(random() * 3_000))
  const outcomes = new Map<string, number>()
  let loading = true
  const workers = TENANTS.flatMap((tenant) =>
    Array.from({ length: PER_TENANT + 1 }, async (_, worker) => {
      for (let round = worker; loading; round++) {
        const batch = calls(tenant)
        const call = batch[round % batch.length]!
        const outcome = await answer(node, tenant, call)
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
      }
    }),
  )
  for (let waited = 0; proxy.dropped < DROPS && waited < 15_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50))
  loading = false
  await Promise.all(workers)
  proxy.dropMidAnswer(undefined)
  t.comment(`connections dropped: ${proxy.dropped}; outcomes: ${[...outcomes].map(([outcome, count]) => `${outcome} ×${count}`).join(', ')}`)
  t.ok(proxy.dropped >= DROPS, `${proxy.dropped} connections dropped under load`)
  t.ok((outcomes.get('503') ?? 0) > 0 && (outcomes.get('ok') ?? 0) > 0, 'requests were cut and others succeeded meanwhile')
  t.same([...outcomes.keys()].filter((outcome) => outcome !== 'ok' && outcome !== '503'), [], 'every request answered: success, or SCIM 503 with Retry-After')

  t.same(await settled(node), { connections: 0, slots: 0, waiting: 0 }, 'no pool connection or tenant slot left held')
  // Full service: connections found dead are replaced, so the first answers after may still be 503.
  for (let attempt = 0; attempt < 20 && (await answer(node, 'acme', ['GET', 'Users?count=1'])) !== 'ok'; attempt++) await new Promise((resolve) => setTimeout(resolve, 100))
  for (const tenant of TENANTS) {
    const burst = await Promise.all(Array.from({ length: PER_TENANT * 2 }, (_, i) => answer(node, tenant, calls(tenant)[i % 5]!)))
    t.same(burst, Array<string>(PER_TENANT * 2).fill('ok'), `${tenant}: twice its connection share at once, all served`)
  }
  t.same(await settled(node), { connections: 0, slots: 0, waiting: 0 }, 'and given back again')
})

t.test('a /Bulk batch of creates whose COMMIT answer is lost: each operation 503, not run again one by one into 409s', async (t) => {
  const db = await createTestDatabase('lostcommit')
  t.teardown(db.drop)
  // Straight to PostgreSQL also in the run through PgBouncer: PgBouncer drops a COMMIT whose client is gone,
  // PostgreSQL runs what it has read.
  const proxy = await startTcpProxy(new URL(db.directUrl).hostname, Number(new URL(db.directUrl).port))
  t.teardown(() => proxy.close())
  const viaProxy = new URL(db.directUrl)
  viaProxy.port = String(proxy.port)
  const node = await startTestNode(t, { databaseUrl: viaProxy.toString(), events: { listenUrl: db.directUrl } })
  const names = ['lost-0@example.com', 'lost-1@example.com', 'lost-2@example.com']
  // The batch's insert commits, but the node never learns: its connection is gone right after the COMMIT went out.
  // (Its multi-row insert is the statement reading jsonb_to_recordset: region-node/storage/user-batches.ts.)
  proxy.loseAnswerTo('COMMIT', 'jsonb_to_recordset')
  const response = await node.scim('acme', 'POST', 'Bulk', { schemas: [BULK], Operations: names.map((userName, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName } })) })
  t.equal(response.statusCode, 200, response.body.slice(0, 300))
  const operations = (response.json() as { Operations: { status: string; response?: Record<string, unknown> }[] }).Operations
  t.same(
    operations.map((o) => o.status),
    ['503', '503', '503'],
    `unknown outcome: each operation 503 (${operations.map((o) => `${o.status} ${String(o.response?.detail ?? '')}`).join('; ')})`,
  )
  const client = new pg.Client({ connectionString: db.directUrl })
  await client.connect()
  t.teardown(() => client.end())
  // The lost connection's session runs its COMMIT on its own time (a WAL flush on a busy disk): wait until it is done.
  const busy = "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
  for (let attempt = 0; attempt < 100 && (await client.query<{ n: number }>(busy)).rows[0]!.n > 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 50))
  const { rows } = await client.query<{ user_name: string }>('SELECT user_name FROM users WHERE user_name = ANY($1) ORDER BY user_name', [names])
  t.same(rows.map((r) => r.user_name), names, 'the batch was committed all the same: a retry by the client finds them (409)')
})
