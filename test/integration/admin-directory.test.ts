// The console's directory reads and group access, through the gateway's admin
// API to real region nodes (EU1 and US1, each on its own database): paged by
// cursor on the node, bound to the credential's tenant and region.
import t from 'tap'
import { startSystem } from '../helpers/system.ts'

const system = await startSystem(t, { regions: ['EU1', 'US1'] })
const EU1 = 'eu1.localhost'
const { token } = await system.createToken('acme', 'EU1')
const adminCredential = (await (await system.admin('POST', '/admin/v1/credentials', { kind: 'admin', tenantId: 'acme', region: 'EU1' })).json()).token as string
const asTeamAdmin = (path: string, init: RequestInit = {}) =>
  fetch(`${system.gateway.adminUrl}${path}`, { ...init, headers: { authorization: `Bearer ${adminCredential}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers } })
const scim = async (method: string, path: string, body?: unknown) => {
  const response = await system.request(EU1, method, path, { token, body })
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.body}`)
  return JSON.parse(response.body || '{}')
}

const users: string[] = []
for (let i = 0; i < 7; i++) {
  const user = await scim('POST', '/scim/v2/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `user${i}@example.com`, name: { givenName: i === 3 ? 'Kimberly' : 'Sam', familyName: `Doe${i}` }, active: i % 2 === 0 })
  users.push(user.id)
}
const group = await scim('POST', '/scim/v2/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineering', members: users.map((value) => ({ value })) })
await scim('POST', '/scim/v2/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Sales' })

t.test('users: search by userName or name, filter by status, page by cursor', async (t) => {
  const base = '/admin/v1/regions/EU1/tenants/acme/users'
  const first = await (await asTeamAdmin(`${base}?count=3`)).json()
  t.same(first.users.map((u: { userName: string }) => u.userName), ['user0@example.com', 'user1@example.com', 'user2@example.com'])
  t.type(first.nextCursor, 'string')
  const seen = [...first.users]
  let cursor = first.nextCursor
  while (cursor !== null) {
    const page = await (await asTeamAdmin(`${base}?count=3&cursor=${encodeURIComponent(cursor)}`)).json()
    seen.push(...page.users)
    cursor = page.nextCursor
  }
  t.same(seen.map((u: { id: string }) => u.id), users, 'every user once, in order')
  t.same((await (await asTeamAdmin(`${base}?search=USER4`)).json()).users.map((u: { userName: string }) => u.userName), ['user4@example.com'], 'userName prefix, any case')
  t.same((await (await asTeamAdmin(`${base}?search=kimber`)).json()).users.map((u: { name: string }) => u.name), ['Kimberly Doe3'], 'name substring')
  t.same((await (await asTeamAdmin(`${base}?search=${encodeURIComponent('%')}`)).json()).users, [], 'LIKE wildcards are literal')
  t.same((await (await asTeamAdmin(`${base}?status=deactivated`)).json()).users.map((u: { active: boolean }) => u.active), [false, false, false])
  t.equal((await (await asTeamAdmin(`${base}?status=active`)).json()).users.length, 4)
  const bad = await asTeamAdmin(`${base}?cursor=bm9wZQ`)
  t.equal(bad.status, 400)
  t.match(await bad.json(), { scimType: 'invalidCursor' })
  const replayed = await system.admin('GET', `/admin/v1/regions/EU1/tenants/other/users?count=3&cursor=${encodeURIComponent(first.nextCursor)}`)
  t.equal(replayed.status, 400, 'a cursor is bound to its tenant')
  t.equal((await asTeamAdmin(`${base}?count=3&status=active&cursor=${encodeURIComponent(first.nextCursor)}`)).status, 400, 'and to its query')
  t.equal((await asTeamAdmin(`${base}?count=5000`)).status, 400)

  const detail = await (await asTeamAdmin(`${base}/${users[3]}`)).json()
  t.match(detail, { userName: 'user3@example.com', active: false, groups: [{ id: group.id, displayName: 'Engineering' }], moreGroups: false })
  t.equal((await asTeamAdmin(`${base}/00000000-0000-4000-8000-000000000000`)).status, 404)
})

t.test('groups: member counts, members paged, access saved with the ETag', async (t) => {
  const base = '/admin/v1/regions/EU1/tenants/acme/groups'
  const list = await (await asTeamAdmin(base)).json()
  t.same(list.groups.map((g: { displayName: string; memberCount: number }) => [g.displayName, g.memberCount]), [['Engineering', 7], ['Sales', 0]])
  t.same((await (await asTeamAdmin(`${base}?search=sal`)).json()).groups.map((g: { displayName: string }) => g.displayName), ['Sales'])

  const members: string[] = []
  let cursor: string | null = null
  do {
    const page: { members: { id: string; display: string }[]; nextCursor: string | null } = await (await asTeamAdmin(`${base}/${group.id}/members?count=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)).json()
    members.push(...page.members.map((m) => m.id))
    cursor = page.nextCursor
  } while (cursor !== null)
  t.same(members, [...users].sort(), 'every member once, by id')

  const detail = await asTeamAdmin(`${base}/${group.id}`)
  const body = await detail.json()
  t.match(body, { displayName: 'Engineering', memberCount: 7, access: { roles: [], scope: null } })
  t.equal(body.etag, detail.headers.get('etag') ?? body.etag)
  const save = (etag: string, roles: string[]) =>
    asTeamAdmin(`${base}/${group.id}/access`, { method: 'PUT', headers: { 'if-match': etag }, body: JSON.stringify({ roles, scope: { type: 'Exact', values: ['team-a'] } }) })
  const saved = await save(body.etag, ['Admin'])
  t.equal(saved.status, 200)
  t.match(saved.headers.get('etag'), /^W\/"\d+"$/, 'the new ETag comes back')
  const stale = await save(body.etag, ['User'])
  t.equal(stale.status, 412, 'a save with the old ETag does not overwrite')
  t.match(await (await asTeamAdmin(`${base}/${group.id}`)).json(), { access: { roles: ['Admin'], scope: { type: 'Exact', values: ['team-a'] } } })
})

t.test('the team admin of acme/EU1 reaches neither acme/US1 nor other/EU1; the node never sees those requests', async (t) => {
  for (const path of ['/admin/v1/regions/US1/tenants/acme/users', '/admin/v1/regions/EU1/tenants/other/users', `/admin/v1/regions/EU1/tenants/other/groups/${group.id}`, `/admin/v1/regions/US1/tenants/acme/groups/${group.id}/members`]) {
    const response = await asTeamAdmin(path)
    t.equal(response.status, 403, path)
    t.match(await response.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '403' })
  }
  const put = await asTeamAdmin(`/admin/v1/regions/EU1/tenants/other/groups/${group.id}/access`, { method: 'PUT', body: JSON.stringify({ roles: ['Admin'] }) })
  t.equal(put.status, 403)
  const operatorView = await system.admin('GET', '/admin/v1/regions/EU1/tenants/other/users')
  t.same((await operatorView.json()).users, [], 'the operator may look, and another tenant sees none of acme’s users')
  t.same((await (await system.admin('GET', '/admin/v1/regions/US1/tenants/acme/users')).json()).users, [], 'acme in US1 is another directory')
})
