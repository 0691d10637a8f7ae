// The node's housekeeping of the event log, in a database laid out as in
// production: the tables and the SECURITY DEFINER functions belong to a role
// that is not a superuser (row security then applies to it too), and the
// node's transactions switch to the row-security role. The retention purge,
// the feed-lag report and the forgetting of idle consumers all work there;
// the region tracks a bounded number of consumers.
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { Registry } from 'prom-client'
import t from 'tap'
import { startTestNode } from '../../helpers/region-node.ts'
import { scimCalls, tenantNames } from '../../helpers/scim-calls.ts'
import { eventLogOwner } from '../../helpers/event-log-owner.ts'

// Before the node: the role is dropped after the node's database.
const owner = eventLogOwner(t, 'log')

const registry = new Registry()
const node = await startTestNode(t, { metricsRegistry: registry, events: { purgeIntervalMs: 100, purgeBatchSize: 2, retentionDays: 30, maxFeedConsumers: 2 } })
const newTenant = tenantNames('feedlag')
const scim = scimCalls((tenant, method, path, body) => node.scim(tenant, method, path, body))

const superuser = new pg.Client({ connectionString: node.config.database.url })
await superuser.connect()
t.teardown(() => superuser.end())
await owner.takeOver(superuser)

const read = async (tenant: string, consumer: string, after?: string) => {
  const response = await node.app.inject({
    method: 'GET',
    url: `/admin/v1/changes?consumer=${consumer}&limit=1000${after === undefined ? '' : `&after=${after}`}`,
    headers: await node.identity(tenant, ['admin']),
  })
  if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${response.body}`)
  return response.json() as { events: { type: string }[]; nextCursor: string }
}
const metric = async (name: string): Promise<Map<string, number>> => {
  const values = (await registry.getSingleMetric(name)!.get()).values
  return new Map(values.map((v) => [String(v.labels.consumer ?? ''), v.value]))
}
const until = async (what: string, condition: () => Promise<boolean>): Promise<void> => {
  for (let attempt = 0; attempt < 60; attempt++) {
    if (await condition()) return
    await sleep(100)
  }
  throw new Error(`timed out waiting until ${what}`)
}

t.test('the retention purge runs as the row-security role and purges under an owner that is not a superuser', async (t) => {
  const tenant = newTenant()
  for (let i = 0; i < 5; i++) await scim.create(tenant, 'Users', { userName: `old${i}@example.com` })
  // Were the purge running as the login role (a superuser here), taking the grant away would not stop it.
  await superuser.query('REVOKE EXECUTE ON FUNCTION scimgate_purge_events(timestamptz, integer) FROM scimgate_app')
  await superuser.query("UPDATE events SET time = now() - interval '31 days' WHERE tenant_id = $1", [tenant])
  await sleep(1_000) // ten purge intervals
  t.equal((await read(tenant, 'audit')).events.length, 5, 'not purged while the row-security role may not call the function')
  await superuser.query('GRANT EXECUTE ON FUNCTION scimgate_purge_events(timestamptz, integer) TO scimgate_app')
  await until('purged', async () => (await read(tenant, 'audit')).events.length === 0)
  t.pass('purged in batches of two by the node, as the row-security role, under the non-superuser owner')
})

t.test('lag under the non-superuser owner; beyond the cap a consumer is not tracked but still reads', async (t) => {
  const tenant = newTenant()
  await scim.create(tenant, 'Users', { userName: 'a@example.com' })
  const first = await read(tenant, 'sync')
  await read(tenant, 'sync', first.nextCursor)
  await scim.create(tenant, 'Users', { userName: 'b@example.com' })
  await sleep(300)
  const lag = await metric('scimgate_event_feed_consumer_lag_seconds')
  t.ok((lag.get('tok-test/sync') ?? 0) >= 0.3, `the consumer lags behind the event it has not read (${lag.get('tok-test/sync')} s)`)
  t.equal(lag.get('tok-test/audit'), 0, 'the other tracked consumer (the first test) read up to the head of its tenant')

  const third = await read(tenant, 'third')
  t.equal(third.events.length, 2, 'a consumer beyond the cap reads as any other')
  t.notOk((await metric('scimgate_event_feed_consumer_lag_seconds')).has('tok-test/third'), 'but is not tracked')
  t.equal((await metric('scimgate_event_feed_untracked_reads_total')).get(''), 1, 'and is counted')
  t.equal((await metric('scimgate_event_retention_seconds')).get(''), 30 * 86_400)
})

t.test('a consumer idle for longer than the retention period is forgotten and frees its place', async (t) => {
  await superuser.query("UPDATE event_feed_positions SET read_at = now() - interval '31 days' WHERE consumer = 'tok-test/audit'")
  await superuser.query("UPDATE event_feed_consumers SET registered = now() - interval '31 days' WHERE consumer = 'tok-test/audit'")
  await until('forgotten', async () => !(await metric('scimgate_event_feed_consumer_lag_seconds')).has('tok-test/audit'))
  t.ok((await metric('scimgate_event_feed_consumer_lag_seconds')).has('tok-test/sync'), 'the active one stays')
  await read(newTenant(), 'third')
  t.ok((await metric('scimgate_event_feed_consumer_lag_seconds')).has('tok-test/third'), 'the freed place goes to the next new consumer')
})
