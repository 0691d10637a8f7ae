// Issue 9.6: a PATCH that removes `active` must never reactivate a deactivated user.
import t from 'tap'
import { startTestNode } from '../helpers/region-node.ts'
import { patchRequest, scimCalls, tenantNames } from '../helpers/scim-calls.ts'

const node = await startTestNode(t)
const newTenant = tenantNames('remove-active')
const scim = scimCalls((tenant, method, path, body) => node.scim(tenant, method, path, body))

t.test('a PATCH removing active keeps a deactivated user deactivated', async (t) => {
  const tenant = newTenant()
  const id = await scim.create(tenant, 'Users', { userName: 'kim@example.com', active: false })
  for (const body of [patchRequest({ op: 'remove', path: 'active' }), patchRequest({ op: 'Remove', path: 'active' }), patchRequest({ op: 'remove', path: 'active' }, { op: 'replace', path: 'displayName', value: 'Kim' })]) {
    const response = await node.scim(tenant, 'PATCH', `Users/${id}`, body)
    t.equal(response.statusCode, 200, response.body)
    t.equal(response.json().active, false, 'the answer says deactivated')
    t.equal((await scim.read(tenant, `Users/${id}`)).active, false, 'the stored user stays deactivated')
  }
})

t.test('a PATCH removing active leaves an active user active; only an explicit true reactivates', async (t) => {
  const tenant = newTenant()
  const id = await scim.create(tenant, 'Users', { userName: 'lee@example.com' })
  const removed = await node.scim(tenant, 'PATCH', `Users/${id}`, patchRequest({ op: 'remove', path: 'active' }))
  t.equal(removed.json().active, true)
  await node.scim(tenant, 'PATCH', `Users/${id}`, patchRequest({ op: 'replace', path: 'active', value: false }))
  const reactivated = await node.scim(tenant, 'PATCH', `Users/${id}`, patchRequest({ op: 'replace', path: 'active', value: true }))
  t.equal(reactivated.json().active, true)
})
