// Okta's SCIM 2.0 client, replayed request by request (docs/identity-providers.md#okta).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { startTestNode } from '../../helpers/region-node.ts'
import { scimCalls, tenantNames } from '../../helpers/scim-calls.ts'

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'
const OKTA_HEADERS = { 'user-agent': 'Okta SCIM Client 1.0.0', accept: 'application/scim+json' }

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../fixtures/idp/okta/${name}`, import.meta.url), 'utf8'))

const node = await startTestNode(t)
/** Each test provisions its own tenant, so tests share the node but never data. */
const newTenant = tenantNames('okta')

const call = (tenant: string, method: string, path: string, body?: unknown) => node.scim(tenant, method, path, body, OKTA_HEADERS)
const scim = scimCalls(call)

/** Okta's existence check: the filter is URL-encoded, paging is always startIndex=1&count=100. */
const existenceCheck = (tenant: string, userName: string) =>
  call(tenant, 'GET', `Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`)

const createUser = (tenant: string, userName: string): Promise<string> =>
  scim.create(tenant, 'Users', { ...fixture('create-user.json'), userName, emails: [{ primary: true, value: userName, type: 'work' }] })

const createGroup = (tenant: string, displayName: string): Promise<string> => scim.create(tenant, 'Groups', { ...fixture('create-group.json'), displayName })

const { memberIds } = scim

/** Okta's group push: rename by no-path replace, then a filtered remove and an add, all in one PATCH. */
const pushMembership = (groupId: string, displayName: string, remove: readonly string[], add: readonly { value: string; display: string }[]) => ({
  schemas: [PATCH_SCHEMA],
  Operations: [
    { op: 'replace', value: { id: groupId, displayName } },
    ...remove.map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` })),
    ...(add.length === 0 ? [] : [{ op: 'add', path: 'members', value: add }]),
  ],
})

t.test('existence check for an unknown userName answers 200 with an empty ListResponse of integer counts', async (t) => {
  const response = await existenceCheck(newTenant(), 'nobody@okta.local')
  t.equal(response.statusCode, 200, response.body)
  t.match(response.headers['content-type'], /^application\/scim\+json/)
  t.strictSame(response.json(), { schemas: [LIST_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] })
})

t.test('existence check finds a created user whatever the letter case of the filter value', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'found.me@okta.local')
  const response = await existenceCheck(tenant, 'Found.Me@OKTA.local')
  t.equal(response.statusCode, 200, response.body)
  const list = response.json()
  t.equal(list.totalResults, 1)
  t.equal(list.itemsPerPage, 1)
  t.equal(list.startIndex, 1)
  t.same(list.Resources.map((u: { id: string }) => u.id), [id])
})

t.test('create with password, groups, locale and displayName extras answers 201 without the password', async (t) => {
  const tenant = newTenant()
  const response = await call(tenant, 'POST', 'Users', fixture('create-user.json'))
  t.equal(response.statusCode, 201, response.body)
  const user = response.json()
  t.match(user, {
    schemas: [USER_SCHEMA],
    userName: 'test.user@okta.local',
    displayName: 'Test User',
    locale: 'en-US',
    externalId: '00ujl29u0le5T6Aj10h7',
    active: true,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
  })
  t.notOk('password' in user, 'the password is never returned')
  t.notOk('groups' in user, 'groups: [] is read-only input and creates no membership')
  t.equal(response.headers.location, user.meta.location)
})

t.test('the password is never returned, not even when asked for with attributes=password', async (t) => {
  const tenant = newTenant()
  const created = (await call(tenant, 'POST', 'Users', fixture('create-user.json'))).json()
  for (const path of [
    `Users/${created.id}`,
    `Users/${created.id}?attributes=password`,
    `Users/${created.id}?attributes=userName,password`,
    'Users?attributes=password',
    `Users?filter=${encodeURIComponent('userName eq "test.user@okta.local"')}&attributes=password`,
  ]) {
    const response = await call(tenant, 'GET', path)
    t.equal(response.statusCode, 200, `${path}: ${response.body}`)
    t.notMatch(response.body, /password|1mz050nq/i, `${path} carries no password`)
  }
})

t.test('a duplicate userName in another letter case answers 409 uniqueness, also on Okta\'s retry after a timeout', async (t) => {
  const tenant = newTenant()
  t.equal((await call(tenant, 'POST', 'Users', fixture('create-user.json'))).statusCode, 201)
  for (const userName of ['test.user@okta.local', 'TEST.USER@okta.local', 'Test.User@Okta.Local']) {
    const response = await call(tenant, 'POST', 'Users', { ...fixture('create-user.json'), userName })
    t.equal(response.statusCode, 409, userName)
    t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness' })
  }
  t.equal((await existenceCheck(tenant, 'test.user@okta.local')).json().totalResults, 1, 'still one user')
})

t.test('a profile update by PUT of the full user, with id, groups: [] and meta, replaces the profile', async (t) => {
  const tenant = newTenant()
  const created = (await call(tenant, 'POST', 'Users', fixture('create-user.json'))).json()
  const body = {
    ...fixture('create-user.json'),
    id: created.id,
    groups: [],
    meta: created.meta,
    name: { givenName: 'Renamed', familyName: 'User' },
    displayName: 'Renamed User',
    locale: 'fr-FR',
  }
  const response = await call(tenant, 'PUT', `Users/${created.id}`, body)
  t.equal(response.statusCode, 200, response.body)
  const user = response.json()
  t.equal(user.id, created.id)
  t.same(user.name, { givenName: 'Renamed', familyName: 'User' })
  t.equal(user.displayName, 'Renamed User')
  t.equal(user.locale, 'fr-FR')
  t.equal(user.meta.version, 'W/"2"')
  t.equal(user.meta.created, created.meta.created)
  t.notOk('password' in user)
  t.equal((await call(tenant, 'GET', `Users/${created.id}`)).json().displayName, 'Renamed User')
})

t.test('PUT with groups: [] keeps the memberships pushed through the group', async (t) => {
  const tenant = newTenant()
  const userId = await createUser(tenant, 'member@okta.local')
  const groupId = await createGroup(tenant, 'Engineering')
  t.equal((await call(tenant, 'PATCH', `Groups/${groupId}`, pushMembership(groupId, 'Engineering', [], [{ value: userId, display: 'member@okta.local' }]))).statusCode, 204)
  const current = (await call(tenant, 'GET', `Users/${userId}`)).json()
  const response = await call(tenant, 'PUT', `Users/${userId}`, { ...current, groups: [], title: 'Engineer' })
  t.equal(response.statusCode, 200, response.body)
  t.same(response.json().groups.map((g: { value: string }) => g.value), [groupId])
  t.same(await memberIds(tenant, groupId), [userId])
})

t.test('PUT with active: false deactivates the user', async (t) => {
  const tenant = newTenant()
  const created = (await call(tenant, 'POST', 'Users', fixture('create-user.json'))).json()
  const response = await call(tenant, 'PUT', `Users/${created.id}`, { ...fixture('create-user.json'), id: created.id, groups: [], meta: created.meta, active: false })
  t.equal(response.statusCode, 200, response.body)
  t.equal(response.json().active, false)
  t.equal((await call(tenant, 'GET', `Users/${created.id}`)).json().active, false)
  const inactive = await call(tenant, 'GET', `Users?filter=${encodeURIComponent('active eq false')}`)
  t.same(inactive.json().Resources.map((u: { id: string }) => u.id), [created.id])
})

t.test('deactivate and reactivate by no-path replace of active', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'toggle@okta.local')
  for (const active of [false, true, false, true]) {
    const response = await call(tenant, 'PATCH', `Users/${id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active } }] })
    t.equal(response.statusCode, 200, response.body)
    t.equal(response.json().active, active, `PATCH answers active=${active}`)
    t.equal((await call(tenant, 'GET', `Users/${id}`)).json().active, active, `GET reads active=${active}`)
  }
})

t.test('group push creates the group with members: []', async (t) => {
  const tenant = newTenant()
  const response = await call(tenant, 'POST', 'Groups', fixture('create-group.json'))
  t.equal(response.statusCode, 201, response.body)
  const group = response.json()
  t.equal(group.displayName, 'Test SCIMv2')
  t.same(group.members ?? [], [])
  t.same(await memberIds(tenant, group.id), [])
})

t.test('group push PATCH: no-path replace of id and displayName, filtered remove, then add without type', async (t) => {
  const tenant = newTenant()
  const [alice, bob, carol] = [await createUser(tenant, 'alice@okta.local'), await createUser(tenant, 'bob@okta.local'), await createUser(tenant, 'carol@okta.local')]
  const groupId = await createGroup(tenant, 'Engineering')

  const first = await call(tenant, 'PATCH', `Groups/${groupId}`, pushMembership(groupId, 'Engineering', [], [{ value: alice, display: 'alice@okta.local' }, { value: bob, display: 'bob@okta.local' }]))
  t.equal(first.statusCode, 204, first.body)
  t.same(await memberIds(tenant, groupId), [alice, bob].sort())

  const second = await call(tenant, 'PATCH', `Groups/${groupId}`, pushMembership(groupId, 'Platform Engineering', [alice], [{ value: carol, display: 'carol@okta.local' }]))
  t.equal(second.statusCode, 204, second.body)
  t.equal(second.body, '')
  const group = (await call(tenant, 'GET', `Groups/${groupId}`)).json()
  t.equal(group.displayName, 'Platform Engineering', 'the no-path replace renames the group')
  t.equal(group.id, groupId)
  t.same(group.members.map((m: { value: string }) => m.value).sort(), [bob, carol].sort())
  t.ok(group.members.every((m: { type: string }) => m.type === 'User'), 'members pushed without type are typed User')
})

t.test('group push with an id that is not the group\'s own is refused', async (t) => {
  const tenant = newTenant()
  const groupId = await createGroup(tenant, 'Engineering')
  const other = await createGroup(tenant, 'Other')
  const response = await call(tenant, 'PATCH', `Groups/${groupId}`, pushMembership(other, 'Engineering', [], []))
  t.equal(response.statusCode, 400, response.body)
  t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '400', scimType: 'mutability' })
})

t.test('"push now" replaces members with [] and empties the group', async (t) => {
  const tenant = newTenant()
  const [alice, bob] = [await createUser(tenant, 'alice@okta.local'), await createUser(tenant, 'bob@okta.local')]
  const groupId = await createGroup(tenant, 'Engineering')
  await call(tenant, 'PATCH', `Groups/${groupId}`, pushMembership(groupId, 'Engineering', [], [{ value: alice, display: 'a' }, { value: bob, display: 'b' }]))
  t.same(await memberIds(tenant, groupId), [alice, bob].sort())
  const response = await call(tenant, 'PATCH', `Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'members', value: [] }] })
  t.equal(response.statusCode, 204, response.body)
  t.same(await memberIds(tenant, groupId), [])
  t.equal((await call(tenant, 'GET', `Users/${alice}`)).statusCode, 200, 'the users stay')
})

t.test('import pages with startIndex stepping by 100: integer counts, stable order, no skip and no repeat', async (t) => {
  const tenant = newTenant()
  const total = 250
  const created: string[] = []
  for (let batch = 0; batch < total; batch += 25) {
    const ids = await Promise.all(Array.from({ length: Math.min(25, total - batch) }, (_, i) => createUser(tenant, `import-${String(batch + i).padStart(3, '0')}@okta.local`)))
    created.push(...ids)
  }
  const readPage = async (startIndex: number) => {
    const response = await call(tenant, 'GET', `Users?startIndex=${startIndex}&count=100`)
    t.equal(response.statusCode, 200, response.body)
    return response.json()
  }

  const first = await readPage(1)
  // A profile change between pages must not move anyone across a page boundary.
  const movedId = first.Resources[0].id
  t.equal((await call(tenant, 'PATCH', `Users/${movedId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { displayName: 'changed mid-import' } }] })).statusCode, 200)
  const pages = [first, await readPage(101), await readPage(201)]

  t.same(pages.map((p) => [p.totalResults, p.startIndex, p.itemsPerPage]), [[total, 1, 100], [total, 101, 100], [total, 201, 50]])
  for (const page of pages) {
    for (const key of ['totalResults', 'startIndex', 'itemsPerPage']) t.ok(Number.isInteger(page[key]), `${key} is a JSON integer`)
  }
  const seen = pages.flatMap((p) => p.Resources.map((u: { id: string }) => u.id))
  t.equal(new Set(seen).size, total, 'no user repeated')
  t.same([...seen].sort(), [...created].sort(), 'no user skipped')
  const again = [await readPage(1), await readPage(101), await readPage(201)].flatMap((p) => p.Resources.map((u: { id: string }) => u.id))
  t.same(again, seen, 'the same order on a second import')
  t.same((await readPage(301)).Resources, [], 'past the end: an empty page')
})
