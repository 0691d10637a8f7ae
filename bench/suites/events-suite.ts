// Access decisions and the event log: the decision for a user in 20 groups
// against GET /Users/{id} of the same users, in a tenant of 100k users and
// 1k groups; and what the log adds to user creates and to a PATCH adding
// 1,000 members, against a node with the log switched off, on the same
// database in the same run.
import { IDENTITY_HEADER, signIdentity } from '../../lib/internal-identity.ts'
import { GROUP_ACCESS_SCHEMA, PATCH_OP_SCHEMA } from '../../region-node/scim/schema/index.ts'
import { Cleanup } from '../lib/cleanup.ts'
import { BenchClient, compareLatency, type LatencyProbe } from '../lib/http-client.ts'
import type { Progress } from '../lib/progress.ts'
import { atMost, round, type BenchResult } from '../lib/result.ts'
import { seedUsers, userIds } from '../lib/seed.ts'
import { createBenchDatabase, createBenchKeys, REGION, startNodeProcess, type BenchDatabase, type BenchKeys } from '../lib/services.ts'
import type { BenchSizes } from '../lib/sizes.ts'

const TENANT = 'bench-access'
const PROBE_USERS = 20
const ROLES = ['Admin', 'User', 'Read Only', 'Data Analyst', 'Interface User']

/** Groups granting one role each with an Exact scope; every group gets `members` users, the probe users join the first `probeGroups`. */
async function seedAccessTenant(db: BenchDatabase, sizes: BenchSizes['events'], progress: Progress): Promise<string[]> {
  await seedUsers(db.admin, TENANT, sizes.users, progress)
  progress.step(`events: seeding ${sizes.groups} groups with ${sizes.membersPerGroup} members each`)
  await db.admin.query(
    `INSERT INTO groups (tenant_id, id, display_name, external_id, attributes)
     SELECT $1, gen_random_uuid(), 'group ' || g, 'grp-' || g,
            jsonb_build_object('displayName', 'group ' || g, 'externalId', 'grp-' || g,
              $3::text, jsonb_build_object('roles', jsonb_build_array(jsonb_build_object('value', ($4::text[])[1 + g % 5])),
                                           'scope', jsonb_build_object('type', 'Exact', 'values', jsonb_build_array('team-' || g))))
     FROM generate_series(1, $2::int) AS g`,
    [TENANT, sizes.groups, GROUP_ACCESS_SCHEMA, ROLES],
  )
  await db.admin.query(
    `WITH g AS (SELECT id, row_number() OVER (ORDER BY seq) AS n FROM groups WHERE tenant_id = $1),
          u AS (SELECT id, row_number() OVER (ORDER BY seq) AS n FROM users WHERE tenant_id = $1),
          wanted AS (SELECT g.id AS group_id, ((g.n - 1) * $2::int + k - 1) % $3::int + 1 AS user_n FROM g, generate_series(1, $2::int) AS k)
     INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
     SELECT $1, w.group_id, u.id, 'User' FROM wanted w JOIN u ON u.n = w.user_n
     ON CONFLICT DO NOTHING`,
    [TENANT, sizes.membersPerGroup, sizes.users],
  )
  const probes = await userIds(db.admin, TENANT, sizes.users - PROBE_USERS + 1, sizes.users)
  await db.admin.query(
    `INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
     SELECT $1, g.id, p.id, 'User' FROM (SELECT id FROM groups WHERE tenant_id = $1 ORDER BY seq LIMIT $3) g, unnest($2::uuid[]) AS p(id)
     ON CONFLICT DO NOTHING`,
    [TENANT, probes, sizes.groupsPerProbeUser],
  )
  return probes
}

async function vacuum(db: BenchDatabase): Promise<void> {
  for (const table of ['users', 'groups', 'group_members', 'events']) await db.admin.query(`VACUUM ANALYZE ${table}`)
}

async function headers(keys: BenchKeys, tenantId: string, scope: 'scim' | 'admin'): Promise<Record<string, string>> {
  return { [IDENTITY_HEADER]: await signIdentity(keys.signingKey, { tenantId, tokenId: 'tok-bench', region: REGION, scopes: [scope] }, 3600) }
}

export async function runEventsSuite(sizes: BenchSizes, progress: Progress): Promise<BenchResult[]> {
  const cleanup = new Cleanup()
  const e = sizes.events
  try {
    progress.step('events: creating the database')
    const keys = await createBenchKeys()
    const db = await createBenchDatabase(cleanup, 'events')
    const probes = await seedAccessTenant(db, e, progress)
    const sides = ['on', 'off'] as const
    const writeTenant = (side: (typeof sides)[number]) => `bench-log-${side}`
    const warmGroups = Math.min(3, e.patchSamples)
    for (const side of sides) {
      await seedUsers(db.admin, writeTenant(side), e.patchMembers, progress, 'member')
      await db.admin.query(
        `INSERT INTO groups (tenant_id, id, display_name, attributes)
         SELECT $1, gen_random_uuid(), 'target ' || g, jsonb_build_object('displayName', 'target ' || g) FROM generate_series(1, $2::int) AS g`,
        [writeTenant(side), e.patchSamples + warmGroups],
      )
    }
    await vacuum(db)
    const nodeOn = await startNodeProcess(cleanup, 'node-log-on', db, keys)
    const nodeOff = await startNodeProcess(cleanup, 'node-log-off', db, keys, 10, false)
    const clientOn = new BenchClient(nodeOn.url)
    const clientOff = new BenchClient(nodeOff.url)
    cleanup.teardown(() => clientOn.close())
    cleanup.teardown(() => clientOff.close())
    const results: BenchResult[] = []
    const fmt = (v: number): string => (v >= 1000 ? `${v / 1000}k` : String(v))

    progress.step(`events: access decision vs GET /Users/{id}, ${sizes.latency.samples} samples each`)
    const scim = await headers(keys, TENANT, 'scim')
    const admin = await headers(keys, TENANT, 'admin')
    const check = JSON.parse((await clientOn.expect({ path: `/admin/v1/access?id=${probes[0]}`, headers: admin }, 200)).body) as { roles: string[]; groups: unknown[] }
    if (check.groups.length < e.groupsPerProbeUser || check.roles.length === 0) throw new Error(`the probe user is not in ${e.groupsPerProbeUser} groups: ${JSON.stringify(check).slice(0, 200)}`)
    const decision: LatencyProbe = { client: clientOn, status: 200, request: (i) => ({ path: `/admin/v1/access?id=${probes[i % probes.length]}`, headers: admin }) }
    const read: LatencyProbe = { client: clientOn, status: 200, request: (i) => ({ path: `/scim/v2/Users/${probes[i % probes.length]}`, headers: scim }) }
    const [decided, got] = await compareLatency([decision, read], sizes.latency.samples, sizes.latency.warmup)
    results.push(
      atMost(`access decision p50, user in ${e.groupsPerProbeUser} groups, ${fmt(e.users)} users / ${fmt(e.groups)} groups`, decided!.p50, got!.p50, 1.2, 'ms p50', 'GET /Users/{id}', {
        decisionP90Ms: round(decided!.p90),
        getP90Ms: round(got!.p90),
      }),
    )

    progress.step(`events: user creates with the log on and off, ${e.createSamples} samples each`)
    const createWarmup = Math.min(20, e.createSamples)
    const create = (side: (typeof sides)[number], client: BenchClient, identity: Record<string, string>): LatencyProbe => ({
      client,
      status: 201,
      request: (i) => ({ method: 'POST', path: '/scim/v2/Users', headers: identity, body: { userName: `created-${side}-${i}@example.com`, name: { givenName: 'Bench', familyName: String(i) }, emails: [{ value: `created-${side}-${i}@example.com`, primary: true }] } }),
    })
    const onHeaders = await headers(keys, writeTenant('on'), 'scim')
    const offHeaders = await headers(keys, writeTenant('off'), 'scim')
    const [createOn, createOff] = await compareLatency([create('on', clientOn, onHeaders), create('off', clientOff, offHeaders)], e.createSamples, createWarmup)
    results.push(atMost('event log cost: user create p50', createOn!.p50, createOff!.p50, 1.15, 'ms p50', 'log off', { onP90Ms: round(createOn!.p90), offP90Ms: round(createOff!.p90) }))
    await vacuum(db)

    progress.step(`events: PATCH adding ${e.patchMembers} members with the log on and off, ${e.patchSamples} samples each`)
    const patch = async (side: (typeof sides)[number], client: BenchClient, identity: Record<string, string>): Promise<LatencyProbe> => {
      const members = (await userIds(db.admin, writeTenant(side), 1, e.patchMembers)).map((value) => ({ value }))
      const { rows } = await db.admin.query<{ id: string }>('SELECT id FROM groups WHERE tenant_id = $1 ORDER BY seq', [writeTenant(side)])
      const body = { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: members }] }
      return { client, status: 204, request: (i) => ({ method: 'PATCH', path: `/scim/v2/Groups/${rows[i]!.id}`, headers: identity, body }) }
    }
    const [patchOn, patchOff] = await compareLatency([await patch('on', clientOn, onHeaders), await patch('off', clientOff, offHeaders)], e.patchSamples, warmGroups)
    // A membership statement stores one row holding its members (the migration membership-event-rows).
    const events = await db.admin.query<{ n: number }>("SELECT coalesce(sum(coalesce(member_count, 1)), 0)::int AS n FROM events WHERE tenant_id = $1 AND type = 'membership.added'", [writeTenant('on')])
    const expected = (e.patchSamples + warmGroups) * e.patchMembers
    if (events.rows[0]!.n !== expected) throw new Error(`expected ${expected} membership events, found ${events.rows[0]!.n}`)
    results.push(atMost(`event log cost: PATCH adding ${fmt(e.patchMembers)} members p50`, patchOn!.p50, patchOff!.p50, 1.15, 'ms p50', 'log off', { onP90Ms: round(patchOn!.p90), offP90Ms: round(patchOff!.p90) }))
    return results
  } finally {
    progress.step('events: cleaning up')
    await cleanup.run()
  }
}
