// Issue 9.1: GET /Groups?count=1000 loaded every member of every group on the
// page (20 groups × 50,000 members → a 173 MB answer and +280 MB on the node)
// and the gateway buffered whole responses. Now each response carries at most
// SCIM_MAX_MEMBERS_IN_RESPONSE members, read with SQL LIMIT, and the gateway
// streams what it does not buffer.
//
// What is measured: the gateway and the node run in this test's process, so the
// memory figures are of that one process and cover both tiers together (each
// tier's growth is at most the sum). Memory is sampled after a full GC, so it is
// what is held at once, not garbage a lazy collector has not freed yet.
import pg from 'pg'
import t from 'tap'
import { DEFAULT_LIMITS } from '../../config/node-config.ts'
import { measureMemoryGrowth } from '../helpers/memory-sampler.ts'
import { startTestNode } from '../helpers/region-node.ts'
import { startSystem } from '../helpers/system.ts'

const EU1 = 'eu1.localhost'
const TENANT = 'big-groups'
const BIG_GROUPS = 20
const MEMBERS_PER_BIG_GROUP = 50_000
const SMALL_GROUPS = 4
const MEMBERS_PER_SMALL_GROUP = 1_000
const CAP = DEFAULT_LIMITS.maxMembersInResponse

const system = await startSystem(t, { regions: ['EU1'] })
const { token } = await system.createToken(TENANT, 'EU1')

// Seeded as the database owner (row-level security does not apply to it), in the test's own database.
const seedStarted = Date.now()
const seed = new pg.Client({ connectionString: system.nodes.get('EU1')!.databaseUrl })
await seed.connect()
// The memberships are consistent by construction: skip the per-row foreign-key triggers while seeding.
await seed.query("SET session_replication_role = 'replica'")
await seed.query(
  `INSERT INTO users (tenant_id, id, user_name, display_name, attributes)
   SELECT $1, gen_random_uuid(), 'user' || i || '@example.com', 'User ' || i, jsonb_build_object('userName', 'user' || i || '@example.com')
   FROM generate_series(1, $2) AS i`,
  [TENANT, MEMBERS_PER_BIG_GROUP],
)
await seed.query(
  `INSERT INTO groups (tenant_id, id, display_name, attributes)
   SELECT $1, gen_random_uuid(), name, jsonb_build_object('displayName', name)
   FROM generate_series(1, $2::int + $3::int) AS i, LATERAL (SELECT CASE WHEN i <= $2::int THEN 'big ' ELSE 'small ' END || lpad(i::text, 2, '0') AS name) n`,
  [TENANT, BIG_GROUPS, SMALL_GROUPS],
)
await seed.query(
  `INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
   SELECT $1, g.id, u.id, 'User'
   FROM groups g JOIN users u ON u.tenant_id = g.tenant_id
   WHERE g.tenant_id = $1 AND (g.display_name LIKE 'big %' OR u.seq % ($2::int / $3::int) = 0)`,
  [TENANT, MEMBERS_PER_BIG_GROUP, MEMBERS_PER_SMALL_GROUP],
)
await seed.query('ANALYZE users; ANALYZE groups; ANALYZE group_members')
const { rows: groupRows } = await seed.query<{ id: string; display_name: string }>('SELECT id::text, display_name FROM groups WHERE tenant_id = $1 ORDER BY seq', [TENANT])
await seed.end()
t.comment(`seeded ${BIG_GROUPS * MEMBERS_PER_BIG_GROUP + SMALL_GROUPS * MEMBERS_PER_SMALL_GROUP} memberships in ${Date.now() - seedStarted} ms`)
const bigGroup = groupRows.find((g) => g.display_name.startsWith('big'))!.id

const get = (path: string) => system.request(EU1, 'GET', path, { token })

t.test(`3 concurrent GET /Groups?count=1000 over ${BIG_GROUPS} groups of ${MEMBERS_PER_BIG_GROUP} members: valid SCIM, bounded memory`, async (t) => {
  await get('/scim/v2/Groups?count=1') // warm both tiers (JIT, pools) before measuring
  const { result: answers, growth } = await measureMemoryGrowth(() => Promise.all([1, 2, 3].map(() => get('/scim/v2/Groups?count=1000'))))
  t.comment(`gateway + node (one process) held ${growth.retainedMb.toFixed(1)} MB more at peak after GC; RSS grew ${growth.rssMb.toFixed(1)} MB`)
  for (const answer of answers) {
    t.equal(answer.status, 200, answer.body.slice(0, 300))
    t.match(answer.headers['content-type'], /^application\/scim\+json/)
    const list = answer.json()
    t.same(list.schemas, ['urn:ietf:params:scim:api:messages:2.0:ListResponse'])
    t.equal(list.totalResults, BIG_GROUPS + SMALL_GROUPS)
    t.equal(list.Resources.length, BIG_GROUPS + SMALL_GROUPS, 'the page is not shortened (Okta steps startIndex by its count)')
    t.equal(list.itemsPerPage, list.Resources.length)
    const members = list.Resources.reduce((sum: number, group: { members?: unknown[] }) => sum + (group.members?.length ?? 0), 0)
    t.ok(members <= CAP, `at most ${CAP} members in one answer (got ${members})`)
    for (const group of list.Resources) {
      t.ok(typeof group.id === 'string' && typeof group.displayName === 'string', 'every group is a valid resource')
      if (group.displayName.startsWith('big')) t.notOk('members' in group, 'a group larger than the cap is listed without members')
      else t.equal(group.members?.length, MEMBERS_PER_SMALL_GROUP, `groups that fit carry all their members: ${JSON.stringify(group).slice(0, 200)}`)
    }
  }
  t.ok(growth.retainedMb < 100, `node and gateway memory grew by less than 100 MB (held ${growth.retainedMb.toFixed(1)} MB more)`)
})

t.test('a single group larger than the cap: 400 tooMany when members are asked for; excludedAttributes and paging users by group work', async (t) => {
  const refused = await get(`/scim/v2/Groups/${bigGroup}`)
  t.equal(refused.status, 400, refused.body)
  t.match(refused.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'tooMany' })
  const excluded = await get(`/scim/v2/Groups/${bigGroup}?excludedAttributes=members`)
  t.equal(excluded.status, 200, excluded.body)
  t.notOk('members' in excluded.json())
  const members = await get(`/scim/v2/Users?filter=${encodeURIComponent(`groups.value eq "${bigGroup}"`)}&count=100&attributes=id`)
  t.equal(members.status, 200, members.body.slice(0, 300))
  t.equal(members.json().totalResults, MEMBERS_PER_BIG_GROUP, 'the members of a large group page through /Users')
})

t.test('.search pages are capped the same way', async (t) => {
  const response = await system.request(EU1, 'POST', '/scim/v2/Groups/.search', { token, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 1000 } })
  t.equal(response.status, 200, response.body.slice(0, 300))
  const members = response.json().Resources.reduce((sum: number, group: { members?: unknown[] }) => sum + (group.members?.length ?? 0), 0)
  t.ok(members <= CAP)
})

t.test("users' groups are bounded the same way", async (t) => {
  // A node on the same database whose budget is smaller than one user's 20 groups.
  const strict = await startTestNode(t, { databaseUrl: system.nodes.get('EU1')!.databaseUrl, limits: { maxMembersInResponse: 10 } })
  const page = (await strict.scim(TENANT, 'GET', 'Users?count=50')).json()
  t.equal(page.Resources.length, 50, 'the page is not shortened')
  t.ok(page.Resources.every((user: { groups?: unknown[] }) => user.groups === undefined), 'users in more groups than the budget are listed without groups')
  const one = await strict.scim(TENANT, 'GET', `Users/${page.Resources[0].id}`)
  t.equal(one.statusCode, 200, one.body.slice(0, 200))
  t.notOk('groups' in one.json(), 'and read without them')
  const generous = await startTestNode(t, { databaseUrl: system.nodes.get('EU1')!.databaseUrl, limits: { maxMembersInResponse: 30 } })
  const listed = (await generous.scim(TENANT, 'GET', 'Users?count=50')).json()
  const entries = listed.Resources.reduce((sum: number, user: { groups?: unknown[] }) => sum + (user.groups?.length ?? 0), 0)
  t.ok(entries > 0 && entries <= 30, `groups fill the budget in page order (${entries} of 30)`)
  t.equal((await generous.scim(TENANT, 'GET', `Users/${listed.Resources[0].id}`)).json().groups.length, BIG_GROUPS, 'a user within the budget has all its groups')
})
