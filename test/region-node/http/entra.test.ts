// Microsoft Entra ID's provisioning service, replayed request by request
// (docs/identity-providers.md#entra-id).
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { PoolClient } from 'pg'
import t from 'tap'
import { startTestNode } from '../../helpers/region-node.ts'
import { patchRequest, scimCalls, tenantNames } from '../../helpers/scim-calls.ts'

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'
const SCIM_JSON = /^application\/scim\+json/

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../fixtures/idp/entra/${name}`, import.meta.url), 'utf8'))

const node = await startTestNode(t)
const newTenant = tenantNames('entra')

const patch = patchRequest
const scim = scimCalls((tenant, method, path, body) => node.scim(tenant, method, path, body))

const createUser = (tenant: string, userName: string, extra: Record<string, unknown> = {}): Promise<string> =>
  scim.create(tenant, 'Users', { ...fixture('create-user.json'), userName, externalId: userName, ...extra })

const createGroup = (tenant: string, displayName: string): Promise<string> =>
  scim.create(tenant, 'Groups', { ...fixture('create-group.json'), displayName, externalId: randomUUID() })

const readUser = (tenant: string, id: string) => scim.read(tenant, `Users/${id}`)

const { memberIds } = scim

/** Records the SQL the node runs, to show what it does not even load. */
function recordSql(): { statements: string[]; stop(): void } {
  const statements: string[] = []
  const wrapped = new WeakSet<PoolClient>()
  let recording = true
  const onAcquire = (client: PoolClient): void => {
    if (wrapped.has(client)) return
    wrapped.add(client)
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0]
      if (recording) statements.push(typeof first === 'string' ? first : String((first as { text?: string }).text))
      return query(...args)
    }
  }
  node.app.database.pool.on('acquire', onAcquire)
  return {
    statements,
    stop() {
      recording = false
      node.app.database.pool.off('acquire', onAcquire)
    },
  }
}

t.test('capitalised ops and attribute names in any case', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'caps@entra.example', { emails: [{ type: 'work', value: 'old@entra.example' }] })
  const response = await node.scim(
    tenant,
    'PATCH',
    `Users/${id}`,
    patch(
      { op: 'Replace', path: 'name.FamilyName', value: 'Smith' },
      { op: 'Add', path: 'DisplayName', value: 'Kim Smith' },
      { op: 'Replace', path: 'emails[Type eq "work"].Value', value: 'new@entra.example' },
      { op: 'Add', path: 'Title', value: 'Engineer' },
      { op: 'Remove', path: 'Title' },
    ),
  )
  t.equal(response.statusCode, 200, response.body)
  const user = await readUser(tenant, id)
  t.equal(user.name.familyName, 'Smith')
  t.equal(user.name.givenName, 'givenName', 'the rest of name is kept')
  t.equal(user.displayName, 'Kim Smith')
  t.same(user.emails, [{ type: 'work', value: 'new@entra.example' }])
  t.notOk('title' in user, 'Remove removed it')
})

t.test('"False" and "True" strings on active in PATCH become booleans', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'strings@entra.example')
  for (const [text, active] of [['False', false], ['True', true], ['false', false], ['TRUE', true]] as const) {
    const response = await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'Replace', path: 'active', value: text }))
    t.equal(response.statusCode, 200, response.body)
    t.equal(response.json().active, active, `"${text}" answers ${active}`)
    t.equal((await readUser(tenant, id)).active, active, `"${text}" is stored as ${active}`)
  }
})

t.test('"True" and "False" strings on a POST become booleans', async (t) => {
  const tenant = newTenant()
  for (const [text, active] of [['True', true], ['False', false]] as const) {
    const response = await node.scim(tenant, 'POST', 'Users', { ...fixture('create-user.json'), userName: `post-${text}@entra.example`, active: text })
    t.equal(response.statusCode, 201, response.body)
    t.equal(response.json().active, active)
    t.equal((await readUser(tenant, response.json().id)).active, active)
  }
})

t.test('a boolean string that is not true or false is 400 invalidValue', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'maybe@entra.example')
  const response = await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'Maybe' }))
  t.equal(response.statusCode, 400, response.body)
  t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidValue' })
  t.equal((await readUser(tenant, id)).active, true, 'nothing changed')
})

t.test('no-path replace with dotted and URN-qualified keys', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'dotted@entra.example')
  const response = await node.scim(
    tenant,
    'PATCH',
    `Users/${id}`,
    patch({ op: 'replace', value: { 'name.givenName': 'Kim', [`${ENTERPRISE}:employeeNumber`]: '42', [`${ENTERPRISE}:department`]: 'Sales', displayName: 'Kim' } }),
  )
  t.equal(response.statusCode, 200, response.body)
  const user = await readUser(tenant, id)
  t.same(user.name, { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'Kim' })
  t.equal(user.displayName, 'Kim')
  t.same(user[ENTERPRISE], { employeeNumber: '42', department: 'Sales' })
  t.same(user.schemas, [USER_SCHEMA, ENTERPRISE])
})

t.test('URN-qualified paths address enterprise attributes', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'urn@entra.example')
  for (const [op, attribute, value] of [
    ['Add', 'department', 'Sales'],
    ['Replace', 'department', 'Marketing'],
    ['Add', 'costCenter', 'CC-7'],
    ['Replace', 'employeeNumber', '99'],
  ] as const) {
    const response = await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op, path: `${ENTERPRISE}:${attribute}`, value }))
    t.equal(response.statusCode, 200, response.body)
    t.equal((await readUser(tenant, id))[ENTERPRISE][attribute], value, `${op} ${attribute}`)
  }
  const removed = await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'Remove', path: `${ENTERPRISE}:costCenter` }))
  t.equal(removed.statusCode, 200, removed.body)
  t.same((await readUser(tenant, id))[ENTERPRISE], { employeeNumber: '99', department: 'Marketing' })
})

t.test('Add or Replace on emails[type eq "work"].value creates the work email when there is none', async (t) => {
  const tenant = newTenant()
  const cases = [
    { op: 'Add', before: undefined, after: [{ type: 'work', value: 'kim@entra.example' }] },
    { op: 'Replace', before: undefined, after: [{ type: 'work', value: 'kim@entra.example' }] },
    { op: 'Add', before: [{ type: 'home', value: 'kim@home.example' }], after: [{ type: 'home', value: 'kim@home.example' }, { type: 'work', value: 'kim@entra.example' }] },
    { op: 'Replace', before: [{ type: 'home', value: 'kim@home.example' }], after: [{ type: 'home', value: 'kim@home.example' }, { type: 'work', value: 'kim@entra.example' }] },
    { op: 'Replace', before: [{ type: 'work', value: 'old@entra.example' }], after: [{ type: 'work', value: 'kim@entra.example' }] },
  ]
  for (const [index, { op, before, after }] of cases.entries()) {
    const id = await createUser(tenant, `email-${index}@entra.example`, { emails: before ?? null })
    const response = await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op, path: 'emails[type eq "work"].value', value: 'kim@entra.example' }))
    t.equal(response.statusCode, 200, `${op} with ${JSON.stringify(before)}: ${response.body}`)
    t.same((await readUser(tenant, id)).emails, after, `${op} with ${JSON.stringify(before)}`)
  }
})

t.test('member removal with a value array instead of a filter', async (t) => {
  const tenant = newTenant()
  const [a, b, c] = [await createUser(tenant, 'a@entra.example'), await createUser(tenant, 'b@entra.example'), await createUser(tenant, 'c@entra.example')]
  const groupId = await createGroup(tenant, 'Sales')
  await node.scim(tenant, 'PATCH', `Groups/${groupId}`, patch({ op: 'Add', path: 'members', value: [{ value: a }, { value: b }, { value: c }] }))
  const response = await node.scim(tenant, 'PATCH', `Groups/${groupId}`, patch({ op: 'Remove', path: 'members', value: [{ value: a }, { value: b }] }))
  t.equal(response.statusCode, 204, response.body)
  t.same(await memberIds(tenant, groupId), [c])
})

t.test('member add with "$ref": null', async (t) => {
  const tenant = newTenant()
  const a = await createUser(tenant, 'ref@entra.example')
  const groupId = await createGroup(tenant, 'Sales')
  const response = await node.scim(tenant, 'PATCH', `Groups/${groupId}`, patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: a }] }))
  t.equal(response.statusCode, 204, response.body)
  const group = (await node.scim(tenant, 'GET', `Groups/${groupId}`)).json()
  t.same(group.members.map((m: { value: string; type: string }) => [m.value, m.type]), [[a, 'User']])
  t.match(group.members[0].$ref, new RegExp(`/Users/${a}$`), 'the server fills in $ref')
})

t.test('several members per PATCH, in one operation and in several', async (t) => {
  const tenant = newTenant()
  const users = await Promise.all(['m1', 'm2', 'm3', 'm4', 'm5'].map((name) => createUser(tenant, `${name}@entra.example`)))
  const groupId = await createGroup(tenant, 'Sales')
  const response = await node.scim(
    tenant,
    'PATCH',
    `Groups/${groupId}`,
    patch(
      { op: 'Add', path: 'members', value: users.slice(0, 3).map((value) => ({ value })) },
      { op: 'Add', path: 'members', value: [{ value: users[3] }] },
      { op: 'Add', path: 'members', value: [{ value: users[4] }] },
      { op: 'Remove', path: 'members', value: [{ value: users[0] }] },
    ),
  )
  t.equal(response.statusCode, 204, response.body)
  t.same(await memberIds(tenant, groupId), users.slice(1).sort())
})

t.test('a group PATCH answers 204 No Content with an ETag', async (t) => {
  const tenant = newTenant()
  const groupId = await createGroup(tenant, 'Sales')
  const response = await node.scim(tenant, 'PATCH', `Groups/${groupId}`, patch({ op: 'Replace', path: 'displayName', value: 'Sales EMEA' }))
  t.equal(response.statusCode, 204)
  t.equal(response.body, '')
  const group = (await node.scim(tenant, 'GET', `Groups/${groupId}`)).json()
  t.equal(group.displayName, 'Sales EMEA')
  t.equal(response.headers.etag, group.meta.version)
})

t.test('groups are created empty with the ADSCIM schema URI, then members are patched in', async (t) => {
  const tenant = newTenant()
  const [a, b] = [await createUser(tenant, 'a@entra.example'), await createUser(tenant, 'b@entra.example')]
  const created = await node.scim(tenant, 'POST', 'Groups', fixture('create-group.json'))
  t.equal(created.statusCode, 201, created.body)
  const group = created.json()
  t.same(group.schemas, [GROUP_SCHEMA], 'the ADSCIM URI is ignored, not stored')
  t.equal(group.displayName, 'displayName')
  t.equal(group.externalId, '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159')
  t.same(group.members ?? [], [])
  const response = await node.scim(tenant, 'PATCH', `Groups/${group.id}`, patch({ op: 'Add', path: 'members', value: [{ value: a }, { value: b }] }))
  t.equal(response.statusCode, 204, response.body)
  t.same(await memberIds(tenant, group.id), [a, b].sort())
  const byExternalId = await node.scim(tenant, 'GET', `Groups?filter=${encodeURIComponent('externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"')}`)
  t.same(byExternalId.json().Resources.map((g: { id: string }) => g.id), [group.id])
})

t.test('excludedAttributes=members leaves members out and does not even load them', async (t) => {
  const tenant = newTenant()
  const a = await createUser(tenant, 'a@entra.example')
  const groupId = await createGroup(tenant, 'Readers')
  await node.scim(tenant, 'PATCH', `Groups/${groupId}`, patch({ op: 'Add', path: 'members', value: [{ value: a }] }))

  const sql = recordSql()
  const one = await node.scim(tenant, 'GET', `Groups/${groupId}?excludedAttributes=members`)
  const list = await node.scim(tenant, 'GET', `Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "Readers"')}`)
  sql.stop()

  t.equal(one.statusCode, 200, one.body)
  t.match(one.json(), { id: groupId, displayName: 'Readers' })
  t.notOk('members' in one.json())
  t.equal(list.statusCode, 200, list.body)
  t.equal(list.json().totalResults, 1)
  t.notOk('members' in list.json().Resources[0])
  t.ok(sql.statements.length > 0, 'the spy saw the reads')
  t.same(sql.statements.filter((text) => /group_members/i.test(text)), [], 'no query touched group_members')
  const control = recordSql()
  t.same(await memberIds(tenant, groupId), [a], 'without the parameter the members are there')
  control.stop()
  t.ok(control.statements.some((text) => /group_members/i.test(text)), 'the spy does see members being loaded when they are asked for')
})

t.test('null attributes and a malformed extension URN on create are read as absent', async (t) => {
  const tenant = newTenant()
  const response = await node.scim(tenant, 'POST', 'Users', {
    ...fixture('create-user.json'),
    schemas: [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0'],
    nickName: null,
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0': { department: 'lost' },
  })
  t.equal(response.statusCode, 201, response.body)
  const user = response.json()
  t.notOk('title' in user)
  t.notOk('preferredLanguage' in user)
  t.notOk('nickName' in user)
  t.same(user[ENTERPRISE], { employeeNumber: '1' }, 'null department and manager are absent; the malformed URN key is ignored')
  t.same(user.schemas, [USER_SCHEMA, ENTERPRISE])
  t.notMatch(response.body, /lost|null/)
})

t.test('manager as a bare id string, or as a {value,$ref} array', async (t) => {
  const tenant = newTenant()
  const managerId = await createUser(tenant, 'boss@entra.example')
  const bare = await createUser(tenant, 'bare@entra.example', { [ENTERPRISE]: { manager: managerId } })
  t.same((await readUser(tenant, bare))[ENTERPRISE].manager, { value: managerId }, 'POST with a bare string')
  const array = await createUser(tenant, 'array@entra.example', { [ENTERPRISE]: { manager: [{ value: managerId, $ref: `../Users/${managerId}` }] } })
  t.same((await readUser(tenant, array))[ENTERPRISE].manager, { value: managerId, $ref: `../Users/${managerId}` }, 'POST with a one-element array')

  const patched = await createUser(tenant, 'patched@entra.example')
  const response = await node.scim(tenant, 'PATCH', `Users/${patched}`, patch({ op: 'Add', path: `${ENTERPRISE}:manager`, value: managerId }))
  t.equal(response.statusCode, 200, response.body)
  t.same((await readUser(tenant, patched))[ENTERPRISE].manager, { value: managerId }, 'PATCH Add with a bare string')
})

// Entra sends app roles as JSON text inside `value` (docs/identity-providers.md#r2).
t.test('app roles arriving as JSON text inside value are stored as roles', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'roles@entra.example')
  const roles = [
    { primary: false, type: 'WindowsAzureActiveDirectoryRole', value: 'Admin' },
    { primary: false, type: 'WindowsAzureActiveDirectoryRole', value: 'Reader' },
  ]
  const response = await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'Add', path: 'roles', value: JSON.stringify(roles) }))
  t.equal(response.statusCode, 200, response.body)
  t.same((await readUser(tenant, id)).roles, roles)
})

t.test('test connection: a filter on a random GUID answers 200 with an empty ListResponse', async (t) => {
  const tenant = newTenant()
  await createUser(tenant, 'someone@entra.example')
  const guid = randomUUID()
  for (const path of [
    `Users?filter=${encodeURIComponent(`userName eq "${guid}"`)}`,
    `Users?filter=${encodeURIComponent(`externalId eq "${guid}"`)}`,
    `Users?filter=${encodeURIComponent(`id eq "${guid}"`)}`,
    `Groups?filter=${encodeURIComponent(`displayName eq "${guid}"`)}`,
  ]) {
    const response = await node.scim(tenant, 'GET', path)
    t.equal(response.statusCode, 200, `${path}: ${response.body}`)
    t.match(response.headers['content-type'], SCIM_JSON)
    t.strictSame(response.json(), { schemas: [LIST_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] }, path)
  }
})

t.test('Entra filters: eq and and on userName, externalId, work email and displayName, literals even unquoted', async (t) => {
  const tenant = newTenant()
  const kim = await createUser(tenant, 'kim@entra.example', { externalId: 'ext-kim', emails: [{ type: 'work', value: 'kim.work@entra.example' }] })
  await createUser(tenant, 'lee@entra.example', { externalId: 'ext-lee', emails: [{ type: 'work', value: 'lee.work@entra.example' }] })
  const groupId = await createGroup(tenant, 'Finance')
  for (const [resource, filter, expected] of [
    ['Users', 'userName eq "kim@entra.example"', [kim]],
    ['Users', 'externalId eq "ext-kim"', [kim]],
    ['Users', 'UserName eq "KIM@entra.example"', [kim]],
    ['Users', 'Emails[Type eq "work"].Value eq "kim.work@entra.example"', [kim]],
    ['Users', 'externalId eq "EXT-KIM"', []],
    ['Users', 'emails[type eq "work"].value eq "kim.work@entra.example"', [kim]],
    ['Users', 'userName eq "kim@entra.example" and externalId eq "ext-kim"', [kim]],
    ['Users', 'userName eq "kim@entra.example" and externalId eq "ext-lee"', []],
    ['Users', 'userName eq kim@entra.example', [kim]],
    ['Users', 'externalId eq ext-kim', [kim]],
    ['Groups', 'displayName eq "Finance"', [groupId]],
  ] as const) {
    const response = await node.scim(tenant, 'GET', `${resource}?filter=${encodeURIComponent(filter)}`)
    t.equal(response.statusCode, 200, `${filter}: ${response.body}`)
    t.same(response.json().Resources.map((r: { id: string }) => r.id), expected, filter)
  }
})

t.test('deactivation by Replace active=false: the inactive user is still returned on GET and in lists', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'leaver@entra.example')
  const response = await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'Replace', path: 'active', value: 'False' }))
  t.equal(response.statusCode, 200, response.body)
  const read = await node.scim(tenant, 'GET', `Users/${id}`)
  t.equal(read.statusCode, 200)
  t.equal(read.json().active, false)
  const list = await node.scim(tenant, 'GET', `Users?filter=${encodeURIComponent('userName eq "leaver@entra.example"')}`)
  t.same(list.json().Resources.map((u: { id: string; active: boolean }) => [u.id, u.active]), [[id, false]])
})

t.test('DELETE after a hard delete answers 204, then the user is gone', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'gone@entra.example')
  const response = await node.scim(tenant, 'DELETE', `Users/${id}`)
  t.equal(response.statusCode, 204, response.body)
  t.equal(response.body, '')
  t.equal((await node.scim(tenant, 'GET', `Users/${id}`)).statusCode, 404)
  t.equal((await node.scim(tenant, 'DELETE', `Users/${id}`)).statusCode, 404, 'a second DELETE is 404')
})

t.test('every response with a body is application/scim+json', async (t) => {
  const tenant = newTenant()
  const userId = await createUser(tenant, 'ct@entra.example')
  const groupId = await createGroup(tenant, 'CT')
  const cases: [string, string, unknown?][] = [
    ['GET', 'Users'],
    ['GET', `Users/${userId}`],
    ['POST', 'Users', { userName: 'ct2@entra.example' }],
    ['PUT', `Users/${userId}`, { userName: 'ct@entra.example', active: 'True' }],
    ['PATCH', `Users/${userId}`, patch({ op: 'Replace', path: 'displayName', value: 'CT' })],
    ['POST', 'Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq "ct@entra.example"' }],
    ['GET', 'Groups'],
    ['GET', `Groups/${groupId}?excludedAttributes=members`],
    ['PUT', `Groups/${groupId}`, { displayName: 'CT' }],
    ['GET', 'ServiceProviderConfig'],
    ['GET', 'ResourceTypes'],
    ['GET', 'Schemas'],
    ['POST', 'Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] }],
    ['GET', `Users/${randomUUID()}`],
    ['POST', 'Users', { userName: 'ct@entra.example' }],
    ['POST', 'Users', '{"userName":'],
    ['GET', `Users?filter=${encodeURIComponent('userName zz "x"')}`],
    ['GET', 'NoSuchEndpoint'],
  ]
  for (const [method, path, body] of cases) {
    const response = await node.scim(tenant, method, path, body)
    t.match(response.headers['content-type'], SCIM_JSON, `${method} ${path} → ${response.statusCode}`)
    t.doesNotThrow(() => JSON.parse(response.body), `${method} ${path} answers JSON`)
  }
  const unauthenticated = await node.app.inject({ method: 'GET', url: '/scim/v2/Users' })
  t.equal(unauthenticated.statusCode, 401)
  t.match(unauthenticated.headers['content-type'], SCIM_JSON, '401 without identity')
})

t.test('requests sent as application/json are accepted', async (t) => {
  const tenant = newTenant()
  for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/scim+json; charset=utf-8']) {
    const userName = `json-${contentType.replace(/\W+/g, '-')}@entra.example`
    const headers = { 'content-type': contentType }
    const created = await node.scim(tenant, 'POST', 'Users', { ...fixture('create-user.json'), userName }, headers)
    t.equal(created.statusCode, 201, `POST as ${contentType}: ${created.body}`)
    t.match(created.headers['content-type'], SCIM_JSON)
    const id = created.json().id
    const patched = await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'Replace', path: 'displayName', value: 'patched' }), headers)
    t.equal(patched.statusCode, 200, `PATCH as ${contentType}`)
    const replaced = await node.scim(tenant, 'PUT', `Users/${id}`, { userName, displayName: 'replaced' }, headers)
    t.equal(replaced.statusCode, 200, `PUT as ${contentType}`)
    t.equal((await readUser(tenant, id)).displayName, 'replaced')
  }
})

t.test('a body in another media type is 415 with a SCIM error', async (t) => {
  const response = await node.scim(newTenant(), 'POST', 'Users', 'userName=x', { 'content-type': 'application/x-www-form-urlencoded' })
  t.equal(response.statusCode, 415, response.body)
  t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '415' })
})
