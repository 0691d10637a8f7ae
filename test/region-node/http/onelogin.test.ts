// OneLogin's SCIM connector, whose bodies come from an admin-edited JSON
// template (docs/identity-providers.md#onelogin).
import { readFileSync } from 'node:fs'
import t from 'tap'
import { startTestNode } from '../../helpers/region-node.ts'
import { scimCalls, tenantNames } from '../../helpers/scim-calls.ts'

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../fixtures/idp/onelogin/${name}`, import.meta.url), 'utf8'))

const node = await startTestNode(t)
const newTenant = tenantNames('onelogin')
const scim = scimCalls((tenant, method, path, body) => node.scim(tenant, method, path, body))

/** The template filled in for one user, as OneLogin sends it. */
const templateFor = (userName: string, overrides: Record<string, unknown> = {}) => ({
  ...fixture('user-template.json'),
  userName,
  emails: { value: userName, type: 'work', primary: 'true' },
  ...overrides,
})

const createUser = (tenant: string, userName: string): Promise<string> => scim.create(tenant, 'Users', templateFor(userName))

const { memberIds } = scim

t.test('a template body is created: "true" strings, "id": null, urn:scim:schemas:core:2.0, emails as one object', async (t) => {
  const tenant = newTenant()
  const response = await node.scim(tenant, 'POST', 'Users', fixture('user-template.json'))
  t.equal(response.statusCode, 201, response.body)
  const user = response.json()
  t.match(user.id, /^[0-9a-f-]{36}$/, 'the server assigns the id that arrived as null')
  t.same(user.schemas, [USER_SCHEMA], 'the non-standard core URN is replaced by the RFC one')
  t.equal(user.active, true, '"true" is the boolean true')
  t.same(user.emails, [{ value: 'jdoe@onelogin.example', type: 'work', primary: true }], 'one object becomes a one-element array, "true" primary a boolean')
  t.notOk('title' in user, 'title: null is absent')
  t.same(await (await node.scim(tenant, 'GET', `Users/${user.id}`)).json(), user, 'GET reads back what POST answered')
})

t.test('boolean strings of the template, per attribute', async (t) => {
  const tenant = newTenant()
  const cases = [
    { active: 'true', primary: 'true', expected: { active: true, primary: true } },
    { active: 'false', primary: 'false', expected: { active: false, primary: false } },
    { active: 'True', primary: 'FALSE', expected: { active: true, primary: false } },
  ]
  for (const [index, { active, primary, expected }] of cases.entries()) {
    const userName = `bool-${index}@onelogin.example`
    const response = await node.scim(tenant, 'POST', 'Users', templateFor(userName, { active, emails: { value: userName, type: 'work', primary } }))
    t.equal(response.statusCode, 201, response.body)
    const user = response.json()
    t.same({ active: user.active, primary: user.emails[0].primary }, expected, `active "${active}", primary "${primary}"`)
  }
})

t.test('users are updated with PUT of the template', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'jdoe@onelogin.example')
  const response = await node.scim(
    tenant,
    'PUT',
    `Users/${id}`,
    templateFor('jdoe@onelogin.example', {
      name: { givenName: 'Johnny', familyName: 'Doe' },
      displayName: 'Johnny Doe',
      title: 'Engineer',
      emails: { value: 'johnny@onelogin.example', type: 'work', primary: 'true' },
    }),
  )
  t.equal(response.statusCode, 200, response.body)
  const user = (await node.scim(tenant, 'GET', `Users/${id}`)).json()
  t.equal(user.id, id, '"id": null in a PUT does not change the id')
  t.same(user.name, { givenName: 'Johnny', familyName: 'Doe' }, 'PUT replaces name whole')
  t.equal(user.displayName, 'Johnny Doe')
  t.equal(user.title, 'Engineer')
  t.same(user.emails, [{ value: 'johnny@onelogin.example', type: 'work', primary: true }])
  t.equal(user.meta.version, 'W/"2"')
})

t.test('PUT of the template with active "false" deactivates, "true" reactivates', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'toggle@onelogin.example')
  for (const [text, active] of [['false', false], ['true', true]] as const) {
    const response = await node.scim(tenant, 'PUT', `Users/${id}`, templateFor('toggle@onelogin.example', { active: text }))
    t.equal(response.statusCode, 200, response.body)
    t.equal((await node.scim(tenant, 'GET', `Users/${id}`)).json().active, active, `active "${text}"`)
  }
})

t.test('a group from the template, then membership by PATCH on /Groups', async (t) => {
  const tenant = newTenant()
  const [a, b] = [await createUser(tenant, 'a@onelogin.example'), await createUser(tenant, 'b@onelogin.example')]
  const created = await node.scim(tenant, 'POST', 'Groups', fixture('create-group.json'))
  t.equal(created.statusCode, 201, created.body)
  const group = created.json()
  t.same(group.schemas, [GROUP_SCHEMA])
  t.equal(group.displayName, 'OneLogin Role')

  const add = await node.scim(tenant, 'PATCH', `Groups/${group.id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: a }, { value: b }] }] })
  t.equal(add.statusCode, 204, add.body)
  t.same(await memberIds(tenant, group.id), [a, b].sort())

  const remove = await node.scim(tenant, 'PATCH', `Groups/${group.id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'remove', path: `members[value eq "${a}"]` }] })
  t.equal(remove.statusCode, 204, remove.body)
  t.same(await memberIds(tenant, group.id), [b])
  t.same((await node.scim(tenant, 'GET', `Users/${b}`)).json().groups.map((g: { value: string }) => g.value), [group.id])
  t.notOk('groups' in (await node.scim(tenant, 'GET', `Users/${a}`)).json())
})

t.test('filter URLs with "+" for spaces and a stray trailing "&"', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'plus@onelogin.example')
  for (const query of ['filter=userName+eq+%22plus%40onelogin.example%22&', 'filter=userName+eq+"plus@onelogin.example"&', 'filter=userName%20eq%20%22plus@onelogin.example%22&&']) {
    const response = await node.scim(tenant, 'GET', `Users?${query}`)
    t.equal(response.statusCode, 200, `${query}: ${response.body}`)
    t.same(response.json().Resources.map((u: { id: string }) => u.id), [id], query)
  }
})
