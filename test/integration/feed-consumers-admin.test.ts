// A team admin sees and forgets the change feed's consumers of their tenant
// through the gateway's admin API (forwarded to the region's node); another
// tenant's admin, an admin of the same tenant in another region and the
// product service itself cannot. A forgotten consumer leaves the lag metrics.
// A consumer whose cursor the retention purge passed is answered 410 through
// the gateway.
import pg from 'pg'
import t from 'tap'
import { startSystem } from '../helpers/system.ts'

const system = await startSystem(t, { regions: ['EU1', 'US1'], ops: true })
const eu1 = system.nodes.get('EU1')!
const credential = async (body: Record<string, string>): Promise<{ token: string; tokenId: string }> => {
  const response = await system.admin('POST', '/admin/v1/credentials', body)
  if (response.status !== 201) throw new Error(`${response.status} ${await response.text()}`)
  return (await response.json()) as { token: string; tokenId: string }
}
const service = await credential({ kind: 'access', region: 'EU1', label: 'directory sync' })
const acmeAdmin = await credential({ kind: 'admin', tenantId: 'acme', region: 'EU1' })
const betaAdmin = await credential({ kind: 'admin', tenantId: 'beta', region: 'EU1' })
const acmeUs1Admin = await credential({ kind: 'admin', tenantId: 'acme', region: 'US1' })

const call = async (bearer: string, method: string, path: string): Promise<{ status: number; body: unknown }> => {
  const response = await fetch(`${system.gateway.adminUrl}/admin/v1/regions/${path}`, { method, headers: { authorization: `Bearer ${bearer}` } })
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) }
}
const read = async (tenant: string, query: string): Promise<{ status: number; body: { nextCursor: string; detail?: string } }> =>
  (await call(service.token, 'GET', `EU1/tenants/${tenant}/changes?${query}`)) as { status: number; body: { nextCursor: string; detail?: string } }
const consumersOf = async (bearer: string, region: string, tenant: string) => {
  const response = await call(bearer, 'GET', `${region}/tenants/${tenant}/feed-consumers`)
  return { status: response.status, consumers: (response.body as { consumers?: { consumer: string; cursor: string; lastRead: string; lagSeconds: number; behindRetention: boolean }[] }).consumers }
}
const lagSeries = async (): Promise<string[]> =>
  (await (await fetch(`${eu1.opsUrl}/metrics`)).text())
    .split('\n')
    .filter((line) => line.startsWith('scimgate_event_feed_consumer_lag_seconds{'))
    .map((line) => /consumer="([^"]*)"/.exec(line)![1]!)

const tokens = new Map<string, string>()
const createUser = async (tenant: string, userName: string): Promise<void> => {
  const created = await system.request('eu1.localhost', 'POST', '/scim/v2/Users', { token: tokens.get(tenant)!, body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName } })
  if (created.status !== 201) throw new Error(`created ${created.status}`)
}
for (const tenant of ['acme', 'beta']) {
  tokens.set(tenant, (await system.createToken(tenant, 'EU1')).token)
  await createUser(tenant, `kim@${tenant}.example`)
  // The gateway relays token.created to the log later: waited for (by the operator, who is no tracked consumer), so the positions below stay at the head.
  for (let attempt = 0; ; attempt++) {
    const page = (await (await system.admin('GET', `/admin/v1/regions/EU1/tenants/${tenant}/changes`)).json()) as { events: { type: string }[] }
    if (page.events.some((e) => e.type === 'token.created')) break
    if (attempt === 100) throw new Error('token.created never arrived')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
const sync = `${service.tokenId}/sync`
const onlyAcme = `${service.tokenId}/acme-only`
const acmeCursor = (await read('acme', 'consumer=sync')).body.nextCursor
await read('acme', `consumer=sync&after=${acmeCursor}`)
await read('acme', 'consumer=acme-only')
await read('beta', 'consumer=sync')

t.test('a team admin lists its tenant’s consumers: position, last read, lag', async (t) => {
  const { status, consumers } = await consumersOf(acmeAdmin.token, 'EU1', 'acme')
  t.equal(status, 200)
  t.same(
    consumers?.map((c) => c.consumer),
    [onlyAcme, sync],
    'both consumers of acme, by name',
  )
  const syncRow = consumers!.find((c) => c.consumer === sync)!
  t.equal(syncRow.cursor, acmeCursor, 'its position: the cursor it last read from')
  t.equal(syncRow.lagSeconds, 0, 'caught up')
  t.equal(syncRow.behindRetention, false)
  t.ok(Math.abs(Date.parse(syncRow.lastRead) - Date.now()) < 60_000, 'last read: just now')
  t.equal(consumers!.find((c) => c.consumer === onlyAcme)!.lagSeconds > 0, true, 'the one that read a page and never came back lags')
})

t.test('tenant and region bindings and the permission hold on every path', async (t) => {
  const encoded = encodeURIComponent(sync)
  t.equal((await consumersOf(betaAdmin.token, 'EU1', 'acme')).status, 403, 'beta’s admin cannot list acme’s')
  t.equal((await consumersOf(acmeAdmin.token, 'EU1', 'beta')).status, 403, 'nor acme’s admin beta’s')
  t.equal((await consumersOf(acmeUs1Admin.token, 'EU1', 'acme')).status, 403, 'acme’s admin of US1 cannot list acme’s in EU1')
  t.equal((await consumersOf(service.token, 'EU1', 'acme')).status, 403, 'the product service (access:read) cannot list them')
  t.equal((await call(betaAdmin.token, 'DELETE', `EU1/tenants/acme/feed-consumers/${encoded}`)).status, 403, 'beta’s admin cannot forget acme’s')
  t.equal((await call(acmeUs1Admin.token, 'DELETE', `EU1/tenants/acme/feed-consumers/${encoded}`)).status, 403, 'nor acme’s admin of another region')
  t.equal((await call(service.token, 'DELETE', `EU1/tenants/acme/feed-consumers/${encoded}`)).status, 403, 'nor the service')
  t.same((await consumersOf(acmeAdmin.token, 'EU1', 'acme')).consumers?.length, 2, 'nothing was forgotten')
  const us1 = await consumersOf(acmeUs1Admin.token, 'US1', 'acme')
  t.equal(us1.status, 200)
  t.same(us1.consumers, [], 'US1’s node tracks nobody in acme: EU1’s reads stay in EU1')
})

t.test('forgetting a consumer: gone from the tenant, the other tenant keeps it; gone from the lag metric once it reads no tenant', async (t) => {
  t.ok((await lagSeries()).includes(onlyAcme), 'the lag metric reports the acme-only consumer')
  const forgotten = await call(acmeAdmin.token, 'DELETE', `EU1/tenants/acme/feed-consumers/${encodeURIComponent(onlyAcme)}`)
  t.equal(forgotten.status, 204)
  t.notOk((await lagSeries()).includes(onlyAcme), 'no longer reported')
  t.equal((await call(acmeAdmin.token, 'DELETE', `EU1/tenants/acme/feed-consumers/${encodeURIComponent(onlyAcme)}`)).status, 404, 'forgetting it again: not tracked')

  t.equal((await call(acmeAdmin.token, 'DELETE', `EU1/tenants/acme/feed-consumers/${encodeURIComponent(sync)}`)).status, 204)
  t.same((await consumersOf(acmeAdmin.token, 'EU1', 'acme')).consumers, [], 'acme tracks nobody now')
  t.same(
    (await consumersOf(betaAdmin.token, 'EU1', 'beta')).consumers?.map((c) => c.consumer),
    [sync],
    'beta still tracks the consumer forgotten in acme',
  )
  t.ok((await lagSeries()).includes(sync), 'which the metric still reports (for beta)')
})

t.test('a cursor the retention purge passed is refused with 410 through the gateway', async (t) => {
  await createUser('acme', 'lee@acme.example') // after acmeCursor: purged before that cursor read it
  const db = new pg.Client({ connectionString: eu1.databaseUrl })
  await db.connect()
  t.teardown(() => db.end())
  // Everything acme has logged so far ages past retention; the node's own purge function deletes it.
  await db.query("UPDATE events SET time = now() - interval '400 days' WHERE tenant_id = 'acme'")
  await db.query('SELECT scimgate_purge_events(now(), 1000)')
  const refused = await read('acme', `after=${acmeCursor}`)
  t.equal(refused.status, 410)
  t.match(refused.body, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '410', detail: /retention purge.*from=now/s })
  const head = await read('acme', 'from=now')
  t.equal(head.status, 200, 'the head to resume from after a resync')
  t.equal((await read('acme', `after=${head.body.nextCursor}`)).status, 200)
  t.equal((await read('beta', `after=${acmeCursor}`)).status, 200, 'beta was not purged: its reads go on')
})
