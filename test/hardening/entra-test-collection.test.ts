// Issue 9.9: what Entra ID's own SCIM test collection sends and scimgate
// refused or ignored: endpoints in other letter case, group members as bare
// string ids, and `attributes=emails[type eq "work"]`.
import t from 'tap'
import { startSystem } from '../helpers/system.ts'

const EU1 = 'eu1.localhost'
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

const system = await startSystem(t, { regions: ['EU1'] })
const { token } = await system.createToken('entra', 'EU1')
const call = (method: string, path: string, body?: unknown) => system.request(EU1, method, path, { token, ...(body === undefined ? {} : { body }) })

t.test('resource endpoints answer in any letter case: /scim/v2/users, /scim/v2/GROUPS', async (t) => {
  const created = await call('POST', '/scim/v2/users', { userName: 'case@entra.example' })
  t.equal(created.status, 201, created.body)
  const id = created.json().id
  for (const path of [`/scim/v2/users/${id}`, `/scim/v2/USERS/${id}`, '/scim/v2/users?filter=userName%20eq%20%22case@entra.example%22', '/scim/v2/groups', '/scim/v2/serviceproviderconfig']) {
    const response = await call('GET', path)
    t.equal(response.status, 200, `${path}: ${response.body.slice(0, 200)}`)
  }
  const group = await call('POST', '/scim/v2/groups', { displayName: 'Case' })
  t.equal(group.status, 201, group.body)
  const patched = await call('PATCH', `/scim/v2/groups/${group.json().id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] })
  t.equal(patched.status, 204, patched.body)
})

t.test('a members add with bare string ids adds those members', async (t) => {
  const users = await Promise.all(['m1', 'm2', 'm3'].map(async (name) => (await call('POST', '/scim/v2/Users', { userName: `${name}@entra.example` })).json().id as string))
  const groupId = (await call('POST', '/scim/v2/Groups', { displayName: 'Bare ids' })).json().id
  const single = await call('PATCH', `/scim/v2/Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Add', path: 'members', value: users[0] }] })
  t.equal(single.status, 204, single.body)
  const list = await call('PATCH', `/scim/v2/Groups/${groupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Add', path: 'members', value: [users[1], users[2]] }] })
  t.equal(list.status, 204, list.body)
  const members = (await call('GET', `/scim/v2/Groups/${groupId}`)).json().members.map((m: { value: string }) => m.value).sort()
  t.same(members, [...users].sort())
})

t.test('attributes=emails[type eq "work"] answers the matching sub-values', async (t) => {
  const created = await call('POST', '/scim/v2/Users', {
    userName: 'mail@entra.example',
    emails: [
      { value: 'work@entra.example', type: 'work', primary: true },
      { value: 'home@entra.example', type: 'home' },
    ],
  })
  const id = created.json().id
  const one = await call('GET', `/scim/v2/Users/${id}?attributes=${encodeURIComponent('emails[type eq "work"]')}`)
  t.equal(one.status, 200, one.body)
  t.same(one.json().emails, [{ value: 'work@entra.example', type: 'work', primary: true }], 'only the work email, whole')
  const value = await call('GET', `/scim/v2/Users/${id}?attributes=${encodeURIComponent('emails[type eq "work"].value')}`)
  t.same(value.json().emails, [{ value: 'work@entra.example' }], 'only its value')
  const listed = await call('GET', `/scim/v2/Users?filter=${encodeURIComponent(`id eq "${id}"`)}&attributes=${encodeURIComponent('emails[type eq "work"],userName')}`)
  t.equal(listed.status, 200, listed.body)
  t.same(listed.json().Resources[0].emails, [{ value: 'work@entra.example', type: 'work', primary: true }])
  t.equal(listed.json().Resources[0].userName, 'mail@entra.example')
  const none = await call('GET', `/scim/v2/Users/${id}?attributes=${encodeURIComponent('emails[type eq "other"]')}`)
  t.notOk('emails' in none.json(), 'no matching value: no emails')
  const bad = await call('GET', `/scim/v2/Users/${id}?attributes=${encodeURIComponent('emails[type eq ]')}`)
  t.equal(bad.status, 400, 'a malformed value filter is a 400')
  t.equal(bad.json().schemas[0], 'urn:ietf:params:scim:api:messages:2.0:Error')
})
