// Access decisions, the role catalog and the event log on one region node:
// decisions from the node's own database, catalog rules, every change
// recorded in its own transaction, the feed woken by LISTEN/NOTIFY.
import t from 'tap'
import pg from 'pg'
import { startTestNode } from '../../helpers/region-node.ts'
import { patchRequest, scimCalls, tenantNames } from '../../helpers/scim-calls.ts'

const ACCESS_SCHEMA = 'urn:scimgate:params:scim:schemas:extension:access:2.0:Group'

const node = await startTestNode(t)
const newTenant = tenantNames('events')
const scim = scimCalls((tenant, method, path, body) => node.scim(tenant, method, path, body))

async function admin(tenant: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  return node.app.inject({
    method: method as 'GET',
    url: `/admin/v1${url}`,
    headers: { ...(await node.identity(tenant, ['admin'])), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  })
}

async function json(tenant: string, method: string, url: string, body?: unknown) {
  const response = await admin(tenant, method, url, body)
  if (response.statusCode !== 200) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`)
  return response.json()
}

type Event = { id: string; cursor: string; type: string; resourceType: string; resourceId: string; actor: Record<string, unknown>; clientKind: string; requestId: string; data: Record<string, unknown> | null }

/** An identity provider whose token may set group roles (scope groups:access:write). */
async function idp(tenant: string, method: string, path: string, body: unknown) {
  return node.app.inject({
    method: method as 'POST',
    url: `/scim/v2/${path}`,
    headers: { ...(await node.identity(tenant, ['scim', 'groups:access:write'])), 'content-type': 'application/scim+json' },
    payload: JSON.stringify(body),
  })
}

const allChanges = async (tenant: string): Promise<Event[]> => (await json(tenant, 'GET', '/changes?limit=1000')).events

t.test('access decision: roles are the union of the groups, scope the union of Exact values; deactivation denies, reactivation restores', async (t) => {
  const tenant = newTenant()
  const kim = await scim.create(tenant, 'Users', { userName: 'Kim@Example.com', externalId: 'ext-kim' })
  const a = await scim.create(tenant, 'Groups', { displayName: 'team a', members: [{ value: kim }] })
  const b = await scim.create(tenant, 'Groups', { displayName: 'team b', members: [{ value: kim }] })
  await scim.create(tenant, 'Groups', { displayName: 'no roles', members: [{ value: kim }] })
  t.equal((await admin(tenant, 'PUT', `/groups/${a}/access`, { roles: ['Admin'], scope: { type: 'Exact', values: ['team-a'] } })).statusCode, 200)
  t.equal((await admin(tenant, 'PUT', `/groups/${b}/access`, { roles: ['Read Only', 'Admin'], scope: { type: 'Exact', values: ['team-b'] } })).statusCode, 200)

  const decision = await json(tenant, 'GET', '/access?userName=kIM%40example.com')
  t.same(decision.allowed, true)
  t.equal(decision.reason, 'active')
  t.equal(decision.userId, kim)
  t.same(decision.roles, ['Admin', 'Read Only'])
  t.same(decision.scope, { type: 'Exact', values: ['team-a', 'team-b'] })
  t.same(decision.groups.map((g: { displayName: string }) => g.displayName), ['no roles', 'team a', 'team b'])
  t.same(await json(tenant, 'GET', `/access?externalId=ext-kim`), decision, 'by externalId')
  t.same(await json(tenant, 'GET', `/access?id=${kim}`), decision, 'by id')

  t.equal((await node.scim(tenant, 'PATCH', `Users/${kim}`, patchRequest({ op: 'replace', path: 'active', value: false }))).statusCode, 200)
  const denied = await json(tenant, 'GET', `/access?id=${kim}`)
  t.match(denied, { allowed: false, reason: 'deactivated', userId: kim, roles: [] })
  t.equal(denied.groups.length, 3, 'memberships are kept while deactivated')
  t.equal((await node.scim(tenant, 'PATCH', `Users/${kim}`, patchRequest({ op: 'replace', path: 'active', value: true }))).statusCode, 200)
  t.same(await json(tenant, 'GET', `/access?id=${kim}`), decision, 'reactivation restores exactly the same roles and scope')

  // A group granting roles with no scope opens the whole team
  const c = await scim.create(tenant, 'Groups', { displayName: 'everything', members: [{ value: kim }] })
  t.equal((await admin(tenant, 'PUT', `/groups/${c}/access`, { roles: ['User'] })).statusCode, 200)
  t.match(await json(tenant, 'GET', `/access?id=${kim}`), { roles: ['Admin', 'Read Only', 'User'], scope: null })
})

t.test('unknown users, default roles, bad questions', async (t) => {
  const tenant = newTenant()
  t.same(await json(tenant, 'GET', '/access?userName=nobody%40example.com'), { allowed: false, reason: 'unknown_user', roles: [], scope: null, groups: [] })
  t.same((await json(tenant, 'GET', '/access?id=not-a-uuid')).reason, 'unknown_user')
  const lone = await scim.create(tenant, 'Users', { userName: 'lone@example.com' })
  t.match(await json(tenant, 'GET', `/access?id=${lone}`), { allowed: true, roles: [], scope: null }, 'defaultRoles is empty by default')
  t.equal((await admin(tenant, 'PUT', '/roles', { roles: ['Admin', 'User', 'Viewer'], defaultRoles: ['Viewer'] })).statusCode, 200)
  t.match(await json(tenant, 'GET', `/access?id=${lone}`), { allowed: true, roles: ['Viewer'], scope: null }, 'active users in no group get the default roles')
  for (const query of ['', '?userName=a&id=b', '?userName=a&userName=b']) {
    const response = await admin(tenant, 'GET', `/access${query}`)
    t.equal(response.statusCode, 400, query)
    t.match(response.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], scimType: 'invalidValue' })
  }
  const scimOnly = await node.app.inject({ method: 'GET', url: '/admin/v1/access?userName=a', headers: await node.identity(tenant) })
  t.equal(scimOnly.statusCode, 403, 'a provisioning identity cannot ask')
})

t.test('role catalog: seeded, replaced, guarded, and shown in /Schemas', async (t) => {
  const tenant = newTenant()
  t.same(await json(tenant, 'GET', '/roles'), { roles: ['Admin', 'User', 'Read Only', 'Data Analyst', 'Interface User'], defaultRoles: [] })
  const group = await scim.create(tenant, 'Groups', { displayName: 'analysts' })
  const unknown = await admin(tenant, 'PUT', `/groups/${group}/access`, { roles: ['Wizard'] })
  t.equal(unknown.statusCode, 400)
  t.equal(unknown.json().scimType, 'invalidValue')
  t.match(unknown.json().detail, /"Wizard" is not in the tenant's role catalog; valid roles: "Admin", "User", "Read Only", "Data Analyst", "Interface User"/)
  const viaIdp = await idp(tenant, 'PATCH', `Groups/${group}`, patchRequest({ op: 'add', path: `${ACCESS_SCHEMA}:roles`, value: [{ value: 'Wizard' }] }))
  t.equal(viaIdp.statusCode, 400, 'an identity provider is held to the catalog too')
  t.equal(viaIdp.json().scimType, 'invalidValue')
  const viaPost = await idp(tenant, 'POST', 'Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', ACCESS_SCHEMA], displayName: 'x', [ACCESS_SCHEMA]: { roles: [{ value: 'Wizard' }] } })
  t.equal(viaPost.statusCode, 400)
  t.equal((await idp(tenant, 'PATCH', `Groups/${group}`, patchRequest({ op: 'add', path: `${ACCESS_SCHEMA}:roles`, value: [{ value: 'Data Analyst' }] }))).statusCode, 204)

  const removing = await admin(tenant, 'PUT', '/roles', { roles: ['Admin', 'User'] })
  t.equal(removing.statusCode, 409)
  t.match(removing.json().detail, new RegExp(`"analysts" \\(${group}\\) grants "Data Analyst"`))
  t.same((await json(tenant, 'GET', '/roles')).roles.length, 5, 'nothing changed')
  const added = await json(tenant, 'PUT', '/roles', { roles: ['Admin', 'User', 'Read Only', 'Data Analyst', 'Interface User', 'Wizard'] })
  t.same(added.roles.at(-1), 'Wizard')
  t.equal((await admin(tenant, 'PUT', `/groups/${group}/access`, { roles: ['Wizard'] })).statusCode, 200)

  const schema = (await node.scim(tenant, 'GET', `Schemas/${ACCESS_SCHEMA}`)).json()
  const value = schema.attributes.find((a: { name: string }) => a.name === 'roles').subAttributes.find((a: { name: string }) => a.name === 'value')
  t.same(value.canonicalValues, ['Admin', 'User', 'Read Only', 'Data Analyst', 'Interface User', 'Wizard'])
  const other = (await node.scim(newTenant(), 'GET', `Schemas/${ACCESS_SCHEMA}`)).json()
  t.same(other.attributes.find((a: { name: string }) => a.name === 'roles').subAttributes.find((a: { name: string }) => a.name === 'value').canonicalValues.length, 5, "another tenant sees its own catalog")

  for (const bad of [{}, { roles: 'Admin' }, { roles: [''] }, { roles: ['A', 'A'] }, { roles: ['A'], defaultRoles: ['B'] }, { roles: ['A'], extra: 1 }, []]) {
    const response = await admin(tenant, 'PUT', '/roles', bad)
    t.equal(response.statusCode, 400, JSON.stringify(bad))
  }
})

t.test('every change is an event, in order, with actor, client kind and request id; never a password', async (t) => {
  const tenant = newTenant()
  const headers = { 'user-agent': 'ignored', 'x-scimgate-client-kind': 'okta', 'x-request-id': 'req-123' }
  const created = await node.scim(tenant, 'POST', 'Users', { userName: 'ann@example.com', password: 'hunter2', name: { givenName: 'Ann' } }, headers)
  const ann = created.json().id
  const bob = await scim.create(tenant, 'Users', { userName: 'bob@example.com' })
  await node.scim(tenant, 'PATCH', `Users/${ann}`, patchRequest({ op: 'replace', value: { 'name.familyName': 'Lee', password: 'secret2', title: 'Boss' } }))
  await node.scim(tenant, 'PATCH', `Users/${ann}`, patchRequest({ op: 'replace', path: 'active', value: false }))
  await node.scim(tenant, 'PATCH', `Users/${ann}`, patchRequest({ op: 'replace', path: 'active', value: true }))
  const group = await scim.create(tenant, 'Groups', { displayName: 'g1', members: [{ value: ann }] })
  await node.scim(tenant, 'PATCH', `Groups/${group}`, patchRequest({ op: 'add', path: 'members', value: [{ value: bob }] }, { op: 'replace', path: 'displayName', value: 'g2' }))
  await node.scim(tenant, 'PATCH', `Groups/${group}`, patchRequest({ op: 'remove', path: `members[value eq "${ann}"]` }))
  await admin(tenant, 'PUT', `/groups/${group}/access`, { roles: ['User'] })
  await admin(tenant, 'PUT', '/roles', { roles: ['Admin', 'User', 'Read Only', 'Data Analyst', 'Interface User', 'Ops'] })
  await node.scim(tenant, 'DELETE', `Groups/${group}`)
  await node.scim(tenant, 'DELETE', `Users/${bob}`)

  const events = await allChanges(tenant)
  t.same(
    events.map((e) => `${e.type} ${e.resourceType}`),
    [
      'user.created User',
      'user.created User',
      'user.updated User',
      'user.deactivated User',
      'user.reactivated User',
      'group.created Group',
      'membership.added Group',
      'membership.added Group',
      'group.renamed Group',
      'membership.removed Group',
      'group.access_changed Group',
      'role_catalog.changed Tenant',
      'group.deleted Group',
      'user.deleted User',
    ],
  )
  t.match(events[0], { resourceId: ann, actor: { type: 'token', id: 'tok-test' }, clientKind: 'okta', requestId: 'req-123' })
  t.same(events[2]!.data, { paths: ['name.familyName', 'title'] }, 'changed paths, never the password')
  t.notMatch(JSON.stringify(events), /hunter2|secret2|password/)
  t.match(events[7], { data: { member: { value: bob, type: 'User' } } })
  t.match(events[10], { actor: { type: 'admin' }, data: { roles: ['User'] } })
  t.equal(new Set(events.map((e) => e.id)).size, events.length, 'ids are unique')

  // The audit trail: newest first, filtered, paged
  const audit = await json(tenant, 'GET', `/events?resourceId=${ann}&limit=2`)
  t.same(audit.events.map((e: Event) => e.type), ['user.reactivated', 'user.deactivated'])
  const next = await json(tenant, 'GET', `/events?resourceId=${ann}&limit=2&cursor=${audit.nextCursor}`)
  t.same(next.events.map((e: Event) => e.type), ['user.updated', 'user.created'])
  t.equal(next.nextCursor, null, 'the last page says so')
  t.same((await json(tenant, 'GET', '/events?type=membership.added')).events.length, 2)
  t.same((await json(tenant, 'GET', '/events?actor=admin')).events.map((e: Event) => e.type), ['role_catalog.changed', 'group.access_changed'])
  t.same((await json(tenant, 'GET', '/events?until=2000-01-01')).events, [])
  t.equal((await json(tenant, 'GET', `/events?since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`)).events.length, events.length)
  for (const bad of ['type=nope', 'since=yesterday', 'cursor=abc', 'limit=0', 'limit=5000']) t.equal((await admin(tenant, 'GET', `/events?${bad}`)).statusCode, 400, bad)
  t.equal((await admin(tenant, 'GET', '/changes?after=abc')).statusCode, 400)
  t.equal((await admin(tenant, 'GET', '/changes?wait=31')).statusCode, 400)

  // Another tenant of the same node sees none of it
  t.same(await allChanges(newTenant()), [])
})

t.test('a failed write records nothing; a membership PATCH of many users is one event per member', async (t) => {
  const tenant = newTenant()
  const ids = []
  for (let i = 0; i < 30; i++) ids.push(await scim.create(tenant, 'Users', { userName: `m${i}@example.com` }))
  const group = await scim.create(tenant, 'Groups', { displayName: 'big' })
  const before = (await allChanges(tenant)).length
  const failing = await node.scim(tenant, 'PATCH', `Groups/${group}`, patchRequest({ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }, { op: 'replace', path: 'displayName', value: 42 }))
  t.equal(failing.statusCode, 400)
  t.equal((await allChanges(tenant)).length, before, 'the rolled-back PATCH left no event')
  t.equal((await node.scim(tenant, 'PATCH', `Groups/${group}`, patchRequest({ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }))).statusCode, 204)
  const added = (await allChanges(tenant)).slice(before)
  t.equal(added.length, 30)
  t.same(new Set(added.map((e) => (e.data as { member: { value: string } }).member.value)), new Set(ids))
})

t.test('the feed: cursors resume, wait returns as soon as a deactivation commits', async (t) => {
  const tenant = newTenant()
  const kim = await scim.create(tenant, 'Users', { userName: 'kim@example.com' })
  const first = await json(tenant, 'GET', '/changes')
  t.equal(first.events.length, 1)
  const empty = await json(tenant, 'GET', `/changes?after=${first.nextCursor}`)
  t.same(empty, { events: [], nextCursor: first.nextCursor })

  const started = Date.now()
  const waiting = json(tenant, 'GET', `/changes?after=${first.nextCursor}&wait=20`)
  await new Promise((resolve) => setTimeout(resolve, 200))
  await node.scim(tenant, 'PATCH', `Users/${kim}`, patchRequest({ op: 'replace', path: 'active', value: false }))
  const woke = await waiting
  const elapsed = Date.now() - started
  t.same(woke.events.map((e: Event) => e.type), ['user.deactivated'])
  t.ok(elapsed < 5_000, `woken by the commit, not the 20 s timeout (${elapsed} ms)`)

  const timedOut = await json(tenant, 'GET', `/changes?after=${woke.nextCursor}&wait=1`)
  t.same(timedOut.events, [])
})

t.test('a transaction that commits late never makes the feed skip its event', async (t) => {
  const tenant = newTenant()
  await scim.create(tenant, 'Users', { userName: 'first@example.com' })
  const start = await json(tenant, 'GET', '/changes')
  // A writer of the tenant holds its share of the log lock (as every node write does) and has drawn a seq…
  const slow = new pg.Client({ connectionString: node.config.database.url })
  await slow.connect()
  t.teardown(() => slow.end())
  await slow.query('BEGIN')
  await slow.query("SELECT set_config('scimgate.tenant_id', $1, true)", [tenant])
  await slow.query(
    `WITH w AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(${0x5c1e}, hashtext($1)))
     INSERT INTO events (tenant_id, type, resource_type, resource_id, actor_type) SELECT $1, 'user.updated', 'User', 'late', 'system' FROM w`,
    [tenant],
  )
  // …while a later write commits first.
  const reading = json(tenant, 'GET', `/changes?after=${start.nextCursor}`)
  const settled = await Promise.race([reading.then(() => 'read'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 300))])
  t.equal(settled, 'waiting', 'the reader waits for the writer in flight')
  await slow.query('COMMIT')
  const page = await reading
  t.same(page.events.map((e: Event) => e.resourceId), ['late'])
})

t.test('token events from the gateway are stored once per id', async (t) => {
  const tenant = newTenant()
  const event = { id: 'tev-1', time: new Date().toISOString(), type: 'token.created', resourceId: 'tok_abc', actor: { type: 'admin' }, clientKind: 'other' }
  t.same(await json(tenant, 'POST', '/internal/events', { events: [event] }), { received: 1, stored: 1 })
  t.same(await json(tenant, 'POST', '/internal/events', { events: [event, { ...event, id: 'tev-2', type: 'token.revoked' }] }), { received: 2, stored: 1 })
  t.same((await allChanges(tenant)).map((e) => `${e.type} ${e.resourceType} ${e.resourceId}`), ['token.created Token tok_abc', 'token.revoked Token tok_abc'])
  t.equal((await admin(tenant, 'POST', '/internal/events', { events: [{ ...event, type: 'user.created' }] })).statusCode, 400)
  const asScim = await node.app.inject({ method: 'POST', url: '/admin/v1/internal/events', headers: { ...(await node.identity(tenant)), 'content-type': 'application/json' }, payload: { events: [event] } })
  t.equal(asScim.statusCode, 403)
})

t.test('retention purges only old events, across tenants, through the narrow function', async (t) => {
  const owner = new pg.Client({ connectionString: node.config.database.url })
  await owner.connect()
  t.teardown(() => owner.end())
  const a = newTenant()
  const b = newTenant()
  await scim.create(a, 'Users', { userName: 'old@example.com' })
  await scim.create(b, 'Users', { userName: 'old@example.com' })
  await scim.create(b, 'Users', { userName: 'new@example.com' })
  await owner.query("UPDATE events SET time = now() - interval '100 days' WHERE tenant_id = ANY($1) AND seq IN (SELECT min(seq) FROM events WHERE tenant_id = ANY($1) GROUP BY tenant_id)", [[a, b]])
  const app = await node.app.database.pool.connect()
  // As the node's requests run: the row-security role is set per transaction.
  const asNodeRole = async <R extends pg.QueryResultRow>(sql: string): Promise<pg.QueryResult<R>> => {
    await app.query('BEGIN')
    try {
      await app.query("SELECT set_config('role', $1, true)", [node.config.database.rowSecurityRole ?? 'scimgate_app'])
      const result = await app.query<R>(sql)
      await app.query('COMMIT')
      return result
    } catch (error) {
      await app.query('ROLLBACK')
      throw error
    }
  }
  try {
    const refused = await asNodeRole('DELETE FROM events').catch((error: Error) => error)
    t.match(refused, /permission denied/, 'the node role cannot delete events itself')
    const { rows } = await asNodeRole<{ purged: number }>("SELECT scimgate_purge_events(now() - interval '90 days', 1) AS purged")
    t.equal(rows[0]!.purged, 1, 'one small batch')
    await asNodeRole("SELECT scimgate_purge_events(now() - interval '90 days', 100)")
    const recent = await asNodeRole<{ purged: number }>("SELECT scimgate_purge_events(now() + interval '1 day', 100) AS purged")
    t.equal(recent.rows[0]!.purged, 0, 'never anything younger than a day, whatever the cutoff')
  } finally {
    app.release()
  }
  t.equal((await allChanges(a)).length, 0)
  t.equal((await allChanges(b)).length, 1)
})

t.test('regression: the feed orders by position as a number, also across a change of digit count', async (t) => {
  const owner = new pg.Client({ connectionString: node.config.database.url })
  await owner.connect()
  t.teardown(() => owner.end())
  const { rows } = await owner.query<{ next: string }>("SELECT (max(seq) + 1)::text AS next FROM events")
  const next = BigInt(rows[0]?.next ?? '1')
  let boundary = 10n
  while (boundary <= next + 5n) boundary *= 10n
  await owner.query(`ALTER TABLE events ALTER COLUMN seq RESTART WITH ${boundary - 3n}`)
  const tenant = newTenant()
  const created = []
  for (let i = 0; i < 6; i++) created.push(await scim.create(tenant, 'Users', { userName: `d${i}@example.com` }))
  t.same((await allChanges(tenant)).map((e) => e.resourceId), created)
  t.same((await json(tenant, 'GET', '/events')).events.map((e: Event) => e.resourceId), [...created].reverse())
})

t.test('the node purges old events by itself, and a long poll ends when the node shuts down', async (t) => {
  const second = await startTestNode(t, { databaseUrl: node.config.database.url, events: { purgeIntervalMs: 100, purgeBatchSize: 2, retentionDays: 30 } })
  const tenant = newTenant()
  for (let i = 0; i < 5; i++) await scim.create(tenant, 'Users', { userName: `old${i}@example.com` })
  const owner = new pg.Client({ connectionString: node.config.database.url })
  await owner.connect()
  t.teardown(() => owner.end())
  await owner.query("UPDATE events SET time = now() - interval '31 days' WHERE tenant_id = $1", [tenant])
  for (let attempt = 0; attempt < 50 && (await allChanges(tenant)).length > 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(await allChanges(tenant), [], 'purged in batches of two')

  const waiting = second.app.inject({ method: 'GET', url: '/admin/v1/changes?wait=25', headers: await second.identity(newTenant(), ['admin']) })
  await new Promise((resolve) => setTimeout(resolve, 200))
  const started = Date.now()
  await second.app.close()
  const response = await waiting
  t.equal(response.statusCode, 200)
  t.same(response.json().events, [])
  t.ok(Date.now() - started < 3_000, 'the waiting request did not hold the shutdown')
})
