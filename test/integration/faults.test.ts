// Faults under load through the gateway, each checked against the database:
// nothing acknowledged is lost, nothing half-applied is visible, and only
// clean errors are seen in the gap. Small loads and short timeouts keep it
// to well under a minute. A table of what happened is printed at the end.
import { randomBytes } from 'node:crypto'
import { writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import pg from 'pg'
import t, { type Test } from 'tap'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadRegionCatalog, parseRegionCatalog, type RegionCatalog } from '../../config/region-catalog.ts'
import { startGateway, type RunningGateway } from '../../gateway/server.ts'
import { resolvePeppers } from '../../config/token-peppers.ts'
import { createTokenHasher } from '../../gateway/tokens/token-hasher.ts'
import { createTokenStore } from '../../gateway/tokens/token-store.ts'
import { DependencyUnavailableError } from '../../lib/scim-error.ts'
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../lib/internal-identity.ts'
import { freePort } from '../helpers/free-port.ts'
import { httpRequest, type HttpResponse } from '../helpers/http-request.ts'
import { startPgBouncer } from '../helpers/private-pgbouncer.ts'
import { startSentinelGroup } from '../helpers/private-redis.ts'
import { deleteKeysUnderPrefix } from '../helpers/redis-keys.ts'
import { startScimgateProcess, type ScimgateProcess } from '../helpers/scimgate-process.ts'
import { answerAfter, startStandInUpstream } from '../helpers/stand-in-upstream.ts'
import { createTestDatabase } from '../helpers/test-database.ts'

const EU1 = 'eu1.localhost'
const US1 = 'us1.localhost'
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

interface FaultRow {
  fault: string
  sent: number
  acknowledged: number
  lost: number
  halfApplied: number
  statuses: Map<string, number>
}
const table: FaultRow[] = []
const row = (fault: string): FaultRow => {
  const entry: FaultRow = { fault, sent: 0, acknowledged: 0, lost: 0, halfApplied: 0, statuses: new Map() }
  table.push(entry)
  return entry
}
const seen = (entry: FaultRow, status: string): void => void entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1)

t.teardown(() => {
  const lines = [
    '',
    '| fault | requests sent | acknowledged | lost | half-applied | statuses seen |',
    '|---|---|---|---|---|---|',
    ...table.map((r) => `| ${r.fault} | ${r.sent} | ${r.acknowledged} | ${r.lost} | ${r.halfApplied} | ${[...r.statuses].map(([status, count]) => `${status}×${count}`).join(' ')} |`),
    '',
  ]
  console.log(lines.map((line) => `# ${line}`).join('\n'))
})

/** A request's outcome: its status, or what broke instead of an answer. */
type Outcome = { status: number; response: HttpResponse } | { status: undefined; error: string }

async function send(url: string, host: string, token: string, method: string, path: string, body?: unknown): Promise<Outcome> {
  try {
    const response = await httpRequest(`${url}${path}`, {
      method,
      headers: { host, authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, response }
  } catch (error) {
    return { status: undefined, error: (error as NodeJS.ErrnoException).code ?? 'error' }
  }
}

const label = (outcome: Outcome): string => (outcome.status === undefined ? outcome.error : outcome.status === 503 && outcome.response.headers['retry-after'] === undefined ? '503-without-Retry-After' : String(outcome.status))

interface Stack {
  readonly catalog: RegionCatalog
  readonly keys: IdentityKeyPair
  readonly redisPrefix: string
  token(tenantId: string, region: string): Promise<string>
  gateway(env?: Record<string, string>): Promise<RunningGateway>
}

async function stack(t: Test, upstreams: Record<string, string>): Promise<Stack> {
  const defaults = loadRegionCatalog()
  const catalog = parseRegionCatalog(
    { regions: defaults.regions.filter((r) => upstreams[r.code] !== undefined).map((r) => ({ ...r, hostnames: [...r.hostnames], upstreams: [upstreams[r.code]!] })) },
    'fault catalog',
  )
  const keys = await generateIdentityKeyPair()
  const redisPrefix = `scimgate-test:faults:${randomBytes(6).toString('hex')}:`
  const redis = new Redis('redis://127.0.0.1:6379')
  t.teardown(async () => {
    await deleteKeysUnderPrefix(redis, redisPrefix)
    redis.disconnect()
  })
  const peppers = resolvePeppers({ SCIMGATE_DEV_SECRETS: '1' })
  const store = createTokenStore(redis, { keyPrefix: redisPrefix, hasher: createTokenHasher(peppers.peppers, peppers.current) })
  return {
    catalog,
    keys,
    redisPrefix,
    token: async (tenantId, region) => (await store.create({ tenantId, region })).token,
    async gateway(env = {}) {
      const config = loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1', HOST: '127.0.0.1', PORT: '0', REDIS_URL: 'redis://127.0.0.1:6379', SCIMGATE_REDIS_PREFIX: redisPrefix, LOG_LEVEL: 'silent', ...env }, catalog)
      const gateway = await startGateway(config, { signingKey: keys.signingKey, logger: false })
      t.teardown(() => gateway.close())
      return gateway
    },
  }
}

/** A token for the test's setup, retried while the store answers 503 (the setup is not the fault under test). */
async function createTokenPatiently(gateway: RunningGateway, tenantId: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await gateway.tokenStore.create({ tenantId, region: 'EU1' })).token
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError) || attempt === 5) throw error
      await sleep(200)
    }
  }
}

async function nodeProcess(t: Test, region: string, port: number, databaseUrl: string, keys: IdentityKeyPair, env: Record<string, string> = {}): Promise<ScimgateProcess> {
  return startScimgateProcess(t, ['node', '--region', region], { HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: databaseUrl, IDENTITY_JWKS: JSON.stringify({ keys: [keys.publicJwk] }), ...env })
}

async function usersNamed(databaseUrl: string, names: readonly string[]): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ user_name: string }>('SELECT user_name FROM users WHERE user_name = ANY($1)', [names])
    return new Set(rows.map((r) => r.user_name))
  } finally {
    await client.end()
  }
}

/** Creates users through the gateway until `stop()`; records every outcome; checks the database afterwards. */
function createStream(entry: FaultRow, url: string, host: string, token: string, prefix: string, concurrency = 3) {
  const acknowledged: string[] = []
  const unanswered: string[] = []
  let running = true
  let next = 0
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) {
      const userName = `${prefix}-${next++}@example.com`
      entry.sent++
      const outcome = await send(url, host, token, 'POST', '/scim/v2/Users', { schemas: [USER], userName })
      seen(entry, label(outcome))
      if (outcome.status === 201) acknowledged.push(userName)
      else unanswered.push(userName)
      await sleep(outcome.status === 201 ? 5 : 50)
    }
  })
  return {
    async stop() {
      running = false
      await Promise.all(workers)
    },
    /** Acknowledged creates must all be there; an unacknowledged create is one row, so it is whole or absent. */
    async verify(databaseUrl: string) {
      const present = await usersNamed(databaseUrl, acknowledged)
      entry.acknowledged += acknowledged.length
      entry.lost += acknowledged.filter((name) => !present.has(name)).length
      return { acknowledged, unanswered }
    },
  }
}

t.test('kill -9 of a node during creates and member PATCHes', async (t) => {
  const db = await createTestDatabase('faultkill')
  t.teardown(db.drop)
  const port = await freePort()
  const s = await stack(t, { EU1: `http://127.0.0.1:${port}` })
  let node = await nodeProcess(t, 'EU1', port, db.url, s.keys)
  const gateway = await s.gateway()
  const token = await s.token('acme', 'EU1')
  const entry = row('kill -9 of a node (creates + member PATCHes)')
  const group = await send(gateway.url, EU1, token, 'POST', '/scim/v2/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'crew' })
  t.equal(group.status, 201)
  const groupId = (group as { response: HttpResponse }).response.json().id as string

  const creates = createStream(entry, gateway.url, EU1, token, 'kill')
  // Member PATCHes, each adding two users created for it: applied whole (both) or not at all.
  const patches: { ids: string[]; acknowledged: boolean }[] = []
  let patching = true
  const patcher = (async () => {
    while (patching) {
      const pair: string[] = []
      for (const n of [0, 1]) {
        const made = await send(gateway.url, EU1, token, 'POST', '/scim/v2/Users', { schemas: [USER], userName: `member-${randomBytes(4).toString('hex')}-${n}@example.com` })
        if (made.status === 201) pair.push(made.response.json().id as string)
      }
      if (pair.length < 2) {
        await sleep(50)
        continue
      }
      entry.sent++
      const outcome = await send(gateway.url, EU1, token, 'PATCH', `/scim/v2/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: pair.map((value) => ({ value })) }] })
      seen(entry, label(outcome))
      patches.push({ ids: pair, acknowledged: outcome.status === 204 || outcome.status === 200 })
    }
  })()

  await sleep(400)
  node.signal('SIGKILL')
  await node.exited
  const down = await send(gateway.url, EU1, token, 'GET', '/scim/v2/Users?count=1')
  t.equal(down.status, 503, 'its region answers 503 at once')
  await sleep(300)
  node = await nodeProcess(t, 'EU1', port, db.url, s.keys)
  await sleep(400)
  await creates.stop()
  patching = false
  await patcher

  await creates.verify(db.directUrl)
  const client = new pg.Client({ connectionString: db.directUrl })
  await client.connect()
  t.teardown(() => client.end())
  for (const patch of patches) {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM group_members WHERE group_id = $1 AND member_id = ANY($2)', [groupId, patch.ids])
    const present = rows[0]?.n ?? 0
    if (patch.acknowledged) entry.acknowledged++
    if (patch.acknowledged && present !== 2) entry.lost++
    if (present === 1) entry.halfApplied++
  }
  t.ok(entry.acknowledged > 10, `${entry.acknowledged} writes acknowledged`)
  t.equal(entry.lost, 0, 'every acknowledged write is in the database')
  t.equal(entry.halfApplied, 0, 'no member PATCH is half-applied')
  t.same([...entry.statuses.keys()].filter((status) => !['201', '204', '503', '502'].includes(status)), [], `only clean outcomes (${[...entry.statuses.keys()].join(', ')})`)
})

t.test('gateway SIGTERM under load: in-flight requests complete, new ones are refused cleanly', async (t) => {
  const db = await createTestDatabase('faultterm')
  t.teardown(db.drop)
  const port = await freePort()
  const s = await stack(t, { EU1: `http://127.0.0.1:${port}` })
  await nodeProcess(t, 'EU1', port, db.url, s.keys)
  const dir = await mkdtemp(join(tmpdir(), 'scimgate-faults-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const regionsFile = join(dir, 'regions.json')
  await writeFile(regionsFile, JSON.stringify({ regions: s.catalog.regions }))
  const gateway = await startScimgateProcess(t, ['gateway'], {
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    REDIS_URL: 'redis://127.0.0.1:6379',
    SCIMGATE_REDIS_PREFIX: s.redisPrefix,
    SCIMGATE_REGIONS_FILE: regionsFile,
    IDENTITY_SIGNING_KEY: JSON.stringify(s.keys.privateJwk),
  })
  const token = await s.token('acme', 'EU1')
  const entry = row('gateway SIGTERM under load')
  const creates = createStream(entry, gateway.url, EU1, token, 'term', 6)
  await sleep(500)
  gateway.signal('SIGTERM')
  const [code] = await gateway.exited
  await creates.stop()
  t.equal(code, 0, 'the gateway exits cleanly')
  await creates.verify(db.directUrl)
  t.ok(entry.acknowledged > 5, `${entry.acknowledged} creates acknowledged`)
  t.equal(entry.lost, 0, 'every acknowledged create is in the database')
  // A connection the gateway accepted just before closing, whose request it had not read yet, is closed
  // with it (ECONNRESET, nothing applied); requests it had read complete.
  t.same([...entry.statuses.keys()].filter((status) => !['201', '503', 'ECONNREFUSED', 'ECONNRESET'].includes(status)), [], `refused cleanly: SCIM 503 with Retry-After, or the connection refused (${[...entry.statuses.keys()].join(', ')})`)
})

t.test('PgBouncer and PostgreSQL connections dropped under load: 503 with Retry-After in the gap, then full service', async (t) => {
  const db = await createTestDatabase('faultpgb')
  t.teardown(db.drop)
  const bouncer = await startPgBouncer({ host: '127.0.0.1', port: 5432 })
  t.teardown(() => bouncer.stop())
  const port = await freePort()
  const s = await stack(t, { EU1: `http://127.0.0.1:${port}` })
  // Debian's PgBouncer 1.18 cannot keep named prepared statements (README, DATABASE_PREPARED_STATEMENTS).
  const node = await nodeProcess(t, 'EU1', port, bouncer.via(db.directUrl), s.keys, { DATABASE_PREPARED_STATEMENTS: 'off' })
  // A node that died in the gap leaves nothing but the gateway's 503s: say so rather than time out on them.
  let nodeExit: string | undefined
  void node.exited.then(([code, signal]) => (nodeExit = String(signal ?? code)))
  const gateway = await s.gateway()
  const token = await s.token('acme', 'EU1')
  const entry = row('PgBouncer killed and restarted')
  const creates = createStream(entry, gateway.url, EU1, token, 'pgb')
  await sleep(300)
  await bouncer.kill()
  await sleep(700)
  await bouncer.restart()
  // Full service: five creates in a row acknowledged. The bound is generous: on a CI machine running two
  // suites at once, PgBouncer's restart and the pool's reconnection took longer than 10 s once.
  let streak = 0
  const deadline = Date.now() + 30_000
  while (streak < 5 && Date.now() < deadline) {
    const outcome = await send(gateway.url, EU1, token, 'POST', '/scim/v2/Users', { schemas: [USER], userName: `pgb-after-${streak}-${randomBytes(3).toString('hex')}@example.com` })
    streak = outcome.status === 201 ? streak + 1 : 0
    if (streak === 0) await sleep(100)
  }
  await creates.stop()
  await creates.verify(db.directUrl)
  t.equal(nodeExit, undefined, 'the node process lives through it')
  t.equal(streak, 5, 'full service once PgBouncer is back')
  t.equal(entry.lost, 0, 'every acknowledged create is in the database')
  t.same([...entry.statuses.keys()].filter((status) => !['201', '503'].includes(status)), [], `only 201 and 503 with Retry-After (${[...entry.statuses.keys()].join(', ')})`)
})

t.test('Redis primary killed (Sentinel) under load: cached tokens pass, unseen ones get 503 with Retry-After in the gap, then full service', async (t) => {
  const db = await createTestDatabase('faultredis')
  t.teardown(db.drop)
  const group = await startSentinelGroup(t)
  const port = await freePort()
  const s = await stack(t, { EU1: `http://127.0.0.1:${port}` })
  await nodeProcess(t, 'EU1', port, db.url, s.keys)
  const gateway = await s.gateway({ REDIS_URL: '', ...group.env })
  const cached = (await gateway.tokenStore.create({ tenantId: 'acme', region: 'EU1' })).token
  t.equal((await send(gateway.url, EU1, cached, 'GET', '/scim/v2/Users?count=1')).status, 200, 'cached')
  // Setup, not the fault: 80 creates (each waiting for the replica) may meet a command timeout on a loaded CI machine.
  const unseen: string[] = []
  for (let i = 0; i < 80; i++) unseen.push(await createTokenPatiently(gateway, `unseen-${i}`))
  const entry = row('Redis primary killed (Sentinel)')
  const cachedCreates = createStream(entry, gateway.url, EU1, cached, 'redis', 2)
  let running = true
  const unseenStatuses: string[] = []
  const probing = (async () => {
    while (running && unseen.length > 0) {
      const outcome = await send(gateway.url, EU1, unseen.shift()!, 'GET', '/scim/v2/Users?count=1')
      entry.sent++
      seen(entry, label(outcome))
      unseenStatuses.push(label(outcome))
      await sleep(50)
    }
  })()
  await sleep(300)
  await group.killPrimary()
  const deadline = Date.now() + 10_000
  while (!(unseenStatuses.length >= 3 && unseenStatuses.slice(-3).every((status) => status === '200')) && Date.now() < deadline) await sleep(50)
  running = false
  await probing
  await cachedCreates.stop()
  await cachedCreates.verify(db.directUrl)
  t.same(unseenStatuses.slice(-3), ['200', '200', '200'], 'full service once the sentinels promoted the replica')
  t.equal(entry.lost, 0, 'every acknowledged create is in the database')
  t.same([...entry.statuses.keys()].filter((status) => !['200', '201', '503'].includes(status)), [], `only 200/201 and 503 with Retry-After, never 401 (${[...entry.statuses.keys()].join(', ')})`)
})

t.test('a slow node: 504 SCIM error within the configured timeout, other regions unaffected', async (t) => {
  const db = await createTestDatabase('faultslow')
  t.teardown(db.drop)
  const slow = await startStandInUpstream(t, { respond: answerAfter(3_000) })
  const port = await freePort()
  const s = await stack(t, { EU1: `http://127.0.0.1:${port}`, US1: slow.url })
  await nodeProcess(t, 'EU1', port, db.url, s.keys)
  const gateway = await s.gateway({ UPSTREAM_HEADERS_TIMEOUT_MS: '500' })
  const [eu1, us1] = await Promise.all([s.token('acme', 'EU1'), s.token('acme', 'US1')])
  const entry = row('slow node (US1), headers timeout 500 ms')
  const started = Date.now()
  let waiting = true
  const slowCalls = Promise.all(Array.from({ length: 4 }, () => send(gateway.url, US1, us1, 'GET', '/scim/v2/Users'))).finally(() => (waiting = false))
  const fastCalls: Outcome[] = []
  while (waiting) fastCalls.push(await send(gateway.url, EU1, eu1, 'GET', '/scim/v2/Users?count=1'))
  const slowOutcomes = await slowCalls
  const elapsed = Date.now() - started
  for (const outcome of [...slowOutcomes, ...fastCalls]) {
    entry.sent++
    seen(entry, label(outcome))
  }
  entry.acknowledged = fastCalls.filter((o) => o.status === 200).length
  t.same(slowOutcomes.map((o) => o.status), [504, 504, 504, 504], 'the slow region answers 504')
  t.match((slowOutcomes[0] as { response: HttpResponse }).response.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '504' }, 'as a SCIM error')
  t.ok(elapsed < 2_000, `within the configured timeout (${elapsed} ms for all)`)
  t.ok(fastCalls.length >= 2 && fastCalls.every((o) => o.status === 200), `the other region kept answering meanwhile (${fastCalls.length} × 200)`)
})
