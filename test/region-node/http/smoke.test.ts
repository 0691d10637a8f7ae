import t from 'tap'
import { startTestNode } from '../../helpers/region-node.ts'

t.test('create and read a user', async (t) => {
  const node = await startTestNode(t)
  const created = await node.scim('acme', 'POST', 'Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'bjensen@example.com', name: { givenName: 'Barbara' } })
  t.equal(created.statusCode, 201, created.body)
  t.match(created.headers['content-type'], /application\/scim\+json/)
  const user = created.json()
  const read = await node.scim('acme', 'GET', `Users/${user.id}`)
  t.equal(read.statusCode, 200, read.body)
  t.equal(read.json().userName, 'bjensen@example.com')
  const list = await node.scim('acme', 'GET', 'Users?filter=' + encodeURIComponent('userName eq "BJENSEN@example.com"'))
  t.equal(list.statusCode, 200, list.body)
  t.equal(list.json().totalResults, 1)
})
