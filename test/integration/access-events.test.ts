// Access decisions and the event log through the gateway, in two regions:
// nothing of EU1 appears in US1, nothing of one tenant in another's, token
// events reach the token's region, a waiting consumer sees a deactivation
// within one second.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { startSystem } from '../helpers/system.ts'

const HOSTS = { EU1: 'eu1.localhost', US1: 'us1.localhost' } as const
const OKTA = { 'user-agent': 'Okta SCIM Client 1.0.0' }
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

type Event = { id: string; type: string; resourceType: string; resourceId: string; actor: { type: string; id?: string; label?: string }; clientKind: string; requestId: string | null }

t.test('access, roles, feed and audit through the admin API, region by region', async (t) => {
  const system = await startSystem(t, { regions: ['EU1', 'US1'] })
  const tenantPath = (region: string, tenant: string) => `/admin/v1/regions/${region}/tenants/${tenant}`
  const adminJson = async (method: string, path: string, body?: unknown) => {
    const response = await system.admin(method, path, body)
    const text = await response.text()
    if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${text}`)
    return JSON.parse(text)
  }
  const changes = async (region: string, tenant: string, query = ''): Promise<{ events: Event[]; nextCursor: string }> => adminJson('GET', `${tenantPath(region, tenant)}/changes?limit=1000${query}`)
  /** Token events arrive through the gateway's relay, about a second after the change. */
  const eventually = async (region: string, tenant: string, type: string): Promise<Event[]> => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const events = (await changes(region, tenant)).events
      if (events.some((e) => e.type === type)) return events
      await sleep(100)
    }
    throw new Error(`no ${type} event in ${region}/${tenant}`)
  }

  const eu = await system.admin('POST', '/admin/v1/tokens', { tenantId: 'acme', region: 'EU1', label: 'okta prod' })
  const { token, tokenId } = (await eu.json()) as { token: string; tokenId: string }
  const usToken = await system.createToken('acme', 'US1')
  const globexToken = await system.createToken('globex', 'EU1')

  const created = await system.request(HOSTS.EU1, 'POST', '/scim/v2/Users', { token, headers: OKTA, body: { userName: 'kim@example.com' } })
  t.equal(created.status, 201)
  const kim = created.json().id as string
  const group = await system.request(HOSTS.EU1, 'POST', '/scim/v2/Groups', { token, headers: OKTA, body: { displayName: 'admins', members: [{ value: kim }] } })
  const groupId = group.json().id as string
  t.equal((await system.admin('PUT', `/admin/v1/regions/EU1/tenants/acme/groups/${groupId}/access`, { roles: ['Admin'], scope: { type: 'Exact', values: ['team-a'] } })).status, 200)
  await system.request(HOSTS.US1, 'POST', '/scim/v2/Users', { token: usToken.token, body: { userName: 'kim@example.com' } })

  t.test('the decision is answered by the region of the tenant', async (t) => {
    const decision = await adminJson('GET', `${tenantPath('EU1', 'acme')}/access?userName=KIM%40example.com`)
    t.match(decision, { allowed: true, reason: 'active', userId: kim, roles: ['Admin'], scope: { type: 'Exact', values: ['team-a'] }, groups: [{ id: groupId, displayName: 'admins' }] })
    const us = await adminJson('GET', `${tenantPath('US1', 'acme')}/access?userName=kim%40example.com`)
    t.match(us, { allowed: true, roles: [], groups: [] }, "US1's kim is another user, in no group")
    t.not(us.userId, kim)
    t.match(await adminJson('GET', `${tenantPath('EU1', 'globex')}/access?userName=kim%40example.com`), { allowed: false, reason: 'unknown_user' }, 'another tenant does not know kim')
    const unknownRegion = await system.admin('GET', `${tenantPath('XX9', 'acme')}/access?userName=a`)
    t.equal(unknownRegion.status, 400)
    t.match(await unknownRegion.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], scimType: 'invalidValue' })
    t.equal((await system.admin('GET', `${tenantPath('EU1', 'bad%20tenant')}/access?userName=a`)).status, 400)
    const anonymous = await fetch(`${system.gateway.adminUrl}${tenantPath('EU1', 'acme')}/access?userName=a`)
    t.equal(anonymous.status, 401)
  })

  t.test('roles are per tenant and region', async (t) => {
    t.equal((await adminJson('GET', `${tenantPath('EU1', 'acme')}/roles`)).roles.length, 5)
    const removing = await system.admin('PUT', `${tenantPath('EU1', 'acme')}/roles`, { roles: ['User'] })
    t.equal(removing.status, 409)
    t.match((await removing.json()).detail, /"admins" .* grants "Admin"/)
    t.same(await adminJson('PUT', `${tenantPath('US1', 'acme')}/roles`, { roles: ['User'] }), { roles: ['User'], defaultRoles: [] }, "US1's acme has no group granting Admin")
    t.equal((await adminJson('GET', `${tenantPath('EU1', 'acme')}/roles`)).roles.length, 5, 'EU1 untouched')
  })

  t.test('events carry the token, its label, the client kind and the request id; they stay in their region and tenant', async (t) => {
    const eu1 = await eventually('EU1', 'acme', 'token.created')
    const userCreated = eu1.find((e) => e.type === 'user.created')!
    t.match(userCreated, { resourceId: kim, actor: { type: 'token', id: tokenId, label: 'okta prod' }, clientKind: 'okta' })
    t.match(userCreated.requestId, /\S/)
    t.match(eu1.find((e) => e.type === 'group.access_changed'), { actor: { type: 'admin' } })
    t.match(eu1.find((e) => e.type === 'token.created'), { resourceType: 'Token', resourceId: tokenId, actor: { type: 'admin' } })

    const us1 = await eventually('US1', 'acme', 'role_catalog.changed')
    t.notOk(us1.some((e) => e.resourceId === kim || e.resourceId === groupId || e.resourceId === tokenId), 'no EU1 event in US1')
    t.ok(us1.some((e) => e.type === 'token.created' && e.resourceId === usToken.tokenId), "US1's own token event is there")
    t.notOk(eu1.some((e) => e.resourceId === usToken.tokenId), 'and not in EU1')
    const globex = (await changes('EU1', 'globex')).events
    t.same(globex.map((e) => e.resourceId), [globexToken.tokenId], 'globex sees only its own token')
    const audit = await adminJson('GET', `${tenantPath('EU1', 'globex')}/events?resourceId=${kim}`)
    t.same(audit.events, [], "acme's user is not in globex's audit trail")
  })

  t.test('a consumer waiting on the feed sees a deactivation within one second', async (t) => {
    const start = await changes('EU1', 'acme')
    const waiting = changes('EU1', 'acme', `&after=${start.nextCursor}&wait=25`)
    await sleep(300)
    const deactivatedAt = Date.now()
    const patched = await system.request(HOSTS.EU1, 'PATCH', `/scim/v2/Users/${kim}`, { token, headers: OKTA, body: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] } })
    t.equal(patched.status, 200)
    const page = await waiting
    const seenAfter = Date.now() - deactivatedAt
    t.same(page.events.map((e) => e.type), ['user.deactivated'])
    t.ok(seenAfter < 1_000, `seen ${seenAfter} ms after the change`)
    t.match(await adminJson('GET', `${tenantPath('EU1', 'acme')}/access?id=${kim}`), { allowed: false, reason: 'deactivated' })
  })

  t.test('token use shows in the token list; rotation, revocation and expired use are events', async (t) => {
    let listed: { tokenId: string; lastUsedAt: string | null; lastUsedBy: string | null }[] = []
    for (let attempt = 0; attempt < 80; attempt++) {
      listed = (await adminJson('GET', '/admin/v1/tokens?tenant=acme&region=EU1')).tokens
      if (listed.some((r) => r.tokenId === tokenId && r.lastUsedAt !== null)) break
      await sleep(100)
    }
    t.match(listed.find((r) => r.tokenId === tokenId), { lastUsedBy: 'okta', lastUsedAt: /^\d{4}-/ }, 'batched last use, within a flush interval')

    const rotated = await system.admin('POST', `/admin/v1/tokens/${tokenId}/rotate`, {})
    const next = (await rotated.json()) as { tokenId: string }
    t.equal((await system.admin('DELETE', `/admin/v1/tokens/${tokenId}`)).status, 200)
    const expiring = await system.admin('POST', '/admin/v1/tokens', { tenantId: 'acme', region: 'EU1', label: 'short', expiresAt: new Date(Date.now() + 1_500).toISOString() })
    const short = (await expiring.json()) as { token: string; tokenId: string }
    await sleep(1_600)
    for (let i = 0; i < 3; i++) t.equal((await system.request(HOSTS.EU1, 'GET', '/scim/v2/Users', { token: short.token, headers: { 'user-agent': 'OneLogin SCIM' } })).status, 401)
    const events = await eventually('EU1', 'acme', 'token.expired')
    t.match(events.find((e) => e.type === 'token.rotated'), { resourceId: next.tokenId })
    t.match(events.find((e) => e.type === 'token.revoked'), { resourceId: tokenId })
    const expired = events.filter((e) => e.type === 'token.expired')
    t.equal(expired.length, 1, 'recorded once, however often the expired token is presented')
    t.match(expired[0], { resourceId: short.tokenId, actor: { type: 'token', id: short.tokenId, label: 'short' }, clientKind: 'onelogin' })
  })
})
