// Region node scale: lookups, membership changes, group reads and paging in a
// small tenant against a large one. Each size has its own database and node,
// so a plan that scans a whole table cannot hide behind a shared one.
import { PATCH_OP_SCHEMA } from '../../region-node/scim/schema/index.ts'
import { Cleanup } from '../lib/cleanup.ts'
import { BenchClient, compareLatency, type BenchRequest, type LatencyProbe } from '../lib/http-client.ts'
import type { Progress } from '../lib/progress.ts'
import { atMost, info, round, type BenchResult } from '../lib/result.ts'
import { analyze, externalId, seedGroup, seedUsers, userIds, userName } from '../lib/seed.ts'
import { createBenchDatabase, createBenchKeys, startNodeProcess } from '../lib/services.ts'
import type { BenchSizes } from '../lib/sizes.ts'
import { latencyStats } from '../lib/stats.ts'

const SMALL = 'bench-small'
const LARGE = 'bench-large'
const PAGING = 'bench-paging'
const PAGE = 100
const CANDIDATES = 50

interface Side {
  readonly label: string
  readonly tenant: string
  readonly users: number
  readonly client: BenchClient
  readonly headers: Record<string, string>
  readonly groupId: string
  /** Users that are not members of the group, to add and remove again. */
  readonly outsiders: readonly string[]
}

/** Fixed pseudo-random user numbers in 1…n (the same every run). */
function sampleNumbers(n: number, count: number): number[] {
  let state = 0x2545f491
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return 1 + (state % n)
  })
}

const q = (text: string): string => encodeURIComponent(text)

export async function runScaleSuite(sizes: BenchSizes, progress: Progress): Promise<BenchResult[]> {
  const cleanup = new Cleanup()
  try {
    progress.step('scale: creating two databases')
    const keys = await createBenchKeys()
    const smallDb = await createBenchDatabase(cleanup, 'small')
    const largeDb = await createBenchDatabase(cleanup, 'large')
    await seedUsers(smallDb.admin, SMALL, sizes.smallTenantUsers, progress)
    await seedUsers(smallDb.admin, PAGING, sizes.pagingUsers, progress, 'page')
    await seedUsers(largeDb.admin, LARGE, sizes.largeTenantUsers, progress)
    progress.step('scale: seeding groups and analysing')
    const smallGroup = await seedGroup(smallDb.admin, SMALL, 'small-group', sizes.smallGroupMembers)
    const largeGroup = await seedGroup(largeDb.admin, LARGE, 'large-group', sizes.largeGroupMembers)
    await Promise.all([analyze(smallDb.admin), analyze(largeDb.admin)])
    const smallNode = await startNodeProcess(cleanup, 'node-small', smallDb, keys)
    const largeNode = await startNodeProcess(cleanup, 'node-large', largeDb, keys)

    const side = async (label: string, tenant: string, users: number, url: string, groupId: string, groupSize: number, pool: typeof smallDb.admin): Promise<Side> => {
      const client = new BenchClient(url)
      cleanup.teardown(() => client.close())
      return { label, tenant, users, client, headers: await keys.identityHeaders(tenant), groupId, outsiders: await userIds(pool, tenant, groupSize + 1, groupSize + CANDIDATES) }
    }
    const small = await side('small', SMALL, sizes.smallTenantUsers, smallNode.url, smallGroup, sizes.smallGroupMembers, smallDb.admin)
    const large = await side('large', LARGE, sizes.largeTenantUsers, largeNode.url, largeGroup, sizes.largeGroupMembers, largeDb.admin)
    const results: BenchResult[] = []
    const sizeNote = { small: sizes.smallTenantUsers, large: sizes.largeTenantUsers }

    // Lookups rotate over 200 fixed users, so the large tenant is not read from one hot page.
    for (const [attribute, value] of [
      ['userName', (i: number) => userName('user', i)],
      ['externalId', (i: number) => externalId('user', i)],
    ] as const) {
      progress.step(`scale: filter ${attribute} eq, ${sizes.latency.samples} samples per tenant`)
      const probe = (s: Side): LatencyProbe => {
        const keysOf = sampleNumbers(s.users, 200)
        return { client: s.client, status: 200, request: (i) => ({ path: `/scim/v2/Users?filter=${q(`${attribute} eq "${value(keysOf[i % keysOf.length]!)}"`)}`, headers: s.headers }) }
      }
      const check = await large.client.expect(probe(large).request(0), 200)
      if ((JSON.parse(check.body) as { totalResults?: number }).totalResults !== 1) throw new Error(`${attribute} lookup did not find exactly one user: ${check.body.slice(0, 200)}`)
      const [a, b] = await compareLatency([probe(small), probe(large)], sizes.latency.samples, sizes.latency.warmup)
      results.push(atMost(`filter ${attribute} eq p50, ${fmt(sizes.largeTenantUsers)}-user tenant`, b!.p50, a!.p50, 1.5, 'ms p50', `${fmt(sizes.smallTenantUsers)}-user tenant`, { ...sizeNote, largeP90Ms: round(b!.p90), smallP90Ms: round(a!.p90) }))
    }

    progress.step(`scale: PATCH add/remove one member, ${sizes.membershipSamples} samples per group`)
    const timings = { small: { add: [] as number[], remove: [] as number[] }, large: { add: [] as number[], remove: [] as number[] } }
    const memberPatch = (s: Side, op: 'Add' | 'Remove', id: string): BenchRequest => ({
      method: 'PATCH',
      path: `/scim/v2/Groups/${s.groupId}`,
      headers: s.headers,
      body: { schemas: [PATCH_OP_SCHEMA], Operations: [{ op, path: 'members', value: [{ value: id }] }] },
    })
    const warm = Math.min(10, sizes.membershipSamples)
    for (let i = 0; i < warm + sizes.membershipSamples; i++) {
      for (const s of [small, large]) {
        const id = s.outsiders[i % s.outsiders.length]!
        for (const op of ['Add', 'Remove'] as const) {
          const started = process.hrtime.bigint()
          await s.client.expect(memberPatch(s, op, id), [200, 204])
          const millis = Number(process.hrtime.bigint() - started) / 1e6
          if (i >= warm) timings[s.label as 'small' | 'large'][op === 'Add' ? 'add' : 'remove'].push(millis)
        }
      }
    }
    for (const op of ['add', 'remove'] as const) {
      const a = latencyStats(timings.small[op])
      const b = latencyStats(timings.large[op])
      results.push(atMost(`PATCH ${op} one member p50, ${fmt(sizes.largeGroupMembers)}-member group`, b.p50, a.p50, 1.5, 'ms p50', `${sizes.smallGroupMembers}-member group`, { largeP90Ms: round(b.p90), smallP90Ms: round(a.p90) }))
    }

    progress.step('scale: GET /Groups/{id}?excludedAttributes=members')
    const groupProbe = (s: Side): LatencyProbe => ({ client: s.client, status: 200, request: () => ({ path: `/scim/v2/Groups/${s.groupId}?excludedAttributes=members`, headers: s.headers }) })
    {
      const [a, b] = await compareLatency([groupProbe(small), groupProbe(large)], sizes.latency.samples, sizes.latency.warmup)
      results.push(atMost(`GET group excludedAttributes=members p50, ${fmt(sizes.largeGroupMembers)} members`, b!.p50, a!.p50, 1.5, 'ms p50', `${sizes.smallGroupMembers}-member group`, { largeP90Ms: round(b!.p90), smallP90Ms: round(a!.p90) }))
    }

    progress.step('scale: list first page (count=100), large tenant vs small tenant')
    const firstPage = (s: Side): LatencyProbe => ({ client: s.client, status: 200, request: () => ({ path: `/scim/v2/Users?count=${PAGE}`, headers: s.headers }) })
    {
      const samples = Math.max(5, Math.floor(sizes.latency.samples / 10))
      const [a, b] = await compareLatency([firstPage(small), firstPage(large)], samples, 3)
      results.push(info(`list first page p50, ${fmt(sizes.largeTenantUsers)}-user tenant (vs ${fmt(sizes.smallTenantUsers)})`, b!.p50, a!.p50, 'ms p50', { note: 'no target; totalResults is a count(*) over the tenant on every page' }))
    }

    results.push(...(await pagingBenchmarks(sizes, progress, new BenchClient(smallNode.url), await keys.identityHeaders(PAGING))))
    return results
  } finally {
    progress.step('scale: cleaning up')
    await cleanup.run()
  }
}

async function pagingBenchmarks(sizes: BenchSizes, progress: Progress, client: BenchClient, headers: Record<string, string>): Promise<BenchResult[]> {
  const total = sizes.pagingUsers
  progress.step(`scale: walking ${fmt(total)} users by cursor to reach the last page`)
  const page = async (count: number, cursor: string): Promise<{ nextCursor?: string; Resources?: unknown[] }> =>
    JSON.parse((await client.expect({ path: `/scim/v2/Users?count=${count}&cursor=${q(cursor)}`, headers }, 200)).body) as { nextCursor?: string; Resources?: unknown[] }
  let seen = 0
  let cursor = ''
  while (total - seen > PAGE) {
    const step = Math.min(1000, total - seen - PAGE)
    const body = await page(step, cursor)
    if (body.nextCursor === undefined) throw new Error(`cursor walk ended early after ${seen} users`)
    cursor = body.nextCursor
    seen += step
    progress.count('cursor walk', seen, total - PAGE)
  }
  const last = await page(PAGE, cursor)
  if (last.nextCursor !== undefined || last.Resources?.length !== PAGE) throw new Error('the cursor walk did not end on a full last page')
  const probe = (c: string): LatencyProbe => ({ client, status: 200, request: () => ({ path: `/scim/v2/Users?count=${PAGE}&cursor=${q(c)}`, headers }) })
  const samples = Math.max(5, Math.floor(sizes.latency.samples / 4))
  const [first, deep] = await compareLatency([probe(''), probe(cursor)], samples, 5)
  const index = (start: number): LatencyProbe => ({ client, status: 200, request: () => ({ path: `/scim/v2/Users?count=${PAGE}&startIndex=${start}`, headers }) })
  const [indexFirst, indexDeep] = await compareLatency([index(1), index(total - PAGE + 1)], samples, 5)
  client.close()
  return [
    atMost(`last page by cursor p50, ${fmt(total)} users`, deep!.p50, first!.p50, 2, 'ms p50', 'first page', { deepP90Ms: round(deep!.p90), firstP90Ms: round(first!.p90) }),
    info(`  context: last page by startIndex p50, ${fmt(total)} users`, indexDeep!.p50, indexFirst!.p50, 'ms p50', { note: 'index paging uses OFFSET; ratio vs startIndex=1' }),
  ]
}

function fmt(v: number): string {
  return v >= 1_000_000 ? `${v / 1_000_000}M` : v >= 1000 ? `${v / 1000}k` : String(v)
}
