// A product service reads a tenant's change feed through the gateway's admin
// API with its access credential; the node's metrics show how far behind it
// is: 0 while caught up, growing while it stops reading and events arrive,
// 0 again once it has caught up.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { startSystem } from '../helpers/system.ts'

t.test('a consumer that stops reading lags more and more; catching up brings it back to 0', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'], ops: true })
  const node = system.nodes.get('EU1')!
  const created = await system.admin('POST', '/admin/v1/credentials', { kind: 'access', region: 'EU1', label: 'sign-in service' })
  t.equal(created.status, 201)
  const credential = (await created.json()) as { token: string; tokenId: string }
  const { token } = await system.createToken('acme', 'EU1')
  const consumer = `${credential.tokenId}/directory-sync`

  const createUser = async (userName: string): Promise<void> => {
    const response = await system.request('eu1.localhost', 'POST', '/scim/v2/Users', { token, body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName } })
    t.equal(response.status, 201, `created ${userName}`)
  }
  const read = async (cursor: string | undefined, query = 'consumer=directory-sync'): Promise<{ status: number; body: { events: unknown[]; nextCursor: string } }> => {
    const response = await fetch(`${system.gateway.adminUrl}/admin/v1/regions/EU1/tenants/acme/changes?${query}${cursor === undefined ? '' : `&after=${cursor}`}`, {
      headers: { authorization: `Bearer ${credential.token}` },
    })
    return { status: response.status, body: (await response.json()) as { events: unknown[]; nextCursor: string } }
  }
  /** The consumer's samples in one scrape of the node's ops listener. */
  const scrape = async (): Promise<{ lag: number | undefined; lastRead: number | undefined; text: string }> => {
    const text = await (await fetch(`${node.opsUrl}/metrics`)).text()
    const sample = (name: string): number | undefined => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`consumer="${consumer}"`) && l.includes('region="EU1"'))
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
    }
    return { lag: sample('scimgate_event_feed_consumer_lag_seconds'), lastRead: sample('scimgate_event_feed_consumer_last_read_timestamp_seconds'), text }
  }

  t.equal((await scrape()).lag, undefined, 'nobody has read yet: no series')
  await createUser('first@example.com')
  const first = await read(undefined)
  t.equal(first.status, 200)
  t.equal(first.body.events.length, 2, 'token.created arrives by the relay later; the user and its own events are here')
  const caughtUp = await read(first.body.nextCursor)
  t.same(caughtUp.body.events, [])
  const atHead = await scrape()
  t.equal(atHead.lag, 0, 'caught up: no lag')
  t.ok(atHead.lastRead !== undefined && Math.abs(atHead.lastRead - Date.now() / 1000) < 10, 'last read: just now')

  // The consumer stops reading; events keep arriving.
  await createUser('second@example.com')
  await sleep(1_100)
  const behind = await scrape()
  t.ok(behind.lag !== undefined && behind.lag >= 1, `lagging by the age of its oldest unread event (${behind.lag} s)`)
  await sleep(1_100)
  await createUser('third@example.com')
  const further = await scrape()
  t.ok(further.lag !== undefined && behind.lag !== undefined && further.lag >= behind.lag + 1, `still growing (${further.lag} s)`)
  t.equal(further.lastRead, atHead.lastRead, 'no read since')

  // It catches up: reads what it missed, then from the cursor after it.
  let cursor = caughtUp.body.nextCursor
  let missed = 0
  for (;;) {
    const page = await read(cursor)
    missed += page.body.events.length
    cursor = page.body.nextCursor
    if (page.body.events.length === 0) break
  }
  t.ok(missed >= 2, 'the two users it missed (and any token event)')
  t.equal((await scrape()).lag, 0, 'caught up again: 0')

  t.test('admins (the console, `scimgate events --follow`) are consumers only when they name themselves one', async (t) => {
    t.equal((await system.admin('GET', '/admin/v1/regions/EU1/tenants/acme/changes')).status, 200)
    t.notMatch((await scrape()).text, /consumer="operator/, 'the operator following the feed is not tracked')
    t.equal((await system.admin('GET', '/admin/v1/regions/EU1/tenants/acme/changes?consumer=audit-export')).status, 200)
    t.match((await scrape()).text, /scimgate_event_feed_consumer_lag_seconds\{region="EU1",consumer="operator\/audit-export"\}/, 'unless it names a consumer')
  })

  t.test('the consumer name is checked; an access credential without one is a consumer of its own', async (t) => {
    const bad = await read(undefined, 'consumer=no%20spaces')
    t.equal(bad.status, 400)
    t.match(bad.body, { scimType: 'invalidValue', detail: /consumer must match/ })
    t.equal((await read(cursor, '')).status, 200)
    t.match((await scrape()).text, new RegExp(`scimgate_event_feed_consumer_lag_seconds\\{region="EU1",consumer="${credential.tokenId}"\\} 0`))
  })
})
