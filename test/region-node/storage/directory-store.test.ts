// The console's directory reads on a tenant of 100,000 users and 10,000 groups
// (seeded with generate_series; 120,000 memberships): every page is a bounded index walk — the
// plans are read with EXPLAIN, never timed — and another tenant's rows never
// show, with row-level security on.
import pg from 'pg'
import t from 'tap'
import { createPool, createTenantDatabase, type Queryable } from '../../../region-node/storage/database.ts'
import { createDirectoryStore } from '../../../region-node/storage/directory-store.ts'
import { createTestDatabase, TEST_DATABASE_SETTINGS } from '../../helpers/test-database.ts'

const db = await createTestDatabase('directory')
t.teardown(db.drop)
const admin = new pg.Client({ connectionString: db.url })
await admin.connect()
t.teardown(() => admin.end())
await admin.query(`
  INSERT INTO users (tenant_id, id, user_name, display_name, active, attributes)
  SELECT 'big', gen_random_uuid(), 'user' || i || '@example.com', 'User ' || i, i % 10 <> 0,
         jsonb_build_object('name', jsonb_build_object('givenName', 'Given' || i, 'familyName', 'Family' || i))
  FROM generate_series(1, 100000) i;
  INSERT INTO groups (tenant_id, id, display_name, attributes)
  SELECT 'big', gen_random_uuid(), 'group ' || i, '{}'::jsonb FROM generate_series(1, 10000) i;
  INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
  SELECT 'big', (SELECT id FROM groups WHERE tenant_id = 'big' AND display_name = 'group 1'), id, 'User'
  FROM users WHERE tenant_id = 'big' AND seq % 5 = 0;
  -- and ten members in every other group (100,000 memberships; an equality join, so a hash join)
  WITH g AS (SELECT id, row_number() OVER (ORDER BY seq) AS n FROM groups WHERE tenant_id = 'big' AND display_name <> 'group 1'),
       u AS (SELECT id, row_number() OVER (ORDER BY seq) AS n FROM users WHERE tenant_id = 'big')
  INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
  SELECT 'big', g.id, u.id, 'User' FROM g JOIN u ON (u.n - 1) / 10 = g.n - 1;
  INSERT INTO users (tenant_id, id, user_name, active, attributes) VALUES ('small', gen_random_uuid(), 'user1@example.com', true, '{}');
  ANALYZE users; ANALYZE groups; ANALYZE group_members;
`)
const pool = createPool({ url: db.url, poolSize: 2, rowSecurityRole: 'scimgate_app', statementTimeoutMs: 30_000, connectionTimeoutMs: 5_000 }, () => undefined)
// The role is set per transaction (storage/database.ts), not by the pool.
const database = createTenantDatabase(pool, undefined, { rowSecurityRole: 'scimgate_app', ...TEST_DATABASE_SETTINGS })
t.teardown(() => database.close())

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  Plans?: PlanNode[]
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)]

/** Runs one store call with EXPLAIN in front of each statement; returns the plans' node types per table. */
async function plansOf(tenantId: string, call: (store: ReturnType<typeof createDirectoryStore>) => Promise<unknown>): Promise<string[]> {
  const scans: string[] = []
  await database.read(tenantId, async (db) => {
    const explaining: Queryable = {
      async query(text, values) {
        const result = await db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${text}`, values)
        for (const node of nodesOf(result.rows[0]!['QUERY PLAN'][0]!.Plan)) if (node['Relation Name'] !== undefined) scans.push(`${node['Node Type']} on ${node['Relation Name']}`)
        return { rows: [], rowCount: 0 }
      },
    } as Queryable
    await call(createDirectoryStore(explaining))
  })
  return scans
}

const read = <T>(tenantId: string, work: (store: ReturnType<typeof createDirectoryStore>) => Promise<T>) => database.read(tenantId, (db) => work(createDirectoryStore(db)))
const [bigGroup] = await read('big', (s) => s.groups('big', { search: 'group 1', afterSeq: undefined, limit: 1 }))
const [someUser] = await read('big', (s) => s.users('big', { search: undefined, active: undefined, afterSeq: '50000', limit: 1 }))

t.test('pages walk an index, whatever the tenant’s size', async (t) => {
  const cases: [string, (store: ReturnType<typeof createDirectoryStore>) => Promise<unknown>][] = [
    ['first page of users', (s) => s.users('big', { search: undefined, active: undefined, afterSeq: undefined, limit: 51 })],
    ['a page deep in the users', (s) => s.users('big', { search: undefined, active: undefined, afterSeq: '90000', limit: 51 })],
    ['deactivated users', (s) => s.users('big', { search: undefined, active: false, afterSeq: '50000', limit: 51 })],
    ['one user', (s) => s.user('big', someUser!.id)],
    ['a user’s groups', (s) => s.groupsOfUser('big', someUser!.id, 51)],
    ['groups with member counts', (s) => s.groups('big', { search: undefined, afterSeq: '5000', limit: 51 })],
    ['one group', (s) => s.group('big', bigGroup!.id)],
    ['members of a 20,000-member group', (s) => s.members('big', bigGroup!.id, undefined, 51)],
  ]
  for (const [name, call] of cases) {
    const scans = await plansOf('big', call)
    t.ok(scans.length > 0, `${name}: planned`)
    t.same(scans.filter((s) => s.startsWith('Seq Scan')), [], `${name}: no sequential scan (${scans.join(', ')})`)
  }
})

t.test('results: bounded pages in order, counts, members, tenant walls', async (t) => {
  const first = await read('big', (s) => s.users('big', { search: undefined, active: undefined, afterSeq: undefined, limit: 3 }))
  t.same(first.map((u) => u.userName), ['user1@example.com', 'user2@example.com', 'user3@example.com'])
  const next = await read('big', (s) => s.users('big', { search: undefined, active: undefined, afterSeq: first[2]!.seq, limit: 2 }))
  t.same(next.map((u) => u.userName), ['user4@example.com', 'user5@example.com'])
  t.same((await read('big', (s) => s.users('big', { search: 'USER77777@', active: undefined, afterSeq: undefined, limit: 5 }))).map((u) => u.userName), ['user77777@example.com'])
  t.same((await read('big', (s) => s.users('big', { search: 'family4242', active: undefined, afterSeq: undefined, limit: 2 }))).map((u) => u.userName), ['user4242@example.com', 'user42420@example.com'])
  t.ok((await read('big', (s) => s.users('big', { search: undefined, active: false, afterSeq: undefined, limit: 20 }))).every((u) => !u.active))
  t.equal(bigGroup!.memberCount, 20_000)
  const members = await read('big', (s) => s.members('big', bigGroup!.id, undefined, 10))
  const after = await read('big', (s) => s.members('big', bigGroup!.id, members[9]!.id, 10))
  t.equal(new Set([...members, ...after].map((m) => m.id)).size, 20, 'pages do not overlap')
  t.ok(after[0]!.id > members[9]!.id)
  t.ok((await read('big', (s) => s.groupsOfUser('big', members[0]!.id, 10))).some((g) => g.id === bigGroup!.id))

  t.same((await read('small', (s) => s.users('small', { search: undefined, active: undefined, afterSeq: undefined, limit: 10 }))).map((u) => u.userName), ['user1@example.com'], 'the small tenant sees only its own')
  t.equal(await read('small', (s) => s.user('small', someUser!.id)), undefined)
  t.equal(await read('small', (s) => s.group('small', bigGroup!.id)), undefined)
  t.same(await read('small', (s) => s.members('small', bigGroup!.id, undefined, 10)), [])
  t.same(await read('small', (s) => s.users('big', { search: undefined, active: undefined, afterSeq: undefined, limit: 10 })), [], 'row-level security holds even if a store were asked for another tenant')
})
