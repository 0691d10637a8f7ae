// /Bulk runs of POST /Users as one multi-row insert (region-node/services/user-create-batches.ts): the results,
// the stored users and the event log are those of running the same operations one by one.
import t from 'tap'
import { DEFAULT_LIMITS, tenantConcurrencyOf } from '../../../config/node-config.ts'
import { createCursorCodec } from '../../../region-node/scim/cursor.ts'
import { createBulkService } from '../../../region-node/services/bulk-service.ts'
import { createGroupsService } from '../../../region-node/services/groups-service.ts'
import type { RequestScope } from '../../../region-node/services/service-context.ts'
import { createUserCreateBatches } from '../../../region-node/services/user-create-batches.ts'
import { createUsersService } from '../../../region-node/services/users-service.ts'
import { createPool, createTenantDatabase } from '../../../region-node/storage/database.ts'
import { createEventsStore } from '../../../region-node/storage/events-store.ts'
import { startTestNode } from '../../helpers/region-node.ts'
import { tenantNames } from '../../helpers/scim-calls.ts'
import { createTestDatabase, TEST_DATABASE_SETTINGS, testCursorKeys } from '../../helpers/test-database.ts'

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

const db = await createTestDatabase('bulk')
t.teardown(db.drop)
const config = { url: db.url, poolSize: 8, rowSecurityRole: 'scimgate_app', statementTimeoutMs: 30_000, connectionTimeoutMs: 2_000 }
const database = createTenantDatabase(createPool(config, () => undefined), tenantConcurrencyOf(config), { rowSecurityRole: config.rowSecurityRole, ...TEST_DATABASE_SETTINGS })
t.teardown(() => database.close())
const deps = { database, limits: DEFAULT_LIMITS, cursors: createCursorCodec(testCursorKeys(), 300) }
const users = createUsersService(deps)
const groups = createGroupsService(deps)
const oneByOne = createBulkService({ users, groups, maxOperations: 5_000 })
const batched = createBulkService({ users, groups, userBatches: createUserCreateBatches(deps), maxOperations: 5_000 })
const newTenant = tenantNames('bulk')
const scopeOf = (tenantId: string): RequestScope => ({ tenantId, baseUrl: 'https://scim.example/scim/v2', mayWriteGroupAccess: false })

/** What a tenant holds after a run, with ids replaced by userNames/displayNames so two tenants compare. */
async function stateOf(tenantId: string, response: Record<string, unknown>) {
  const scope = scopeOf(tenantId)
  const listed = (await users.list(scope, { paging: { kind: 'index', startIndex: 1, count: 5_000 }, attributes: [], excludedAttributes: [] } as never)).Resources as Record<string, unknown>[]
  const groupList = (await groups.list(scope, { paging: { kind: 'index', startIndex: 1, count: 100 }, attributes: [], excludedAttributes: [] } as never)).Resources as Record<string, unknown>[]
  const names = new Map<string, string>([...listed.map((u) => [String(u.id), `user:${String(u.userName)}`] as const), ...groupList.map((g) => [String(g.id), `group:${String(g.displayName)}`] as const)])
  const named = (value: unknown): unknown => JSON.parse(JSON.stringify(value).replace(UUID, (id) => names.get(id) ?? 'deleted'))
  const strip = ({ meta: _meta, id: _id, ...rest }: Record<string, unknown>) => rest
  const events = await database.read(tenantId, (q) => createEventsStore(q).after(tenantId, 0n, 100_000))
  return {
    results: named(response.Operations),
    users: named(listed.map(strip)),
    groups: named(groupList.map(strip)),
    events: named(events.map((e) => [e.type, e.resource_type, e.resource_id, e.data])),
    eventIds: events.map((e) => e.id),
  }
}

type Test = Pick<typeof t, 'same' | 'equal' | 'ok'>

async function runBoth(t: Test, operations: unknown[], failOnErrors?: number, setup?: (tenantId: string) => Promise<void>) {
  const [a, b] = [newTenant(), newTenant()]
  for (const tenant of [a, b]) await setup?.(tenant)
  const body = { schemas: [BULK_REQUEST], Operations: operations, ...(failOnErrors === undefined ? {} : { failOnErrors }) }
  const sequential = await oneByOne.execute(scopeOf(a), body)
  const together = await batched.execute(scopeOf(b), body)
  const [expected, actual] = [await stateOf(a, sequential), await stateOf(b, together)]
  t.same(actual.results, expected.results, 'the same result per operation')
  t.same(actual.users, expected.users, 'the same users')
  t.same(actual.groups, expected.groups, 'the same groups')
  t.same(actual.events, expected.events, 'the same events, in the same order')
  const ids = [...expected.eventIds, ...actual.eventIds]
  t.equal(new Set(ids).size, ids.length, 'every event has an id of its own')
  t.ok(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)), 'event ids are version 4 uuids')
  return actual
}

const post = (bulkId: string, userName: unknown, extra: Record<string, unknown> = {}) => ({ method: 'POST', path: '/Users', bulkId, data: { userName, ...extra } })

t.test('1,000 user POSTs with duplicates inside the batch (any letter case) and against existing users: as one by one', async (t) => {
  const operations = Array.from({ length: 1_000 }, (_, i) => {
    if (i % 97 === 5) return post(`u${i}`, `EXISTING-${i % 3}@example.com`)
    if (i % 50 === 7) return post(`u${i}`, `USER-${i - 1}@Example.com`, { displayName: 'late twin' })
    if (i % 131 === 3) return post(`u${i}`, 7)
    return post(`u${i}`, `user-${i}@example.com`, { externalId: `ext-${i}`, active: i % 2 === 0, name: { givenName: `G${i}` } })
  })
  const actual = await runBoth(t, operations, undefined, async (tenant) => {
    for (const n of [0, 1, 2]) await users.create(scopeOf(tenant), { userName: `existing-${n}@example.com` })
  })
  const statuses = (actual.results as { status: string }[]).map((r) => r.status)
  t.ok(statuses.filter((s) => s === '409').length >= 20 && statuses.filter((s) => s === '400').length >= 5 && statuses.filter((s) => s === '201').length > 900, 'the run has every kind of outcome')
})

t.test('failOnErrors stops at the same operation, also when the stopping error is a collision inside the batch', async (t) => {
  const operations = [post('a', 'a@example.com'), post('b', 'b@example.com'), post('a2', 'A@example.com'), post('bad', 42), post('c', 'c@example.com'), post('b2', 'B@EXAMPLE.COM'), post('d', 'd@example.com')]
  for (const failOnErrors of [1, 2, 3, 4]) {
    await t.test(`failOnErrors ${failOnErrors}`, async (t) => {
      const actual = await runBoth(t, operations, failOnErrors)
      t.equal((actual.results as unknown[]).length, [3, 4, 6, 7][failOnErrors - 1], 'operations ran')
    })
  }
})

t.test('mixed operations: batches end at PATCH, DELETE, group POSTs and bulkId references; references into a batch resolve', async (t) => {
  const operations = [
    post('u1', 'one@example.com'),
    post('u2', 'two@example.com'),
    { method: 'POST', path: '/Groups', bulkId: 'g1', data: { displayName: 'G1', members: [{ value: 'bulkId:u1' }, { value: 'bulkId:u4' }] } },
    post('u3', 'three@example.com', { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { manager: { value: 'bulkId:u2' } } }),
    post('u4', 'four@example.com'),
    post('u5', 'ONE@example.com'),
    { method: 'PATCH', path: '/Users/bulkId:u2', data: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] } },
    post('u6', 'six@example.com', { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { manager: { value: 'bulkId:u7' } } }),
    post('u7', 'seven@example.com'),
    { method: 'DELETE', path: '/Users/bulkId:u4' },
    post('u8', 'four@example.com'),
    post('u9', 'nine@example.com', { manager: 'bulkId:u5' }),
    post('u10', 'ten@example.com'),
  ]
  const actual = await runBoth(t, operations)
  t.same(
    (actual.results as { bulkId?: string; method: string; status: string }[]).map((r) => `${r.bulkId ?? r.method} ${r.status}`),
    ['u1 201', 'u2 201', 'g1 201', 'u3 201', 'u4 201', 'u5 409', 'PATCH 200', 'u6 201', 'u7 201', 'DELETE 204', 'u8 201', 'u9 409', 'u10 201'],
  )
})

t.test('concurrent batches naming the same userNames in different orders: every request answers, every userName is created once', async (t) => {
  const tenant = newTenant()
  const names = Array.from({ length: 200 }, (_, i) => `shared-${i}@example.com`)
  const orders = [names, [...names].reverse(), [...names.slice(100), ...names.slice(0, 100)], [...names.slice(50), ...names.slice(0, 50)].reverse()]
  const responses = await Promise.all(orders.map((order, run) => batched.execute(scopeOf(tenant), { schemas: [BULK_REQUEST], Operations: order.map((name, i) => post(`r${run}-${i}`, name)) })))
  const statuses = responses.flatMap((r) => (r.Operations as { status: string }[]).map((o) => o.status))
  t.equal(statuses.filter((s) => s === '201').length, 200, 'each userName created once')
  t.equal(statuses.filter((s) => s === '409').length, 600, 'the others are 409')
})

t.test('over HTTP: 1,000 POSTs in one request, each with its location and version, and the limits still hold', async (t) => {
  const node = await startTestNode(t)
  const tenant = newTenant()
  const operations = Array.from({ length: node.config.limits.bulkMaxOperations }, (_, i) => post(`u${i}`, `http-${i % 990}@example.com`))
  const response = await node.scim(tenant, 'POST', 'Bulk', { schemas: [BULK_REQUEST], Operations: operations })
  t.equal(response.statusCode, 200, response.body.slice(0, 300))
  const results = response.json().Operations as { bulkId: string; status: string; location?: string; version?: string }[]
  t.equal(results.filter((r) => r.status === '201').length, 990)
  t.same(results.slice(990).map((r) => r.status), Array<string>(10).fill('409'))
  const first = results[0]!
  t.equal(first.version, 'W/"1"')
  const read = await node.scim(tenant, 'GET', first.location!.replace(/^.*\/scim\/v2\//, ''))
  t.match(read.json(), { userName: 'http-0@example.com', meta: { location: first.location, version: 'W/"1"' } })
  const tooMany = await node.scim(tenant, 'POST', 'Bulk', { schemas: [BULK_REQUEST], Operations: [...operations, post('x', 'x@example.com')] })
  t.equal(tooMany.statusCode, 413)
})
