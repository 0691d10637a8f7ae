// Issue 9.14: an identity provider's token could always set a group's roles
// and scope through the access extension. Now that needs the token scope
// `groups:access:write` (off by default); without it the write is refused whole
// with a 403 SCIM error. Team admins (admin API) can always set access.
import t from 'tap'
import { parseScopes } from '../../cli/token-command.ts'
import { startSystem } from '../helpers/system.ts'

const EU1 = 'eu1.localhost'
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ACCESS_SCHEMA = 'urn:scimgate:params:scim:schemas:extension:access:2.0:Group'
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ACCESS = { roles: [{ value: 'Admin' }], scope: { type: 'Exact', values: ['team-a'] } }

const system = await startSystem(t, { regions: ['EU1'] })
const plain = await system.createToken('acme', 'EU1')
const withScopeResponse = await system.admin('POST', '/admin/v1/tokens', { tenantId: 'acme', region: 'EU1', scopes: ['scim', 'groups:access:write'] })
const withScope = (await withScopeResponse.json()) as { token: string; scopes: string[] }

const call = (token: string, method: string, path: string, body?: unknown) => system.request(EU1, method, `/scim/v2/${path}`, { token, ...(body === undefined ? {} : { body }) })
const readGroup = async (id: string) => (await call(plain.token, 'GET', `Groups/${id}`)).json()

t.test('the admin API creates tokens with the groups:access:write scope', async (t) => {
  t.equal(withScopeResponse.status, 201)
  t.same(withScope.scopes, ['scim', 'groups:access:write'])
})

t.test('the token CLI accepts the groups:access:write scope', async (t) => {
  t.same(parseScopes('scim,groups:access:write'), ['scim', 'groups:access:write'])
})

t.test('a token without the scope cannot set roles or scope: 403, nothing written', async (t) => {
  const created = await call(plain.token, 'POST', 'Groups', { schemas: [GROUP_SCHEMA, ACCESS_SCHEMA], displayName: 'With access', [ACCESS_SCHEMA]: ACCESS })
  t.equal(created.status, 403, created.body)
  t.match(created.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '403' })
  const none = await call(plain.token, 'GET', `Groups?filter=${encodeURIComponent('displayName eq "With access"')}`)
  t.equal(none.json().totalResults, 0, 'the refused create wrote nothing')

  const id = (await call(plain.token, 'POST', 'Groups', { schemas: [GROUP_SCHEMA], displayName: 'Team' })).json().id
  const userId = (await call(plain.token, 'POST', 'Users', { userName: 'kim@acme.example' })).json().id
  const patched = await call(plain.token, 'PATCH', `Groups/${id}`, {
    schemas: [PATCH_SCHEMA],
    Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }, { op: 'add', path: `${ACCESS_SCHEMA}:roles`, value: [{ value: 'Admin' }] }],
  })
  t.equal(patched.status, 403, patched.body)
  const replaced = await call(plain.token, 'PUT', `Groups/${id}`, { schemas: [GROUP_SCHEMA, ACCESS_SCHEMA], displayName: 'Team', [ACCESS_SCHEMA]: ACCESS })
  t.equal(replaced.status, 403, replaced.body)
  const group = await readGroup(id)
  t.notOk(ACCESS_SCHEMA in group, 'no roles or scope were set')
  t.notOk('members' in group, 'the PATCH was refused whole: its member add was rolled back')
  t.equal(group.meta.version, 'W/"1"')
})

t.test('a token without the scope still provisions groups whose access an admin set', async (t) => {
  const id = (await call(plain.token, 'POST', 'Groups', { schemas: [GROUP_SCHEMA], displayName: 'Admins' })).json().id
  const set = await system.admin('PUT', `/admin/v1/regions/EU1/tenants/acme/groups/${id}/access`, { roles: ['Admin'], scope: { type: 'Exact', values: ['team-a'] } })
  t.equal(set.status, 200, 'team admins can always set access')
  const renamed = await call(plain.token, 'PUT', `Groups/${id}`, { schemas: [GROUP_SCHEMA], displayName: 'Admins (renamed)' })
  t.equal(renamed.status, 200, renamed.body)
  const echoed = await call(plain.token, 'PUT', `Groups/${id}`, { schemas: [GROUP_SCHEMA, ACCESS_SCHEMA], displayName: 'Admins', [ACCESS_SCHEMA]: ACCESS })
  t.equal(echoed.status, 200, `echoing the roles and scope unchanged is not a change: ${echoed.body}`)
  t.same((await readGroup(id))[ACCESS_SCHEMA], ACCESS)
})

t.test('a token created with groups:access:write sets roles and scope', async (t) => {
  const created = await call(withScope.token, 'POST', 'Groups', { schemas: [GROUP_SCHEMA, ACCESS_SCHEMA], displayName: 'Entra roles', [ACCESS_SCHEMA]: ACCESS })
  t.equal(created.status, 201, created.body)
  const id = created.json().id
  const patched = await call(withScope.token, 'PATCH', `Groups/${id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: `${ACCESS_SCHEMA}:scope`, value: { type: 'Exact', values: ['team-b'] } }] })
  t.equal(patched.status, 204, patched.body)
  t.same((await readGroup(id))[ACCESS_SCHEMA].scope, { type: 'Exact', values: ['team-b'] })
})
