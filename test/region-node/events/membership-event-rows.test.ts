// A membership statement is stored as one row of the log holding its members
// (migration membership-event-rows); the change feed and the audit trail
// still show one event per member. Pages of any size may end inside such a
// row: every member is seen exactly once, in order, with ids and cursors
// stable across reads; filters, removals, tenants and the consumer lag
// behave as with one row per member.
import pg from 'pg'
import { Registry } from 'prom-client'
import t from 'tap'
import { decodeEventPosition, encodeEventCursor } from '../../../region-node/events/event-cursor.ts'
import { startTestNode } from '../../helpers/region-node.ts'
import { patchRequest, scimCalls, tenantNames } from '../../helpers/scim-calls.ts'

const registry = new Registry()
const node = await startTestNode(t, { metricsRegistry: registry })
const newTenant = tenantNames('memberrows')
const scim = scimCalls((tenant, method, path, body) => node.scim(tenant, method, path, body))

const superuser = new pg.Client({ connectionString: node.config.database.url })
await superuser.connect()
t.teardown(() => superuser.end())

type Event = { id: string; cursor: string; time: string; type: string; resourceType: string; resourceId: string; actor: Record<string, unknown>; data: { member?: { type: string; value: string } } | null }
type Page = { events: Event[]; nextCursor: string | null }

async function get(tenant: string, url: string): Promise<Page> {
  const response = await node.app.inject({ method: 'GET', url: `/admin/v1${url}`, headers: await node.identity(tenant, ['admin']) })
  if (response.statusCode !== 200) throw new Error(`GET ${url}: ${response.statusCode} ${response.body}`)
  return response.json()
}

/** The whole feed, `limit` events per page, and how many pages ended inside a membership row. */
async function feed(tenant: string, limit: number, after?: string): Promise<{ events: Event[]; pages: number; endedInside: number }> {
  const events: Event[] = []
  let cursor = after
  let pages = 0
  let endedInside = 0
  for (;;) {
    const page = await get(tenant, `/changes?limit=${limit}${cursor === undefined ? '' : `&after=${cursor}`}`)
    if (page.events.length === 0) return { events, pages, endedInside }
    pages++
    const last = page.events.at(-1)!
    if (last.data?.member !== undefined) endedInside++
    if (page.nextCursor !== last.cursor) throw new Error('the next cursor is not the last event’s')
    events.push(...page.events)
    cursor = page.nextCursor!
  }
}

/** The whole audit trail for a query, newest first, `limit` per page. */
async function audit(tenant: string, query: string, limit: number): Promise<Event[]> {
  const events: Event[] = []
  let cursor: string | null = null
  do {
    const page: Page = await get(tenant, `/events?limit=${limit}${query === '' ? '' : `&${query}`}${cursor === null ? '' : `&cursor=${cursor}`}`)
    events.push(...page.events)
    cursor = page.nextCursor
  } while (cursor !== null)
  return events
}

/** `count` users straight into the tenant (their own user.created events are not needed here); ids in insertion order. */
async function seedUsers(tenant: string, count: number): Promise<string[]> {
  const { rows } = await superuser.query<{ id: string }>(
    `INSERT INTO users (tenant_id, id, user_name, active, attributes)
     SELECT $1, gen_random_uuid(), 'm' || i || '@example.com', true, jsonb_build_object('userName', 'm' || i || '@example.com', 'active', true)
     FROM generate_series(1, $2::int) AS i
     RETURNING id`,
    [tenant, count],
  )
  return rows.map((r) => r.id)
}

const patch = async (tenant: string, group: string, ...operations: unknown[]) => {
  const response = await node.scim(tenant, 'PATCH', `Groups/${group}`, patchRequest(...operations))
  if (response.statusCode !== 204) throw new Error(`PATCH: ${response.statusCode} ${response.body}`)
}
const members = (events: Event[]) => events.map((e) => e.data?.member?.value)
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

const tenant = newTenant()
const users = await seedUsers(tenant, 2_500)
const nested = await scim.create(tenant, 'Groups', { displayName: 'nested' })
const group = await scim.create(tenant, 'Groups', { displayName: 'big' })
// One statement adds 2,500 users and a group (the PATCH of adds only: one locked statement).
await patch(tenant, group, { op: 'add', path: 'members', value: [...users, nested].map((value) => ({ value })) })
const marker = await scim.create(tenant, 'Users', { userName: 'after@example.com' })
const added = [...users, nested].sort(byId)

t.test('the feed shows one event per member, in member order, across pages that end inside the row', async (t) => {
  const reference = (await feed(tenant, 1000)).events
  t.same(
    reference.map((e) => e.type),
    ['group.created', 'group.created', ...Array<string>(added.length).fill('membership.added'), 'user.created'],
  )
  const memberEvents = reference.slice(2, -1)
  t.same(members(memberEvents), added, 'every member once, in member-id order')
  t.equal(memberEvents.find((e) => e.data?.member?.value === nested)?.data?.member?.type, 'Group', 'a nested group keeps its member type')
  t.ok(memberEvents.filter((e) => e.data?.member?.value !== nested).every((e) => e.data?.member?.type === 'User'))
  t.ok(memberEvents.every((e) => e.resourceType === 'Group' && e.resourceId === group && e.actor.type === 'token'), 'about the group, by the token')
  t.same(Object.keys(memberEvents[0]!).sort(), Object.keys(reference[0]!).sort(), 'the same fields as every other event')
  t.equal(JSON.stringify(memberEvents[0]!.data), `{"member":{"type":"User","value":"${added[0]}"}}`)
  t.equal(new Set(reference.map((e) => e.id)).size, reference.length, 'ids are unique')
  t.equal(new Set(reference.map((e) => e.cursor)).size, reference.length, 'cursors are unique')
  t.equal(reference.at(-1)!.resourceId, marker)

  // one event per page into the row
  let cursor: string | undefined
  const single: Event[] = []
  for (let i = 0; i < 6; i++) {
    const page = await get(tenant, `/changes?limit=1${cursor === undefined ? '' : `&after=${cursor}`}`)
    single.push(...page.events)
    cursor = page.nextCursor!
  }
  t.same(single, reference.slice(0, 6), 'pages of 1')
  for (const limit of [7, 100, 999]) {
    const paged = await feed(tenant, limit)
    t.same(paged.events, reference, `pages of ${limit}: the same events, ids and cursors as one read`)
    t.ok(paged.endedInside > 0, `pages of ${limit} ended inside the membership row (${paged.endedInside} times)`)
  }

  // Resuming from any cursor inside the row continues right after it.
  for (const at of [2, 3, 1234, reference.length - 2]) {
    const rest = await get(tenant, `/changes?limit=5&after=${reference[at]!.cursor}`)
    t.same(rest.events, reference.slice(at + 1, at + 6), `after event ${at}`)
  }
  // A long poll from inside the row returns the rest at once.
  const waited = await get(tenant, `/changes?limit=3&wait=20&after=${reference[100]!.cursor}`)
  t.same(waited.events, reference.slice(101, 104))
})

t.test('the audit trail pages newest first inside the row; filters match what one row per member matched', async (t) => {
  const reference = (await feed(tenant, 1000)).events
  for (const limit of [9, 1000]) t.same(await audit(tenant, '', limit), [...reference].reverse(), `pages of ${limit}, newest first`)
  t.same(await audit(tenant, `resourceId=${group}`, 11), reference.filter((e) => e.resourceId === group).reverse(), 'resourceId: the group’s events, its members included')
  t.same(await audit(tenant, `resourceId=${users[42]}`, 11), [], 'resourceId of a member: membership events are about the group, as before')
  t.same(await audit(tenant, `resourceId=${marker}`, 11), reference.slice(-1))
  const byType = await audit(tenant, 'type=membership.added', 500)
  t.same(members(byType), [...added].reverse())
  t.same(await audit(tenant, 'type=membership.removed', 500), [])
  t.same((await audit(tenant, 'actor=tok-test', 700)).length, reference.length)
  t.same(await audit(tenant, 'actor=admin', 700), [])
  t.same(await audit(tenant, 'until=2000-01-01T00:00:00Z', 700), [])
  t.same((await audit(tenant, `since=${encodeURIComponent(reference[2]!.time)}&type=membership.added`, 1000)).length, added.length)
})

t.test('removals: one event per member removed, by filter, by replace and all at once', async (t) => {
  const start = (await feed(tenant, 1000)).events.at(-1)!.cursor
  const gone = users.slice(0, 3)
  // a PATCH mixing a removal and an add goes member operation by member operation
  await patch(tenant, group, ...gone.map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` })), { op: 'add', path: 'members', value: [{ value: marker }] })
  const kept = users.slice(3, 1203)
  const put = await node.scim(tenant, 'PUT', `Groups/${group}`, { displayName: 'big', members: kept.map((value) => ({ value })) })
  t.equal(put.statusCode, 200, put.body)
  await patch(tenant, group, { op: 'remove', path: 'members' })
  const changes = (await feed(tenant, 13, start)).events
  const removedByPut = [...users.slice(1203), nested, marker].sort(byId)
  t.same(new Set(members(changes.slice(0, 3))), new Set(gone), 'the removals of the PATCH')
  t.same(
    changes.slice(3).map((e) => `${e.type} ${e.data?.member?.value ?? e.resourceId}`),
    [
      `membership.added ${marker}`,
      ...removedByPut.map((id) => `membership.removed ${id}`),
      ...kept.sort(byId).map((id) => `membership.removed ${id}`),
    ],
  )
  t.same(members(await audit(tenant, 'type=membership.removed', 250)), members(changes.filter((e) => e.type === 'membership.removed')).reverse())
})

t.test('tenant isolation: another tenant never sees the rows, not even with the cursors of this one', async (t) => {
  const other = newTenant()
  const own = await scim.create(other, 'Users', { userName: 'own@example.com' })
  const reference = (await feed(tenant, 1000)).events
  t.same((await feed(other, 7)).events.map((e) => e.resourceId), [own])
  for (const event of [reference[1]!, reference[500]!]) {
    t.same((await get(other, `/changes?after=${event.cursor}`)).events.map((e) => e.resourceId), [own], 'a cursor of the first tenant shows nothing of it')
    t.same((await get(other, `/events?cursor=${event.cursor}`)).events, [], 'nor in the audit trail (its own event came later)')
  }
  t.same(await audit(other, `resourceId=${group}`, 10), [])
  t.same(await audit(other, 'type=membership.added', 10), [])
})

t.test('cursors: a place inside a row round-trips; a row’s cursor is the one it always was', async (t) => {
  t.same(decodeEventPosition(encodeEventCursor(42n, 7), 'after'), { seq: 42n, pos: 7 })
  t.same(decodeEventPosition(encodeEventCursor(42n), 'after'), { seq: 42n, pos: 0 })
  t.equal(encodeEventCursor(42n, 0), Buffer.from('ev1.42').toString('base64url'))
  t.same(decodeEventPosition(encodeEventCursor(9_223_372_036_854_775_807n, 1_000_000_000), 'after'), { seq: 9_223_372_036_854_775_807n, pos: 1_000_000_000 })
  t.throws(() => decodeEventPosition(encodeEventCursor(1n, 1_000_000_001), 'after'))
})

t.test('cursors: a place inside a row is checked as strictly as a row', async (t) => {
  const reference = (await feed(tenant, 1000)).events
  const inside = Buffer.from(reference[10]!.cursor, 'base64url').toString()
  t.match(inside, /^ev1\.\d+\.\d+$/)
  t.notMatch(reference[10]!.cursor, /\./)
  for (const bad of ['ev1.5.0', 'ev1.5.', 'ev1.5.-1', 'ev1.5.01', 'ev1.5.1.1', 'ev1.5.99999999999', 'ev1.5.3000000000']) {
    const response = await node.app.inject({ method: 'GET', url: `/admin/v1/changes?after=${Buffer.from(bad).toString('base64url')}`, headers: await node.identity(tenant, ['admin']) })
    t.equal(response.statusCode, 400, bad)
  }
})

t.test('the consumer lag counts the rest of a membership row the consumer is inside', async (t) => {
  const lagTenant = newTenant()
  const ids = await seedUsers(lagTenant, 50)
  const lagGroup = await scim.create(lagTenant, 'Groups', { displayName: 'lag' })
  await patch(lagTenant, lagGroup, { op: 'add', path: 'members', value: ids.map((value) => ({ value })) })
  await superuser.query("UPDATE events SET time = now() - interval '1 hour' WHERE tenant_id = $1", [lagTenant])
  const read = async (after?: string): Promise<Page> => {
    const response = await node.app.inject({
      method: 'GET',
      url: `/admin/v1/changes?consumer=lagging&limit=20${after === undefined ? '' : `&after=${after}`}`,
      headers: await node.identity(lagTenant, ['admin']),
    })
    return response.json()
  }
  const lag = async (): Promise<number | undefined> => (await registry.getSingleMetric('scimgate_event_feed_consumer_lag_seconds')!.get()).values.find((v) => v.labels.consumer === 'tok-test/lagging')?.value
  const first = await read()
  const second = await read(first.nextCursor!)
  t.ok(second.events.at(-1)!.data?.member !== undefined, 'the second page ends inside the row')
  // Its position is recorded when it reads from there: 11 members of the row still unread.
  const third = await read(second.nextCursor!)
  t.equal(third.events.length, 11)
  t.ok((await lag())! >= 3_000, `lags by the row’s age while members of it are unread (${await lag()} s)`)
  await read(third.nextCursor!)
  t.equal(await lag(), 0, 'caught up at the end of the row')
})
