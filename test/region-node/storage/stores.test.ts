import { randomUUID } from 'node:crypto'
import t from 'tap'
import { tenantConcurrencyOf } from '../../../config/node-config.ts'
import { createPool, createTenantDatabase, type TenantDatabase } from '../../../region-node/storage/database.ts'
import { createGroupsStore } from '../../../region-node/storage/groups-store.ts'
import { createUsersStore } from '../../../region-node/storage/users-store.ts'
import { createTestDatabase, TEST_DATABASE_SETTINGS } from '../../helpers/test-database.ts'

const ALL_ROWS = { where: 'true', orderBy: 'r.seq', pageOrderBy: 'seq', sortKey: 'NULL', values: [], limit: 100, offset: 0 }

async function setup(t: { teardown(fn: () => unknown): void }): Promise<TenantDatabase> {
  const db = await createTestDatabase('stores')
  t.teardown(db.drop)
  const config = { url: db.url, poolSize: 4, rowSecurityRole: 'scimgate_app', statementTimeoutMs: 10_000, connectionTimeoutMs: 2_000 }
  const database = createTenantDatabase(createPool(config, () => undefined), tenantConcurrencyOf(config), { rowSecurityRole: config.rowSecurityRole, ...TEST_DATABASE_SETTINGS })
  t.teardown(() => database.close())
  return database
}

t.test('users store: every method is scoped by tenant', async (t) => {
  const database = await setup(t)
  const idA = randomUUID()
  await database.write('a', (db) => createUsersStore(db).insert('a', idA, { userName: 'kim' }))
  await database.write('b', (db) => createUsersStore(db).insert('b', randomUUID(), { userName: 'kim' }))

  // A write: findForUpdate locks rows, which a read-only transaction refuses.
  await database.write('b', async (db) => {
    const users = createUsersStore(db)
    t.equal(await users.find('b', idA), undefined, 'find')
    t.equal(await users.findForUpdate('b', idA), undefined, 'findForUpdate')
    t.equal((await users.list('b', ALL_ROWS)).length, 1, 'list sees only its own user')
    t.same((await users.listWithGroups('b', ALL_ROWS, 10)).rows.map((r) => r.attributes.userName), ['kim'], 'listWithGroups too')
    t.equal(await users.count('b', 'true', []), 1, 'count')
    t.equal((await users.existingIds('b', [idA])).size, 0, 'existingIds')
  })
  const outcome = await database.write('b', (db) => createUsersStore(db).update('b', idA, { userName: 'stolen' }, undefined))
  t.equal(outcome.kind, 'missing', 'update')
  t.equal(await database.write('b', (db) => createUsersStore(db).delete('b', idA)), false, 'delete')
  const stillThere = await database.read('a', (db) => createUsersStore(db).find('a', idA))
  t.equal(stillThere?.attributes.userName, 'kim', "tenant a's user is untouched")
})

t.test('groups store: every method is scoped by tenant, members too', async (t) => {
  const database = await setup(t)
  const groupA = randomUUID()
  const userA = randomUUID()
  const groupB = randomUUID()
  await database.write('a', async (db) => {
    await createUsersStore(db).insert('a', userA, { userName: 'kim' })
    await createGroupsStore(db).insert('a', groupA, { displayName: 'ops' })
    await createGroupsStore(db).addMembers('a', groupA, [{ value: userA }])
  })
  await database.write('b', (db) => createGroupsStore(db).insert('b', groupB, { displayName: 'ops' }))

  const change = await database.write('b', (db) => createGroupsStore(db).addMembers('b', groupB, [{ value: userA }]))
  t.same(change, { added: 0, removed: 0, skipped: [userA] }, "b cannot add a's user to its group")
  await database.read('b', async (db) => {
    const groups = createGroupsStore(db)
    t.equal(await groups.find('b', groupA), undefined, 'find')
    t.equal((await groups.membersOf('b', [groupA], 100)).size, 0, 'membersOf')
    t.equal((await groups.list('b', ALL_ROWS)).length, 1, 'list')
  })
  const removed = await database.write('b', (db) => createGroupsStore(db).removeAllMembers('b', groupA, undefined, 2))
  t.same(removed, { added: 0, removed: 0, skipped: [] }, 'removeAllMembers, and no version bump')
  t.equal(await database.write('b', (db) => createGroupsStore(db).delete('b', groupA)), false, 'delete')
  const members = await database.read('a', (db) => createGroupsStore(db).membersOf('a', [groupA], 100))
  t.same(members.get(groupA)?.map((m) => m.value), [userA], "a's membership survives")
})

t.test('membership changes are set operations', async (t) => {
  const database = await setup(t)
  const group = randomUUID()
  const users = [randomUUID(), randomUUID(), randomUUID()]
  await database.write('a', async (db) => {
    for (const [index, id] of users.entries()) await createUsersStore(db).insert('a', id, { userName: `u${index}` })
    await createGroupsStore(db).insert('a', group, { displayName: 'g' })
  })
  const store = (work: (s: ReturnType<typeof createGroupsStore>) => Promise<unknown>) => database.write('a', (db) => work(createGroupsStore(db)) as Promise<unknown>)
  t.match(await store((s) => s.addMembers('a', group, [{ value: users[0]! }, { value: users[0]! }, { value: 'not-a-uuid' }])), { added: 1, skipped: ['not-a-uuid'] })
  t.match(await store((s) => s.addMembers('a', group, [{ value: users[0]! }])), { added: 0 }, 'adding twice is idempotent')
  t.match(await store((s) => s.addMembers('a', group, [{ value: users[1]! }], undefined, 2)), { added: 1, bumped: { version: 2, lastModified: Date } }, 'a change bumps the version it is given')
  t.notOk(((await store((s) => s.addMembers('a', group, [{ value: users[1]! }], undefined, 3))) as { bumped?: unknown }).bumped, 'no change, no bump')
  t.equal((await database.read('a', (db) => createGroupsStore(db).find('a', group)))?.version, 2)
  t.match(await store((s) => s.removeMembers('a', group, [users[1]!], undefined, 3)), { removed: 1, bumped: { version: 3 } }, 'a removal bumps too')
  t.match(await store((s) => s.replaceMembers('a', group, [{ value: users[1]! }, { value: users[2]! }])), { added: 2, removed: 1 }, 'replace is a diff')
  t.match(await store((s) => s.replaceMembers('a', group, [{ value: users[1]! }, { value: users[2]! }])), { added: 0, removed: 0 }, 'the same replace changes nothing')
  t.match(await store((s) => s.removeMembers('a', group, [users[1]!, users[0]!])), { removed: 1 })
  await database.write('a', (db) => createUsersStore(db).delete('a', users[2]!))
  const left = await database.read('a', (db) => createGroupsStore(db).membersOf('a', [group], 100))
  t.equal(left.get(group), undefined, 'deleting a user removed its membership in the same transaction')
})

t.test("a page with its users' groups: page order, groups in group order, one LIMIT over all the page's groups", async (t) => {
  const database = await setup(t)
  const users = [randomUUID(), randomUUID(), randomUUID()]
  const groups = [randomUUID(), randomUUID(), randomUUID()]
  await database.write('a', async (db) => {
    for (const [index, id] of users.entries()) await createUsersStore(db).insert('a', id, { userName: `u${index}` })
    for (const [index, id] of groups.entries()) await createGroupsStore(db).insert('a', id, { displayName: `g${index}` })
    // Added out of group order: the groups come back in the order the groups were created.
    await createGroupsStore(db).addMembers('a', groups[1]!, [{ value: users[0]! }])
    await createGroupsStore(db).addMembers('a', groups[0]!, [{ value: users[0]! }])
    await createGroupsStore(db).addMembers('a', groups[2]!, [{ value: users[1]! }])
  })
  const names = (entries: readonly { display: string }[] | undefined) => entries?.map((g) => g.display)
  await database.read('a', async (db) => {
    const page = await createUsersStore(db).listWithGroups('a', ALL_ROWS, 10)
    t.same(page.rows.map((r) => r.attributes.userName), ['u0', 'u1', 'u2'])
    t.same(names(page.groups.get(users[0]!)), ['g0', 'g1'])
    t.same(names(page.groups.get(users[1]!)), ['g2'])
    t.notOk(page.groups.has(users[2]!), 'a user in no group has no entry')
    t.equal(page.groupRows, 3)
  })
  await database.read('a', async (db) => {
    const descending = await createUsersStore(db).listWithGroups('a', { ...ALL_ROWS, orderBy: 'r.seq DESC', pageOrderBy: 'seq DESC', limit: 2 }, 10)
    t.same(descending.rows.map((r) => r.attributes.userName), ['u2', 'u1'], 'the page keeps its order and size')
    t.same(names(descending.groups.get(users[1]!)), ['g2'])
  })
  await database.read('a', async (db) => {
    const capped = await createUsersStore(db).listWithGroups('a', ALL_ROWS, 2)
    t.equal(capped.groupRows, 2, 'at most `limit` group rows are read over the whole page')
    t.same(names(capped.groups.get(users[0]!)), ['g0', 'g1'], 'the first in group order')
    t.equal(capped.rows.length, 3, 'the page is not shortened')
  })
})

t.test('row-level security is a second wall: a query that forgets tenant_id still sees one tenant', async (t) => {
  const database = await setup(t)
  await database.write('a', (db) => createUsersStore(db).insert('a', randomUUID(), { userName: 'a-user' }))
  await database.write('b', (db) => createUsersStore(db).insert('b', randomUUID(), { userName: 'b-user' }))
  const seen = await database.read('b', async (db) => (await db.query<{ user_name: string }>('SELECT user_name FROM users')).rows.map((r) => r.user_name))
  t.same(seen, ['b-user'])
  await t.rejects(
    database.write('b', (db) => db.query(`INSERT INTO users (tenant_id, id, user_name, attributes) VALUES ('a', $1, 'sneaky', '{}')`, [randomUUID()])),
    /row-level security/,
    'writing a row of another tenant is refused',
  )
  const none = await database.read('', async (db) => (await db.query('SELECT count(*)::int AS n FROM users')).rows[0])
  t.same(none, { n: 0 }, 'no tenant set: nothing visible')
})

t.test('a read is one read-only snapshot; tenant, role and timeout hold for that transaction only (PgBouncer transaction pooling)', async (t) => {
  const database = await setup(t)
  await database.write('a', (db) => createUsersStore(db).insert('a', randomUUID(), { userName: 'first' }))
  await database.read('a', async (db) => {
    const before = await createUsersStore(db).count('a', 'true', [])
    await database.write('a', (other) => createUsersStore(other).insert('a', randomUUID(), { userName: 'meanwhile' }))
    t.equal(await createUsersStore(db).count('a', 'true', []), before, 'a write committed meanwhile is not seen: count and page read one snapshot')
    const { rows } = await db.query<{ tenant: string; role: string; readOnly: string; isolation: string; timeout: string }>(
      `SELECT current_setting('scimgate.tenant_id') AS tenant, current_user AS role, current_setting('transaction_read_only') AS "readOnly",
              current_setting('transaction_isolation') AS isolation, current_setting('statement_timeout') AS timeout`,
    )
    t.same(rows[0], { tenant: 'a', role: 'scimgate_app', readOnly: 'on', isolation: 'repeatable read', timeout: '10s' })
  })
  const client = await database.pool.connect()
  try {
    const { rows } = await client.query<{ role: string; tenant: string | null }>(`SELECT current_user AS role, current_setting('scimgate.tenant_id', true) AS tenant`)
    t.equal(rows[0]?.role, 'postgres', 'the role does not outlive the transaction')
    t.notOk(rows[0]?.tenant, 'nor does the tenant')
  } finally {
    client.release()
  }
})
