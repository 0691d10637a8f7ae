// The node against its floor (bench/floor/): the same database, role,
// row-level security, SQL and response bytes, with named statements and one
// round trip per request. Each row is node / floor throughput in interleaved
// rounds (medians), CPU per request beside it; every row first checks that the
// floor answers byte for byte what the node answers, and fails otherwise.
import { randomBytes } from 'node:crypto'
import type { AutocannonRequest } from 'autocannon'
import { BULK_REQUEST_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../../region-node/scim/schema/index.ts'
import { bodyDifference, normalizeIdentities } from '../lib/body-compare.ts'
import { Cleanup } from '../lib/cleanup.ts'
import { startCpu, type CpuPerRequest, type CpuScope } from '../lib/cpu.ts'
import { BenchClient } from '../lib/http-client.ts'
import { measureLoad, medianCpu, type LoadResult, type LoadTarget } from '../lib/load.ts'
import type { Progress } from '../lib/progress.ts'
import { atLeast, info, round, withCpu, type BenchResult } from '../lib/result.ts'
import { seedUsers, userIds, userName } from '../lib/seed.ts'
import { createBenchDatabase, createBenchKeys, startFloorProcess, startNodeProcess, type BenchDatabase } from '../lib/services.ts'
import type { BenchSizes } from '../lib/sizes.ts'
import { median, roundOrder } from '../lib/stats.ts'

const TENANT = 'bench-floor'
/** Both servers build locations from this host, so their bodies can be compared. */
const FORWARDED = { 'x-forwarded-host': 'floor.bench.example', 'x-forwarded-proto': 'https' }
const SIDES = ['node', 'floor'] as const
type Side = (typeof SIDES)[number]

interface Servers {
  readonly url: Record<Side, string>
  readonly cpu: Record<Side, CpuScope>
  readonly headers: Record<string, string>
  readonly db: BenchDatabase
}

const q = (text: string): string => encodeURIComponent(text)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function loadUser(tag: string): Record<string, unknown> {
  return { schemas: [USER_SCHEMA], userName: `${tag}@example.com`, externalId: `ext-${tag}`, displayName: `Load ${tag}`, name: { givenName: 'Load', familyName: tag }, emails: [{ value: `${tag}@example.com`, type: 'work', primary: true }] }
}

async function vacuum(db: BenchDatabase): Promise<void> {
  for (const table of ['users', 'groups', 'group_members', 'events']) await db.admin.query(`VACUUM ANALYZE ${table}`)
}

/** Groups readers see (each rotated user is in two) and the groups the PATCH rows add members to. */
async function seedGroups(db: BenchDatabase, readUsers: readonly string[], patchGroups: number): Promise<string[]> {
  await db.admin.query(
    `INSERT INTO groups (tenant_id, id, display_name, external_id, attributes)
     SELECT $1, gen_random_uuid(), 'reader group ' || g, 'reader-' || g, jsonb_build_object('displayName', 'reader group ' || g, 'externalId', 'reader-' || g)
     FROM generate_series(1, 2) AS g`,
    [TENANT],
  )
  await db.admin.query(
    `INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
     SELECT $1, g.id, u, 'User' FROM groups g, unnest($2::uuid[]) AS u WHERE g.tenant_id = $1 AND g.display_name LIKE 'reader group %'`,
    [TENANT, readUsers],
  )
  const { rows } = await db.admin.query<{ id: string }>(
    `INSERT INTO groups (tenant_id, id, display_name, attributes)
     SELECT $1, gen_random_uuid(), 'patch target ' || g, jsonb_build_object('displayName', 'patch target ' || g)
     FROM generate_series(1, $2::int) AS g RETURNING id`,
    [TENANT, patchGroups],
  )
  return rows.map((r) => r.id)
}

/** Node and floor in turn, `rounds` times; medians of throughput and CPU per request. */
async function interleaved(
  sizes: BenchSizes,
  progress: Progress,
  label: string,
  targets: Record<Side, LoadTarget>,
  setting: { connections: number; pipelining: number },
  between?: (side: Side, run: () => Promise<LoadResult>) => Promise<LoadResult>,
): Promise<Record<Side, { rps: number; cpu: CpuPerRequest | undefined; runs: LoadResult[] }>> {
  const runs: Record<Side, LoadResult[]> = { node: [], floor: [] }
  for (let r = 1; r <= sizes.load.rounds; r++) {
    for (const side of roundOrder(SIDES, r)) {
      progress.step(`floor: ${label} → ${side} (round ${r}/${sizes.load.rounds}, ${sizes.floor.durationS}s)`)
      const run = (): Promise<LoadResult> => measureLoad(targets[side], { ...setting, durationS: sizes.floor.durationS, warmupS: sizes.floor.warmupS })
      runs[side].push(await (between === undefined ? run() : between(side, run)))
    }
  }
  const summary = (side: Side) => ({ rps: median(runs[side].map((x) => x.requestsPerSecond)), cpu: medianCpu(runs[side]), runs: runs[side] })
  return { node: summary('node'), floor: summary('floor') }
}

function row(name: string, target: number, measured: Awaited<ReturnType<typeof interleaved>>, mismatch: string | undefined, unit = 'req/s'): BenchResult {
  const result = atLeast(name, measured.node.rps, measured.floor.rps, target, unit, 'floor', {
    nodeRps: Math.round(measured.node.rps),
    floorRps: Math.round(measured.floor.rps),
    nodeLatencyP99Ms: median(measured.node.runs.map((r) => r.latencyP99)),
    floorLatencyP99Ms: median(measured.floor.runs.map((r) => r.latencyP99)),
    ...(mismatch === undefined ? { responses: 'byte-identical' } : { responses: mismatch }),
  })
  return withCpu(mismatch === undefined ? result : { ...result, met: false, target: `${result.target} (responses differ)` }, measured.node.cpu, measured.floor.cpu)
}

/** The same request to both; the difference between the bodies (after `normalize`), if any. */
async function compareResponses(servers: Servers, request: (side: Side) => { method?: string; path: string; body?: unknown }, status: number, between?: (side: Side, body: string) => Promise<void>, normalize = (text: string) => text): Promise<string | undefined> {
  const bodies: string[] = []
  for (const side of SIDES) {
    const client = new BenchClient(servers.url[side])
    try {
      const response = await client.expect({ ...request(side), headers: servers.headers }, status)
      bodies.push(normalize(response.body))
      await between?.(side, response.body)
    } finally {
      client.close()
    }
  }
  return bodyDifference(bodies[0]!, bodies[1]!)
}

/** Every user the load created has its `user.created` event (node and floor write the log alike). */
async function eventLogGap(db: BenchDatabase): Promise<string | undefined> {
  const { rows } = await db.admin.query<{ users: number; logged: number }>(
    `SELECT count(*)::int AS users, count(e.resource_id)::int AS logged FROM users u
     LEFT JOIN events e ON e.tenant_id = u.tenant_id AND e.resource_id = u.id::text AND e.type = 'user.created'
     WHERE u.tenant_id = $1 AND u.user_name LIKE 'load-%'`,
    [TENANT],
  )
  const { users, logged } = rows[0]!
  return users === logged ? undefined : `event log: ${logged} user.created events for ${users} users created under load`
}

interface TableStats {
  updates: number
  hotUpdates: number
  deadTuples: number
}

async function groupsTableStats(db: BenchDatabase): Promise<TableStats> {
  const { rows } = await db.admin.query<{ upd: string; hot: string; dead: string }>("SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot, n_dead_tup AS dead FROM pg_stat_user_tables WHERE relname = 'groups'")
  return { updates: Number(rows[0]!.upd), hotUpdates: Number(rows[0]!.hot), deadTuples: Number(rows[0]!.dead) }
}

/** /Bulk requests of `operations` user POSTs, `inFlight` at a time, for about `durationS`: operations per second and CPU per operation. */
async function bulkLoad(url: string, headers: Record<string, string>, inFlight: number, durationS: number, operations: number, nextTag: () => string, cpuScope: CpuScope): Promise<{ opsPerSecond: number; cpu: CpuPerRequest; requests: number }> {
  const client = new BenchClient(url, inFlight)
  try {
    const body = (): unknown => ({
      schemas: [BULK_REQUEST_SCHEMA],
      Operations: Array.from({ length: operations }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: loadUser(nextTag()) })),
    })
    const send = async (): Promise<void> => {
      const response = await client.expect({ method: 'POST', path: '/scim/v2/Bulk', headers, body: body() }, 200)
      const results = (JSON.parse(response.body) as { Operations: { status: string }[] }).Operations
      const failed = results.filter((r) => r.status !== '201')
      if (results.length !== operations || failed.length > 0) throw new Error(`/Bulk answered ${results.length} results, ${failed.length} not 201: ${JSON.stringify(failed[0]).slice(0, 300)}`)
    }
    await send() // warm-up
    const cpu = await startCpu(cpuScope)
    const started = process.hrtime.bigint()
    const deadline = Date.now() + durationS * 1000
    let requests = 0
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        do {
          await send()
          requests++
        } while (Date.now() < deadline)
      }),
    )
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    return { opsPerSecond: (requests * operations) / seconds, cpu: await cpu.stop(requests * operations), requests }
  } finally {
    client.close()
  }
}

export async function runFloorSuite(sizes: BenchSizes, progress: Progress): Promise<BenchResult[]> {
  const cleanup = new Cleanup()
  const f = sizes.floor
  const run = randomBytes(3).toString('hex')
  let tags = 0
  const nextTag = (): string => `load-${run}-${tags++}`
  try {
    progress.step(`floor: creating the database, ${f.users.toLocaleString('en-US')} users`)
    const keys = await createBenchKeys()
    const db = await createBenchDatabase(cleanup, 'floor')
    await seedUsers(db.admin, TENANT, f.users, progress)
    const readUsers = await userIds(db.admin, TENANT, 1, f.readUsers)
    const memberPool = await userIds(db.admin, TENANT, f.readUsers + 1, f.users)
    const patchGroups = await seedGroups(db, readUsers, f.patchGroups)
    await vacuum(db)
    const node = await startNodeProcess(cleanup, 'node-floor-suite', db, keys)
    const floor = await startFloorProcess(cleanup, db, keys)
    const headers = { ...(await keys.identityHeaders(TENANT)), ...FORWARDED }
    const servers: Servers = {
      url: { node: node.url, floor: floor.url },
      cpu: { node: { pids: () => [node.child.pid], database: db.admin }, floor: { pids: () => [floor.child.pid], database: db.admin } },
      headers,
      db,
    }
    const idleProbe = (side: Side) => ({ url: `${servers.url[side]}/scim/v2/Users/${readUsers[0]}`, headers })
    const target = (side: Side, rest: Omit<LoadTarget, 'label' | 'headers' | 'cpu' | 'idleProbe'>): LoadTarget => ({
      label: `${side} ${rest.method ?? 'GET'}`,
      headers: rest.body === undefined ? headers : { ...headers, 'content-type': 'application/scim+json' },
      cpu: servers.cpu[side],
      idleProbe: idleProbe(side),
      ...rest,
    })
    const rotate = (paths: readonly string[]): ((request: AutocannonRequest) => AutocannonRequest) => {
      let i = 0
      return (request) => {
        request.path = paths[i++ % paths.length]!
        return request
      }
    }
    const results: BenchResult[] = []

    // GET /Users/{id}: rotating over users who are in two groups each.
    const getPaths = readUsers.map((id) => `/scim/v2/Users/${id}`)
    const getMismatch = await compareResponses(servers, () => ({ path: getPaths[0]! }), 200)
    for (const setting of [
      { label: '-c50', connections: 50, pipelining: 1 },
      { label: '-c100 -p10', connections: 100, pipelining: 10 },
    ]) {
      const measured = await interleaved(sizes, progress, `GET /Users/{id} ${setting.label}`, { node: target('node', { url: `${node.url}${getPaths[0]}`, setupRequest: rotate(getPaths) }), floor: target('floor', { url: `${floor.url}${getPaths[0]}`, setupRequest: rotate(getPaths) }) }, setting)
      results.push(row(`GET /Users/{id} direct ${setting.label}, node vs floor`, 0.75, measured, getMismatch))
    }

    // GET /Users?filter=userName eq "…", rotating over the same users.
    const filterPaths = Array.from({ length: f.readUsers }, (_, i) => `/scim/v2/Users?filter=${q(`userName eq "${userName('user', i + 1)}"`)}`)
    const filterMismatch = await compareResponses(servers, () => ({ path: filterPaths[0]! }), 200)
    {
      const measured = await interleaved(sizes, progress, 'GET /Users?filter=userName eq -c50', { node: target('node', { url: `${node.url}${filterPaths[0]}`, setupRequest: rotate(filterPaths) }), floor: target('floor', { url: `${floor.url}${filterPaths[0]}`, setupRequest: rotate(filterPaths) }) }, { connections: 50, pipelining: 1 })
      results.push(row('GET /Users?filter=userName eq "…" direct -c50, node vs floor', 0.7, measured, filterMismatch))
    }

    // POST /Users: a new userName each request; the same body checked against both first.
    const checkTag = `check-${run}`
    const postMismatch = await compareResponses(
      servers,
      () => ({ method: 'POST', path: '/scim/v2/Users', body: loadUser(checkTag) }),
      201,
      async (side) => {
        if (side === 'node') await db.admin.query('DELETE FROM users WHERE tenant_id = $1 AND user_name = $2', [TENANT, `${checkTag}@example.com`])
      },
      normalizeIdentities,
    )
    await vacuum(db)
    {
      const post = (side: Side): LoadTarget =>
        target(side, {
          url: `${servers.url[side]}/scim/v2/Users`,
          method: 'POST',
          body: JSON.stringify(loadUser('placeholder')),
          setupRequest: (request) => {
            request.body = JSON.stringify(loadUser(nextTag()))
            return request
          },
        })
      const measured = await interleaved(sizes, progress, 'POST /Users -c32', { node: post('node'), floor: post('floor') }, { connections: 32, pipelining: 1 })
      const logged = postMismatch ?? (await eventLogGap(db))
      results.push(row('POST /Users direct -c32, node vs floor (one-row INSERT + event, one round trip)', 0.8, measured, logged))
    }
    await vacuum(db)

    // PATCH add one member: each request a new (group, user) pair, spread over the groups.
    const pairs = patchGroups.length * memberPool.length
    let pair = 0
    const nextPair = (): { group: string; user: string } => {
      const k = pair++
      return { group: patchGroups[k % patchGroups.length]!, user: memberPool[Math.floor(k / patchGroups.length) % memberPool.length]! }
    }
    const patchBody = (user: string): unknown => ({ schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: user }] }] })
    const patchMismatch = await compareResponses(
      servers,
      () => {
        const { group, user } = nextPair()
        return { method: 'PATCH', path: `/scim/v2/Groups/${group}`, body: patchBody(user) }
      },
      204,
    )
    {
      const patch = (side: Side): LoadTarget =>
        target(side, {
          url: `${servers.url[side]}/scim/v2/Groups/${patchGroups[0]}`,
          method: 'PATCH',
          body: JSON.stringify(patchBody(memberPool[0]!)),
          setupRequest: (request) => {
            const { group, user } = nextPair()
            request.path = `/scim/v2/Groups/${group}`
            request.body = JSON.stringify(patchBody(user))
            return request
          },
        })
      // The groups table from a VACUUM to the end of each run: how many updates were HOT, how many dead tuples are left.
      const tables: Record<Side, TableStats[]> = { node: [], floor: [] }
      const measured = await interleaved(sizes, progress, 'PATCH add one member -c32', { node: patch('node'), floor: patch('floor') }, { connections: 32, pipelining: 1 }, async (side, runLoad) => {
        await db.admin.query('VACUUM groups')
        await sleep(1200)
        const before = await groupsTableStats(db)
        const result = await runLoad()
        // Backends report their table statistics at most once a second, when idle.
        await sleep(1500)
        const after = await groupsTableStats(db)
        tables[side].push({ updates: after.updates - before.updates, hotUpdates: after.hotUpdates - before.hotUpdates, deadTuples: after.deadTuples })
        return result
      })
      results.push(row('PATCH add one member -c32, node vs floor', 0.7, { ...measured }, patchMismatch))
      const stat = (side: Side) => {
        const last = tables[side].at(-1)!
        return { updates: last.updates, hotUpdates: last.hotUpdates, deadTuples: last.deadTuples, hotShare: last.updates === 0 ? 0 : last.hotUpdates / last.updates }
      }
      const n = stat('node')
      const fl = stat('floor')
      // No ratio: each side made as many updates as its throughput allowed (the context has the counts).
      results.push({
        ...info(`  groups table after the PATCH run: dead tuples (node after ${n.updates.toLocaleString('en-US')} row updates vs floor after ${fl.updates.toLocaleString('en-US')})`, n.deadTuples, fl.deadTuples, 'dead tuples', {
          node: n,
          floor: fl,
          note: 'VACUUM before each run; autovacuum is off on the shared server',
        }),
        ratio: null,
      })
      results.push(info('  groups table after the PATCH run: HOT share of updates (node vs floor)', n.hotShare * 100, fl.hotShare * 100, '% HOT', { node: n, floor: fl, pairsUsed: pair, pairsAvailable: pairs }))
    }
    await vacuum(db)

    // /Bulk of user POSTs against the floor's one multi-row INSERT of the same rows.
    const bulkCheck = await compareResponses(
      servers,
      () => ({ method: 'POST', path: '/scim/v2/Bulk', body: { schemas: [BULK_REQUEST_SCHEMA], Operations: [0, 1, 2].map((i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: loadUser(`${checkTag}-bulk-${i}`) })) } }),
      200,
      async (side) => {
        if (side === 'node') await db.admin.query("DELETE FROM users WHERE tenant_id = $1 AND user_name LIKE $2 || '-bulk-%'", [TENANT, checkTag])
      },
      normalizeIdentities,
    )
    for (const inFlight of [1, 4]) {
      const runs: Record<Side, { opsPerSecond: number; cpu: CpuPerRequest; requests: number }[]> = { node: [], floor: [] }
      for (let r = 1; r <= sizes.load.rounds; r++) {
        for (const side of SIDES) {
          progress.step(`floor: /Bulk of ${f.bulkOperations} user POSTs, ${inFlight} in flight → ${side} (round ${r}/${sizes.load.rounds}, ≥ ${f.durationS}s)`)
          runs[side].push(await bulkLoad(servers.url[side], headers, inFlight, f.durationS, f.bulkOperations, nextTag, servers.cpu[side]))
        }
        await vacuum(db)
      }
      const rate = (side: Side): number => median(runs[side].map((x) => x.opsPerSecond))
      const cpu = (side: Side): CpuPerRequest | undefined => medianCpu(runs[side].map((x) => ({ requestsPerSecond: 0, latencyP50: 0, latencyP99: 0, non2xx: 0, errors: 0, cpu: x.cpu })))
      const measured = { node: { rps: rate('node'), cpu: cpu('node'), runs: [] }, floor: { rps: rate('floor'), cpu: cpu('floor'), runs: [] } }
      const result = atLeast(`/Bulk of ${f.bulkOperations.toLocaleString('en-US')} user POSTs, ${inFlight} in flight, vs multi-row INSERT (CPU per operation)`, measured.node.rps, measured.floor.rps, 0.4, 'users/s', 'multi-row INSERT', {
        nodeBulkRequests: runs.node.map((x) => x.requests),
        floorBulkRequests: runs.floor.map((x) => x.requests),
        responses: bulkCheck ?? 'byte-identical (ids and times aside)',
      })
      results.push(withCpu(bulkCheck === undefined ? result : { ...result, met: false, target: `${result.target} (responses differ)` }, measured.node.cpu, measured.floor.cpu))
    }
    const gap = await eventLogGap(db)
    if (gap !== undefined) throw new Error(gap)
    return results.map((r) => (r.context === undefined ? r : { ...r, context: { ...r.context, rounds: sizes.load.rounds, durationS: round(f.durationS) } }))
  } finally {
    progress.step('floor: cleaning up')
    await cleanup.run()
  }
}
