import t from 'tap'
import { IDENTITY_HEADER, generateIdentityKeyPair, signIdentity } from '../../../lib/internal-identity.ts'
import { startTestNode } from '../../helpers/region-node.ts'

t.test('the node trusts only a valid identity signed for its region', async (t) => {
  const node = await startTestNode(t, { region: 'EU1' })
  const stranger = await generateIdentityKeyPair(node.keys.signingKey.kid)
  const claims = { tenantId: 'acme', tokenId: 'tok', scopes: ['scim'] as const }
  const cases: [string, Record<string, string>][] = [
    ['no identity', {}],
    ['garbage', { [IDENTITY_HEADER]: 'not-a-jwt' }],
    ['another region', { [IDENTITY_HEADER]: await signIdentity(node.keys.signingKey, { ...claims, region: 'US1' }, 60) }],
    ['another key with the same kid', { [IDENTITY_HEADER]: await signIdentity(stranger.signingKey, { ...claims, region: 'EU1' }, 60) }],
    ['expired', { [IDENTITY_HEADER]: await signIdentity(node.keys.signingKey, { ...claims, region: 'EU1' }, -60) }],
    ['bearer token instead of identity', { authorization: 'Bearer scimgate_EU1_whatever' }],
  ]
  for (const [name, headers] of cases) {
    const response = await node.app.inject({ method: 'GET', url: '/scim/v2/Users', headers })
    t.equal(response.statusCode, 401, name)
    t.match(response.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' }, name)
  }
  const ok = await node.app.inject({ method: 'GET', url: '/scim/v2/Users', headers: await node.identity('acme') })
  t.equal(ok.statusCode, 200)
})

t.test('the admin route needs the admin scope; SCIM routes need the scim scope', async (t) => {
  const node = await startTestNode(t)
  const group = (await node.scim('acme', 'POST', 'Groups', { displayName: 'ops' })).json()
  const access = { roles: ['Admin'], scope: { type: 'Exact', values: ['team-a'] } }
  const asScim = await node.app.inject({ method: 'PUT', url: `/admin/v1/groups/${group.id}/access`, headers: { ...(await node.identity('acme')), 'content-type': 'application/json' }, payload: access })
  t.equal(asScim.statusCode, 403)
  const asAdmin = await node.app.inject({ method: 'PUT', url: `/admin/v1/groups/${group.id}/access`, headers: { ...(await node.identity('acme', ['admin'])), 'content-type': 'application/json' }, payload: access })
  t.equal(asAdmin.statusCode, 200, asAdmin.body)
  t.match(asAdmin.json()['urn:scimgate:params:scim:schemas:extension:access:2.0:Group'], { roles: [{ value: 'Admin' }], scope: { type: 'Exact', values: ['team-a'] } })
  const adminOnScim = await node.app.inject({ method: 'GET', url: '/scim/v2/Users', headers: await node.identity('acme', ['admin']) })
  t.equal(adminOnScim.statusCode, 403)
})

t.test('discovery documents', async (t) => {
  const node = await startTestNode(t)
  const spc = await node.scim('acme', 'GET', 'ServiceProviderConfig')
  t.equal(spc.statusCode, 200)
  t.match(spc.json(), { patch: { supported: true }, bulk: { supported: true, maxOperations: node.config.limits.bulkMaxOperations }, filter: { supported: true }, etag: { supported: true }, pagination: { cursor: true, index: true, maxPageSize: node.config.limits.maxPageSize } })
  const types = (await node.scim('acme', 'GET', 'ResourceTypes')).json()
  t.same(types.Resources.map((r: { id: string }) => r.id), ['User', 'Group'])
  const schemas = (await node.scim('acme', 'GET', 'Schemas')).json()
  t.same(schemas.Resources.map((s: { id: string }) => s.id).sort(), [
    'urn:ietf:params:scim:schemas:core:2.0:Group',
    'urn:ietf:params:scim:schemas:core:2.0:User',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    'urn:scimgate:params:scim:schemas:extension:access:2.0:Group',
  ])
  const user = await node.scim('acme', 'GET', 'Schemas/urn:ietf:params:scim:schemas:core:2.0:User')
  t.equal(user.statusCode, 200)
  t.ok(user.json().attributes.some((a: { name: string; returned: string }) => a.name === 'password' && a.returned === 'never'))
  t.equal((await node.scim('acme', 'GET', 'Schemas/urn:nope')).statusCode, 404)
  t.equal((await node.scim('acme', 'GET', 'ResourceTypes/Group')).json().endpoint, '/Groups')
})

t.test('unknown endpoints and methods are SCIM errors', async (t) => {
  const node = await startTestNode(t)
  for (const [method, url] of [['GET', '/scim/v2/Nope'], ['POST', '/scim/v2/Users/123'], ['GET', '/'], ['DELETE', '/scim/v2/Users']] as const) {
    const response = await node.app.inject({ method, url, headers: await node.identity('acme') })
    t.equal(response.statusCode, 404, `${method} ${url}`)
    t.match(response.headers['content-type'], /application\/scim\+json/)
  }
})
