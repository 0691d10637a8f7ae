// Product rules on Groups over HTTP (docs/architecture.md#product-rules): admin-set roles and scope,
// deactivation keeps access, exact membership after every request, deletes,
// concurrency, skipped unknown members and tenant isolation.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { IdentityScope } from '../../../lib/internal-identity.ts'
import { startTestNode } from '../../helpers/region-node.ts'
import { patchRequest, scimCalls, tenantNames } from '../../helpers/scim-calls.ts'

const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ACCESS_SCHEMA = 'urn:scimgate:params:scim:schemas:extension:access:2.0:Group'
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'

const ACCESS = { roles: ['Admin'], scope: { type: 'Exact', values: ['team-a'] } }
const STORED_ACCESS = { roles: [{ value: 'Admin' }], scope: { type: 'Exact', values: ['team-a'] } }

const node = await startTestNode(t)
const newTenant = tenantNames('groups')

const patch = patchRequest
const scim = scimCalls((tenant, method, path, body) => node.scim(tenant, method, path, body))
const addMembers = (...ids: string[]) => patch({ op: 'add', path: 'members', value: ids.map((value) => ({ value })) })
const removeMember = (id: string) => patch({ op: 'remove', path: `members[value eq "${id}"]` })

const createUser = (tenant: string, userName: string): Promise<string> => scim.create(tenant, 'Users', { userName })

const createGroup = (tenant: string, displayName: string, members: readonly string[] = []): Promise<string> =>
  scim.create(tenant, 'Groups', { schemas: [GROUP_SCHEMA], displayName, members: members.map((value) => ({ value })) })

const readGroup = (tenant: string, id: string) => scim.read(tenant, `Groups/${id}`)

const { memberIds, groupsOf } = scim

/** The admin API route a team admin reaches through the gateway. */
async function setAccess(tenant: string, groupId: string, payload: unknown = ACCESS, scopes: readonly IdentityScope[] = ['scim', 'admin']) {
  return node.app.inject({
    method: 'PUT',
    url: `/admin/v1/groups/${groupId}/access`,
    headers: { ...(await node.identity(tenant, scopes)), 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  })
}

t.test('an admin sets a group\'s roles and scope through the admin route', async (t) => {
  const tenant = newTenant()
  const groupId = await createGroup(tenant, 'Team A')
  const response = await setAccess(tenant, groupId)
  t.equal(response.statusCode, 200, response.body)
  t.same(response.json()[ACCESS_SCHEMA], STORED_ACCESS)
  const group = await readGroup(tenant, groupId)
  t.same(group.schemas, [GROUP_SCHEMA, ACCESS_SCHEMA])
  t.same(group[ACCESS_SCHEMA], STORED_ACCESS)
  t.equal(group.meta.version, 'W/"2"')
})

t.test('the admin route refuses an identity without the admin scope (403), a missing one (401) and another tenant\'s group (404)', async (t) => {
  const tenant = newTenant()
  const groupId = await createGroup(tenant, 'Team A')
  const scimOnly = await setAccess(tenant, groupId, ACCESS, ['scim'])
  t.equal(scimOnly.statusCode, 403, scimOnly.body)
  t.match(scimOnly.json(), { schemas: [ERROR_SCHEMA], status: '403' })
  const anonymous = await node.app.inject({ method: 'PUT', url: `/admin/v1/groups/${groupId}/access`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(ACCESS) })
  t.equal(anonymous.statusCode, 401, anonymous.body)
  t.match(anonymous.json(), { schemas: [ERROR_SCHEMA], status: '401' })
  const otherTenant = await setAccess(newTenant(), groupId)
  t.equal(otherTenant.statusCode, 404, otherTenant.body)
  const group = await readGroup(tenant, groupId)
  t.notOk(ACCESS_SCHEMA in group, 'no refused request set anything')
  t.equal(group.meta.version, 'W/"1"')
})

t.test('deactivating and reactivating a user keeps every membership and the groups\' roles and scope', async (t) => {
  const tenant = newTenant()
  type Call = readonly [method: string, path: string, body: unknown]
  const deactivations: { provider: string; off: (id: string) => Call; on: (id: string) => Call }[] = [
    { provider: 'Okta no-path replace', off: (id) => ['PATCH', `Users/${id}`, patch({ op: 'replace', value: { active: false } })], on: (id) => ['PATCH', `Users/${id}`, patch({ op: 'replace', value: { active: true } })] },
    { provider: 'Entra Replace "False"', off: (id) => ['PATCH', `Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'False' })], on: (id) => ['PATCH', `Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'True' })] },
    { provider: 'PUT active false', off: (id) => ['PUT', `Users/${id}`, { userName: `${id}@example.com`, active: false }], on: (id) => ['PUT', `Users/${id}`, { userName: `${id}@example.com`, active: true }] },
  ]
  for (const { provider, off, on } of deactivations) {
    const userId = await createUser(tenant, `${provider}@example.com`)
    await node.scim(tenant, 'PUT', `Users/${userId}`, { userName: `${userId}@example.com` })
    const colleague = await createUser(tenant, `colleague of ${provider}@example.com`)
    const groups = [await createGroup(tenant, `${provider} A`, [userId, colleague]), await createGroup(tenant, `${provider} B`, [userId])]
    for (const groupId of groups) t.equal((await setAccess(tenant, groupId)).statusCode, 200)
    const before = await Promise.all(groups.map((id) => readGroup(tenant, id)))

    for (const [step, request, active] of [['deactivate', off, false], ['reactivate', on, true]] as const) {
      const [method, path, body] = request(userId)
      const response = await node.scim(tenant, method, path, body)
      t.equal(response.statusCode, 200, `${provider} ${step}: ${response.body}`)
      t.equal(response.json().active, active, `${provider} ${step}: active`)
      t.same(await groupsOf(tenant, userId), [...groups].sort(), `${provider} ${step}: user.groups`)
      const after = await Promise.all(groups.map((id) => readGroup(tenant, id)))
      t.same(after, before, `${provider} ${step}: groups, members, roles, scope and version unchanged`)
    }
  }
})

t.test('PUT of a group without the access extension keeps its roles and scope', async (t) => {
  const tenant = newTenant()
  const [a, b] = [await createUser(tenant, 'a@example.com'), await createUser(tenant, 'b@example.com')]
  const groupId = await createGroup(tenant, 'Team A', [a])
  await setAccess(tenant, groupId)
  const response = await node.scim(tenant, 'PUT', `Groups/${groupId}`, { schemas: [GROUP_SCHEMA], displayName: 'Team A (renamed)', members: [{ value: b }] })
  t.equal(response.statusCode, 200, response.body)
  const group = await readGroup(tenant, groupId)
  t.equal(group.displayName, 'Team A (renamed)')
  t.same(group[ACCESS_SCHEMA], STORED_ACCESS, 'roles and scope kept')
  t.same(group.members.map((m: { value: string }) => m.value), [b], 'PUT replaced the members')
  const okta = await node.scim(tenant, 'PATCH', `Groups/${groupId}`, patch({ op: 'replace', value: { id: groupId, displayName: 'Team A' } }))
  t.equal(okta.statusCode, 204, okta.body)
  t.same((await readGroup(tenant, groupId))[ACCESS_SCHEMA], STORED_ACCESS, 'an Okta push keeps them too')
})

t.test('moving a user between groups: the members of both are exact after each request', async (t) => {
  const tenant = newTenant()
  const [mover, stayA, stayB] = [await createUser(tenant, 'mover@example.com'), await createUser(tenant, 'stay-a@example.com'), await createUser(tenant, 'stay-b@example.com')]
  const from = await createGroup(tenant, 'From', [mover, stayA])
  const to = await createGroup(tenant, 'To', [stayB])

  t.equal((await node.scim(tenant, 'PATCH', `Groups/${from}`, removeMember(mover))).statusCode, 204)
  t.same(await memberIds(tenant, from), [stayA])
  t.same(await memberIds(tenant, to), [stayB])
  t.same(await groupsOf(tenant, mover), [])

  t.equal((await node.scim(tenant, 'PATCH', `Groups/${to}`, addMembers(mover))).statusCode, 204)
  t.same(await memberIds(tenant, from), [stayA])
  t.same(await memberIds(tenant, to), [mover, stayB].sort())
  t.same(await groupsOf(tenant, mover), [to])
})

t.test('member add and remove are idempotent', async (t) => {
  const tenant = newTenant()
  const [a, b] = [await createUser(tenant, 'a@example.com'), await createUser(tenant, 'b@example.com')]
  const groupId = await createGroup(tenant, 'Idempotent', [a])
  for (const body of [addMembers(a, a), addMembers(a), removeMember(b), patch({ op: 'remove', path: 'members', value: [{ value: b }] })]) {
    const response = await node.scim(tenant, 'PATCH', `Groups/${groupId}`, body)
    t.equal(response.statusCode, 204, response.body)
    t.same(await memberIds(tenant, groupId), [a])
  }
  t.equal((await readGroup(tenant, groupId)).meta.version, 'W/"1"', 'a PATCH that changes nothing keeps the version')
})

t.test('deleting a user removes them from every group', async (t) => {
  const tenant = newTenant()
  const [leaver, other] = [await createUser(tenant, 'leaver@example.com'), await createUser(tenant, 'other@example.com')]
  const groups = [await createGroup(tenant, 'G1', [leaver, other]), await createGroup(tenant, 'G2', [leaver]), await createGroup(tenant, 'G3', [other])]
  const response = await node.scim(tenant, 'DELETE', `Users/${leaver}`)
  t.equal(response.statusCode, 204, response.body)
  t.same(await Promise.all(groups.map((id) => memberIds(tenant, id))), [[other], [], [other]])
  const filtered = await node.scim(tenant, 'GET', `Groups?filter=${encodeURIComponent(`members.value eq "${leaver}"`)}`)
  t.equal(filtered.json().totalResults, 0, 'no group lists the deleted user')
})

t.test('deleting a group: gone, dropped from its members\' groups and from parent groups; users stay', async (t) => {
  const tenant = newTenant()
  const [a, b] = [await createUser(tenant, 'a@example.com'), await createUser(tenant, 'b@example.com')]
  const doomed = await createGroup(tenant, 'Doomed', [a, b])
  const kept = await createGroup(tenant, 'Kept', [a])
  const parent = await createGroup(tenant, 'Parent', [doomed, b])
  const response = await node.scim(tenant, 'DELETE', `Groups/${doomed}`)
  t.equal(response.statusCode, 204, response.body)
  t.equal((await node.scim(tenant, 'GET', `Groups/${doomed}`)).statusCode, 404)
  t.same((await node.scim(tenant, 'GET', 'Groups')).json().Resources.map((g: { id: string }) => g.id).sort(), [kept, parent].sort())
  t.same(await groupsOf(tenant, a), [kept])
  t.same(await groupsOf(tenant, b), [parent])
  t.same(await memberIds(tenant, parent), [b], 'a nested group membership goes too')
  t.same(await memberIds(tenant, kept), [a])
})

t.test('50 concurrent member-add PATCHes on one group lose no member', async (t) => {
  const tenant = newTenant()
  const users = await Promise.all(Array.from({ length: 50 }, (_, i) => createUser(tenant, `concurrent-${i}@example.com`)))
  const groupId = await createGroup(tenant, 'Busy')
  const responses = await Promise.all(users.map((id) => node.scim(tenant, 'PATCH', `Groups/${groupId}`, addMembers(id))))
  t.same(responses.map((r) => r.statusCode), Array<number>(50).fill(204))
  t.same(await memberIds(tenant, groupId), [...users].sort())
  t.equal((await readGroup(tenant, groupId)).meta.version, 'W/"51"', 'each PATCH made exactly one new version')
})

t.test('a member id the tenant does not have is skipped and the push succeeds', async (t) => {
  const tenant = newTenant()
  const real = await createUser(tenant, 'real@example.com')
  const unknown = [{ value: randomUUID() }, { value: 'not-a-uuid' }, { value: real }]
  const created = await node.scim(tenant, 'POST', 'Groups', { displayName: 'Created', members: unknown })
  t.equal(created.statusCode, 201, created.body)
  t.same(created.json().members.map((m: { value: string }) => m.value), [real], 'POST')

  const groupId = await createGroup(tenant, 'Patched')
  const added = await node.scim(tenant, 'PATCH', `Groups/${groupId}`, patch({ op: 'add', path: 'members', value: unknown }))
  t.equal(added.statusCode, 204, added.body)
  t.same(await memberIds(tenant, groupId), [real], 'PATCH add')

  const replaced = await node.scim(tenant, 'PATCH', `Groups/${groupId}`, patch({ op: 'replace', path: 'members', value: [{ value: randomUUID() }] }))
  t.equal(replaced.statusCode, 204, replaced.body)
  t.same(await memberIds(tenant, groupId), [], 'PATCH replace with only unknown ids empties the group')

  const put = await node.scim(tenant, 'PUT', `Groups/${groupId}`, { displayName: 'Patched', members: unknown })
  t.equal(put.statusCode, 200, put.body)
  t.same(await memberIds(tenant, groupId), [real], 'PUT')
})

t.test('a stale If-Match on a group PATCH is 412 and adds nobody', async (t) => {
  const tenant = newTenant()
  const [a, b] = [await createUser(tenant, 'a@example.com'), await createUser(tenant, 'b@example.com')]
  const groupId = await createGroup(tenant, 'Guarded')
  t.equal((await node.scim(tenant, 'PATCH', `Groups/${groupId}`, addMembers(a), { 'if-match': 'W/"1"' })).statusCode, 204)
  const stale = await node.scim(tenant, 'PATCH', `Groups/${groupId}`, addMembers(b), { 'if-match': 'W/"1"' })
  t.equal(stale.statusCode, 412, stale.body)
  t.match(stale.json(), { schemas: [ERROR_SCHEMA], status: '412' })
  t.same(await memberIds(tenant, groupId), [a])
})

t.test('tenant B cannot read, change, delete or list tenant A\'s groups', async (t) => {
  const [a, b] = [newTenant(), newTenant()]
  const member = await createUser(a, 'member@example.com')
  const groupId = await createGroup(a, 'Private', [member])
  await setAccess(a, groupId)
  const before = await readGroup(a, groupId)
  const cases: [string, string, unknown?][] = [
    ['GET', `Groups/${groupId}`],
    ['GET', `Groups/${groupId}?excludedAttributes=members`],
    ['PUT', `Groups/${groupId}`, { displayName: 'Hijacked', members: [] }],
    ['PATCH', `Groups/${groupId}`, patch({ op: 'replace', path: 'members', value: [] })],
    ['DELETE', `Groups/${groupId}`],
  ]
  for (const [method, path, body] of cases) {
    const response = await node.scim(b, method, path, body)
    t.equal(response.statusCode, 404, `${method} ${path} as B: ${response.body}`)
    t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '404' })
  }
  for (const path of ['Groups', `Groups?filter=${encodeURIComponent('displayName eq "Private"')}`, `Groups?filter=${encodeURIComponent(`members.value eq "${member}"`)}`]) {
    t.equal((await node.scim(b, 'GET', path)).json().totalResults, 0, `B lists ${path}`)
  }
  t.equal((await setAccess(b, groupId, { roles: ['owner'] })).statusCode, 404, 'B\'s admin cannot set A\'s access')
  t.same(await readGroup(a, groupId), before, 'A\'s group is untouched')
})

t.test('tenant B cannot add tenant A\'s user to its own group', async (t) => {
  const [a, b] = [newTenant(), newTenant()]
  const foreign = await createUser(a, 'foreign@example.com')
  const created = await node.scim(b, 'POST', 'Groups', { displayName: 'B team', members: [{ value: foreign }] })
  t.equal(created.statusCode, 201, created.body)
  const groupId = created.json().id
  const attempts: [string, unknown][] = [
    ['PATCH', addMembers(foreign)],
    ['PATCH', patch({ op: 'replace', path: 'members', value: [{ value: foreign }] })],
    ['PATCH', patch({ op: 'replace', value: { members: [{ value: foreign }] } })],
    ['PUT', { displayName: 'B team', members: [{ value: foreign }] }],
  ]
  for (const [method, body] of attempts) {
    const response = await node.scim(b, method, `Groups/${groupId}`, body)
    t.ok(response.statusCode === 204 || response.statusCode === 200, `${method} succeeds as a skip: ${response.statusCode} ${response.body}`)
    t.same(await memberIds(b, groupId), [], `${method}: A's user is not a member`)
  }
  t.same(await groupsOf(a, foreign), [], 'A\'s user is in no group')
})

t.test('a member-add PATCH answers 204 with the new ETag, moves meta.lastModified (filterable), and 404s an unknown or malformed group', async (t) => {
  const tenant = newTenant()
  const [a, b] = [await createUser(tenant, 'a@example.com'), await createUser(tenant, 'b@example.com')]
  const other = await createGroup(tenant, 'Untouched')
  const groupId = await createGroup(tenant, 'Fast')
  const before = await readGroup(tenant, groupId)
  await new Promise((resolve) => setTimeout(resolve, 5))
  const added = await node.scim(tenant, 'PATCH', `Groups/${groupId}`, addMembers(a, b))
  t.equal(added.statusCode, 204, added.body)
  t.equal(added.headers.etag, 'W/"2"')
  const after = await readGroup(tenant, groupId)
  t.equal(after.meta.version, 'W/"2"')
  t.ok(after.meta.lastModified > before.meta.lastModified, 'lastModified moved')
  t.same(await memberIds(tenant, groupId), [a, b].sort())
  const again = await node.scim(tenant, 'PATCH', `Groups/${groupId}`, addMembers(b))
  t.equal(again.headers.etag, 'W/"2"', 'adding a member already there is no new version')
  const filtered = await node.scim(tenant, 'GET', `Groups?filter=${encodeURIComponent(`meta.lastModified gt "${before.meta.lastModified}"`)}`)
  t.same(filtered.json().Resources.map((g: { id: string }) => g.id), [groupId], 'a Groups filter on meta.lastModified sees the change')
  t.notOk(filtered.json().Resources.some((g: { id: string }) => g.id === other))
  for (const id of [randomUUID(), 'not-a-uuid']) {
    const missing = await node.scim(tenant, 'PATCH', `Groups/${id}`, addMembers(a))
    t.equal(missing.statusCode, 404, missing.body)
    t.match(missing.json(), { schemas: [ERROR_SCHEMA], status: '404' })
  }
})

t.test('concurrent adds and removes of the same members on one group: every member ends as its last committed change left it', async (t) => {
  const tenant = newTenant()
  const users = await Promise.all(Array.from({ length: 10 }, (_, i) => createUser(tenant, `flip-${i}@example.com`)))
  const groupId = await createGroup(tenant, 'Flip', users.slice(0, 5))
  // Each user gets an add and a remove at once; the log's order per member is the order they committed in.
  const responses = await Promise.all(users.flatMap((id) => [node.scim(tenant, 'PATCH', `Groups/${groupId}`, addMembers(id)), node.scim(tenant, 'PATCH', `Groups/${groupId}`, removeMember(id))]))
  t.same(responses.map((r) => r.statusCode), Array<number>(20).fill(204))
  const feed = (await node.app.inject({ method: 'GET', url: '/admin/v1/changes?limit=1000', headers: await node.identity(tenant, ['admin']) })).json()
  const last = new Map<string, string>()
  for (const event of feed.events as { type: string; data?: { member?: { value: string } } }[]) if (event.data?.member !== undefined) last.set(event.data.member.value, event.type)
  t.ok(last.size > 0, 'the feed has membership events')
  const expected = users.filter((id, index) => (last.has(id) ? last.get(id) === 'membership.added' : index < 5)).sort()
  t.same(await memberIds(tenant, groupId), expected)
})
