// A change-feed cursor the retention purge has passed (migration
// event-purge-marks): the purge records, per tenant and in the statement that
// deletes, the position of the last event it deleted; a read after a cursor
// before that mark is refused with 410 instead of silently skipping the
// deleted events. Run in a database laid out as in production (tables and
// SECURITY DEFINER functions owned by a role that is not a superuser).
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { Registry } from 'prom-client'
import t from 'tap'
import { startTestNode } from '../../helpers/region-node.ts'
import { patchRequest, scimCalls, tenantNames } from '../../helpers/scim-calls.ts'
import { eventLogOwner } from '../../helpers/event-log-owner.ts'

// Before the node: the role is dropped after the node's database.
const owner = eventLogOwner(t, 'mark')

const registry = new Registry()
const node = await startTestNode(t, { metricsRegistry: registry, events: { purgeIntervalMs: 100, purgeBatchSize: 2, retentionDays: 30 } })
const newTenant = tenantNames('purgemark')
const scim = scimCalls((tenant, method, path, body) => node.scim(tenant, method, path, body))

const superuser = new pg.Client({ connectionString: node.config.database.url })
await superuser.connect()
t.teardown(() => superuser.end())
await owner.takeOver(superuser)

interface Page {
  events: { id: string; type: string; cursor: string; resourceId: string }[]
  nextCursor: string
}
const feed = async (tenant: string, query: string) => {
  const response = await node.app.inject({ method: 'GET', url: `/admin/v1/changes?${query}`, headers: await node.identity(tenant, ['admin']) })
  return { status: response.statusCode, body: response.json() as Page & { detail?: string; status?: string; schemas?: string[]; scimType?: string } }
}
const page = async (tenant: string, query: string): Promise<Page> => {
  const response = await feed(tenant, query)
  if (response.status !== 200) throw new Error(`${response.status} ${JSON.stringify(response.body)}`)
  return response.body
}
const seqOf = (cursor: string): string => /^ev1\.(\d+)/.exec(Buffer.from(cursor, 'base64url').toString())![1]!
/** Ages the tenant's rows up to `throughSeq` past the retention period and waits until the node's purge deleted them. */
const purgeThrough = async (tenant: string, throughSeq: string): Promise<void> => {
  await superuser.query("UPDATE events SET time = now() - interval '31 days' WHERE tenant_id = $1 AND seq <= $2", [tenant, throughSeq])
  for (let attempt = 0; attempt < 100; attempt++) {
    const { rows } = await superuser.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND seq <= $2', [tenant, throughSeq])
    if (rows[0]!.n === 0) return
    await sleep(100)
  }
  throw new Error('timed out waiting for the purge')
}
const refusals = async (): Promise<number> => (await registry.getSingleMetric('scimgate_event_feed_purged_cursor_refusals_total')!.get()).values[0]?.value ?? -1

t.test('a cursor before the purge mark is refused; at the mark it reads on; other tenants are unaffected', async (t) => {
  // Tenant B's events come first: its cursors have lower seqs than tenant A's mark (seqs are region-wide).
  const other = newTenant()
  await scim.create(other, 'Users', { userName: 'b1@example.com' })
  const otherStart = await page(other, 'limit=1000')
  await scim.create(other, 'Users', { userName: 'b2@example.com' })

  const tenant = newTenant()
  for (let i = 1; i <= 3; i++) await scim.create(tenant, 'Users', { userName: `a${i}@example.com` })
  const first = await page(tenant, 'limit=1')
  const second = await page(tenant, `limit=1&after=${first.nextCursor}`)
  t.equal(second.events.length, 1)
  // Two tracked consumers: one still at the first event, one at the second.
  await page(tenant, `consumer=slow&after=${first.nextCursor}`)
  await page(tenant, `consumer=fast&after=${second.nextCursor}`)

  const before = await refusals()
  await purgeThrough(tenant, seqOf(second.nextCursor))

  const refused = await feed(tenant, `after=${first.nextCursor}&consumer=slow`)
  t.equal(refused.status, 410, 'the second event is gone and the cursor had not read it')
  t.same(refused.body.schemas, ['urn:ietf:params:scim:api:messages:2.0:Error'])
  t.equal(refused.body.status, '410')
  t.match(refused.body.detail, /retention purge/)
  t.match(refused.body.detail, /from=now/, 'the detail says how to recover')
  t.equal(await refusals(), before + 1, 'counted')
  t.equal((await feed(tenant, `after=${first.nextCursor}&wait=1`)).status, 410, 'a long poll is refused at once too')

  const atMark = await page(tenant, `after=${second.nextCursor}`)
  t.same(
    atMark.events.map((e) => e.type),
    ['user.created'],
    'the cursor of the last purged event has read everything the purge deleted: the third event follows',
  )
  const fresh = await page(tenant, '')
  t.same(fresh.events.map((e) => e.id), atMark.events.map((e) => e.id), 'without a cursor the feed starts after the purge mark')

  const consumers = await node.app.inject({ method: 'GET', url: '/admin/v1/feed-consumers', headers: await node.identity(tenant, ['admin']) })
  t.equal(consumers.statusCode, 200)
  const listed = (consumers.json() as { consumers: { consumer: string; cursor: string; behindRetention: boolean }[] }).consumers
  t.same(
    listed.map((c) => [c.consumer, c.cursor, c.behindRetention]),
    [
      ['tok-test/fast', second.nextCursor, false],
      ['tok-test/slow', first.nextCursor, true],
    ],
    'the admin sees which consumer is cut off (the refused read recorded nothing)',
  )

  // Forgetting works under the non-superuser owner too, and frees the region's registry once no tenant tracks it.
  const forget = async (consumer: string) =>
    (await node.app.inject({ method: 'DELETE', url: `/admin/v1/feed-consumers/${encodeURIComponent(consumer)}`, headers: await node.identity(tenant, ['admin']) })).statusCode
  t.equal(await forget('tok-test/slow'), 204)
  t.equal(await forget('tok-test/slow'), 404, 'not tracked any more')
  const registered = async (consumer: string): Promise<boolean> =>
    (await superuser.query('SELECT 1 FROM event_feed_consumers WHERE consumer = $1', [consumer])).rowCount === 1
  t.notOk(await registered('tok-test/slow'), 'no tenant tracks it: it left the registry')
  t.ok(await registered('tok-test/fast'), 'the other stays')
  await page(other, 'consumer=fast')
  t.equal(await forget('tok-test/fast'), 204)
  t.ok(await registered('tok-test/fast'), 'still tracked in the other tenant: it stays registered')
  const otherPage = await page(other, `after=${otherStart.nextCursor}`)
  t.ok(BigInt(seqOf(otherStart.nextCursor)) < BigInt(seqOf(second.nextCursor)), 'the other tenant’s cursor is below the first tenant’s mark')
  t.same(otherPage.events.map((e) => e.type), ['user.created'], 'and reads on: marks are per tenant')
})

t.test('from=now gives the head, past the mark; reading after it gets what comes next', async (t) => {
  const tenant = newTenant()
  await scim.create(tenant, 'Users', { userName: 'h1@example.com' })
  const all = await page(tenant, '')
  await purgeThrough(tenant, seqOf(all.nextCursor))
  const empty = await page(tenant, 'from=now')
  t.same(empty.events, [])
  t.equal(empty.nextCursor, all.nextCursor, 'an emptied log: the head is the mark')
  t.equal((await page(tenant, '')).nextCursor, all.nextCursor, 'and a read without a cursor does not hand out one before it')
  const id = await scim.create(tenant, 'Users', { userName: 'h2@example.com' })
  const head = await page(tenant, 'from=now')
  t.same(head.events, [], 'from=now reads nothing')
  await scim.create(tenant, 'Users', { userName: 'h3@example.com' })
  const next = await page(tenant, `after=${head.nextCursor}`)
  t.equal(next.events.length, 1, 'only the event after the head')
  t.not(next.events[0]!.resourceId, id)
  t.equal((await feed(tenant, `from=now&after=${head.nextCursor}`)).status, 400, 'from and after together')
  t.equal((await feed(tenant, 'from=start')).status, 400, 'from is now or nothing')
})

t.test('a membership row: the mark is its last member, so a cursor inside it is refused and one at its end reads on', async (t) => {
  const tenant = newTenant()
  const users = [] as string[]
  for (let i = 0; i < 3; i++) users.push(await scim.create(tenant, 'Users', { userName: `m${i}@example.com` }))
  const group = await scim.create(tenant, 'Groups', { displayName: 'team' })
  const start = await page(tenant, '')
  const patched = await node.scim(tenant, 'PATCH', `Groups/${group}`, patchRequest({ op: 'add', path: 'members', value: users.map((value) => ({ value })) }))
  t.equal(patched.statusCode < 300, true)
  await scim.create(tenant, 'Users', { userName: 'after@example.com' })
  const members = await page(tenant, `after=${start.nextCursor}&limit=3`)
  t.same(members.events.map((e) => e.type), ['membership.added', 'membership.added', 'membership.added'])
  await purgeThrough(tenant, seqOf(members.nextCursor))
  t.equal((await feed(tenant, `after=${members.events[1]!.cursor}`)).status, 410, 'the third member was purged unread')
  const atEnd = await page(tenant, `after=${members.events[2]!.cursor}`)
  t.same(atEnd.events.map((e) => e.type), ['user.created'], 'the cursor of the row’s last member has read it all')
})
