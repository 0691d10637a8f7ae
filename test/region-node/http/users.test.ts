// Product rules on Users over HTTP (docs/architecture.md#product-rules): derived read-only groups,
// ETags, userName uniqueness under concurrency, SCIM error bodies, Bulk and
// tenant isolation.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { IDENTITY_HEADER, generateIdentityKeyPair, signIdentity } from '../../../lib/internal-identity.ts'
import { startTestNode } from '../../helpers/region-node.ts'
import { patchRequest, scimCalls, tenantNames } from '../../helpers/scim-calls.ts'

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'
const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse'

const node = await startTestNode(t)
const newTenant = tenantNames('users')

const patch = patchRequest
const scim = scimCalls((tenant, method, path, body) => node.scim(tenant, method, path, body))

const createUser = (tenant: string, userName: string): Promise<string> => scim.create(tenant, 'Users', { schemas: [USER_SCHEMA], userName })

const createGroup = (tenant: string, displayName: string, members: readonly string[] = []): Promise<string> =>
  scim.create(tenant, 'Groups', { displayName, members: members.map((value) => ({ value })) })

const { groupsOf } = scim

/** `userName` with the letter case of each character chosen by the bits of `variant`. */
function caseVariant(text: string, variant: number): string {
  return [...text].map((char, index) => ((variant >> index) & 1 ? char.toUpperCase() : char.toLowerCase())).join('')
}

t.test('user.groups is derived from group membership, with display, type and $ref', async (t) => {
  const tenant = newTenant()
  const userId = await createUser(tenant, 'derived@example.com')
  const groupId = await createGroup(tenant, 'Readers', [userId])
  const user = (await node.scim(tenant, 'GET', `Users/${userId}`)).json()
  t.same(user.groups, [{ value: groupId, $ref: `http://localhost:80/scim/v2/Groups/${groupId}`, display: 'Readers', type: 'direct' }])

  await node.scim(tenant, 'PATCH', `Groups/${groupId}`, patch({ op: 'replace', path: 'displayName', value: 'Writers' }))
  t.equal((await node.scim(tenant, 'GET', `Users/${userId}`)).json().groups[0].display, 'Writers', 'a renamed group shows its new name')
  const listed = await node.scim(tenant, 'GET', `Users?filter=${encodeURIComponent('userName eq "derived@example.com"')}`)
  t.same(listed.json().Resources[0].groups.map((g: { value: string }) => g.value), [groupId], 'lists carry groups too')
})

t.test('PATCH on user.groups is 400 mutability and changes nothing', async (t) => {
  const tenant = newTenant()
  const userId = await createUser(tenant, 'readonly@example.com')
  const groupId = await createGroup(tenant, 'Readers', [userId])
  const other = await createGroup(tenant, 'Other')
  for (const operation of [
    { op: 'add', path: 'groups', value: [{ value: other }] },
    { op: 'replace', path: 'groups', value: [] },
    { op: 'remove', path: 'groups' },
    { op: 'remove', path: `groups[value eq "${groupId}"]` },
  ]) {
    const response = await node.scim(tenant, 'PATCH', `Users/${userId}`, patch(operation))
    t.equal(response.statusCode, 400, `${operation.op} ${operation.path}: ${response.body}`)
    t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '400', scimType: 'mutability' })
  }
  t.same(await groupsOf(tenant, userId), [groupId])
})

t.test('groups sent on POST and PUT are ignored: membership changes only through the group', async (t) => {
  const tenant = newTenant()
  const groupId = await createGroup(tenant, 'Readers')
  const created = await node.scim(tenant, 'POST', 'Users', { userName: 'sneaky@example.com', groups: [{ value: groupId }] })
  t.equal(created.statusCode, 201, created.body)
  const userId = created.json().id
  t.same(await groupsOf(tenant, userId), [])
  const put = await node.scim(tenant, 'PUT', `Users/${userId}`, { userName: 'sneaky@example.com', groups: [{ value: groupId }] })
  t.equal(put.statusCode, 200, put.body)
  t.same(await groupsOf(tenant, userId), [])
})

t.test('the ETag header is meta.version on every response with a body', async (t) => {
  const tenant = newTenant()
  const created = await node.scim(tenant, 'POST', 'Users', { userName: 'etag@example.com' })
  const id = created.json().id
  const responses = [
    ['POST', created],
    ['GET', await node.scim(tenant, 'GET', `Users/${id}`)],
    ['PUT', await node.scim(tenant, 'PUT', `Users/${id}`, { userName: 'etag@example.com', title: 'a' })],
    ['PATCH', await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'replace', path: 'title', value: 'b' }))],
  ] as const
  for (const [method, response] of responses) {
    t.match(response.headers.etag, /^W\/"\d+"$/, `${method} sends an ETag`)
    t.equal(response.headers.etag, response.json().meta.version, `${method}: ETag = meta.version`)
  }
  t.same(responses.map(([, r]) => r.headers.etag), ['W/"1"', 'W/"1"', 'W/"2"', 'W/"3"'], 'each write is a new version')
})

t.test('a stale If-Match is 412 and changes nothing; the current one succeeds', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'ifmatch@example.com')
  await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'replace', path: 'title', value: 'v2' }))
  const stale = { 'if-match': 'W/"1"' }
  for (const [method, body] of [
    ['PUT', { userName: 'ifmatch@example.com', title: 'stale' }],
    ['PATCH', patch({ op: 'replace', path: 'title', value: 'stale' })],
    ['DELETE', undefined],
  ] as const) {
    const response = await node.scim(tenant, method, `Users/${id}`, body, stale)
    t.equal(response.statusCode, 412, `${method}: ${response.body}`)
    t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '412' })
  }
  const current = (await node.scim(tenant, 'GET', `Users/${id}`)).json()
  t.equal(current.title, 'v2')
  t.equal(current.meta.version, 'W/"2"')
  const fresh = await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'replace', path: 'title', value: 'v3' }), { 'if-match': 'W/"2"' })
  t.equal(fresh.statusCode, 200, fresh.body)
  t.equal(fresh.json().title, 'v3')
  const star = await node.scim(tenant, 'DELETE', `Users/${id}`, undefined, { 'if-match': '*' })
  t.equal(star.statusCode, 204, 'If-Match: * matches any version')
})

t.test('If-None-Match with the current version is 304; with an old one, 200', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'ifnonematch@example.com')
  const unchanged = await node.scim(tenant, 'GET', `Users/${id}`, undefined, { 'if-none-match': 'W/"1"' })
  t.equal(unchanged.statusCode, 304)
  t.equal(unchanged.body, '')
  t.equal(unchanged.headers.etag, 'W/"1"')
  await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'replace', path: 'title', value: 'changed' }))
  const changed = await node.scim(tenant, 'GET', `Users/${id}`, undefined, { 'if-none-match': 'W/"1"' })
  t.equal(changed.statusCode, 200)
  t.equal(changed.json().title, 'changed')
  t.equal(changed.headers.etag, 'W/"2"')
})

t.test('20 concurrent POSTs of one userName in different letter cases: exactly one 201, the rest 409 uniqueness', async (t) => {
  const tenant = newTenant()
  const names = Array.from({ length: 20 }, (_, i) => `${caseVariant('concurrent.user', i * 37 + 1)}@example.com`)
  t.equal(new Set(names).size, 20, 'twenty different spellings')
  const responses = await Promise.all(names.map((userName) => node.scim(tenant, 'POST', 'Users', { userName })))
  const statuses = responses.map((r) => r.statusCode).sort()
  t.same(statuses, [201, ...Array<number>(19).fill(409)])
  for (const response of responses.filter((r) => r.statusCode === 409)) {
    t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness' })
  }
  const list = await node.scim(tenant, 'GET', `Users?filter=${encodeURIComponent('userName eq "CONCURRENT.USER@example.com"')}`)
  t.equal(list.json().totalResults, 1)
})

t.test('userName is unique case-insensitively on PUT and PATCH too; externalId is not unique', async (t) => {
  const tenant = newTenant()
  await createUser(tenant, 'taken@example.com')
  const id = await createUser(tenant, 'free@example.com')
  const put = await node.scim(tenant, 'PUT', `Users/${id}`, { userName: 'TAKEN@example.com' })
  t.equal(put.statusCode, 409, put.body)
  t.match(put.json(), { scimType: 'uniqueness' })
  const patched = await node.scim(tenant, 'PATCH', `Users/${id}`, patch({ op: 'replace', path: 'userName', value: 'Taken@Example.com' }))
  t.equal(patched.statusCode, 409, patched.body)
  t.match(patched.json(), { scimType: 'uniqueness' })
  t.equal((await node.scim(tenant, 'GET', `Users/${id}`)).json().userName, 'free@example.com')
  for (const userName of ['ext-a@example.com', 'ext-b@example.com']) {
    t.equal((await node.scim(tenant, 'POST', 'Users', { userName, externalId: 'shared-key' })).statusCode, 201, `externalId reused by ${userName}`)
  }
})

t.test('bad input answers a SCIM error with the right status and scimType', async (t) => {
  const tenant = newTenant()
  const id = await createUser(tenant, 'errors@example.com')
  const cases: { name: string; method: string; path: string; body?: unknown; status: number; scimType?: string }[] = [
    { name: 'truncated JSON', method: 'POST', path: 'Users', body: '{"userName":', status: 400, scimType: 'invalidSyntax' },
    { name: 'not JSON at all', method: 'PUT', path: `Users/${id}`, body: 'userName=x', status: 400, scimType: 'invalidSyntax' },
    { name: 'empty body', method: 'POST', path: 'Users', body: '', status: 400, scimType: 'invalidSyntax' },
    { name: 'a JSON array', method: 'POST', path: 'Users', body: '[]', status: 400, scimType: 'invalidSyntax' },
    { name: 'PATCH without Operations', method: 'PATCH', path: `Users/${id}`, body: { schemas: [PATCH_SCHEMA] }, status: 400, scimType: 'invalidSyntax' },
    { name: 'unknown op', method: 'PATCH', path: `Users/${id}`, body: patch({ op: 'merge', path: 'title', value: 'x' }), status: 400, scimType: 'invalidSyntax' },
    { name: 'userName a number', method: 'POST', path: 'Users', body: { userName: 42 }, status: 400, scimType: 'invalidValue' },
    { name: 'userName missing', method: 'POST', path: 'Users', body: { displayName: 'nobody' }, status: 400, scimType: 'invalidValue' },
    { name: 'active not a boolean', method: 'POST', path: 'Users', body: { userName: 'x@example.com', active: 'maybe' }, status: 400, scimType: 'invalidValue' },
    { name: 'name a string', method: 'POST', path: 'Users', body: { userName: 'y@example.com', name: 'Kim' }, status: 400, scimType: 'invalidValue' },
    { name: 'emails a number', method: 'POST', path: 'Users', body: { userName: 'z@example.com', emails: 5 }, status: 400, scimType: 'invalidValue' },
    { name: 'PATCH active to a number', method: 'PATCH', path: `Users/${id}`, body: patch({ op: 'replace', path: 'active', value: 5 }), status: 400, scimType: 'invalidValue' },
    { name: 'PATCH id', method: 'PATCH', path: `Users/${id}`, body: patch({ op: 'replace', path: 'id', value: randomUUID() }), status: 400, scimType: 'mutability' },
    { name: 'PATCH meta.created', method: 'PATCH', path: `Users/${id}`, body: patch({ op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' }), status: 400, scimType: 'mutability' },
    { name: 'remove userName', method: 'PATCH', path: `Users/${id}`, body: patch({ op: 'remove', path: 'userName' }), status: 400, scimType: 'mutability' },
    { name: 'unknown attribute path', method: 'PATCH', path: `Users/${id}`, body: patch({ op: 'replace', path: 'favouriteColour', value: 'blue' }), status: 400, scimType: 'invalidPath' },
    { name: 'unknown sub-attribute path', method: 'PATCH', path: `Users/${id}`, body: patch({ op: 'replace', path: 'name.nickName', value: 'K' }), status: 400, scimType: 'invalidPath' },
    { name: 'unclosed value filter', method: 'PATCH', path: `Users/${id}`, body: patch({ op: 'replace', path: 'emails[type eq "work"', value: 'x' }), status: 400, scimType: 'invalidPath' },
    { name: 'remove without path', method: 'PATCH', path: `Users/${id}`, body: patch({ op: 'remove' }), status: 400, scimType: 'noTarget' },
    { name: 'bad filter', method: 'GET', path: `Users?filter=${encodeURIComponent('userName zz "x"')}`, status: 400, scimType: 'invalidFilter' },
    { name: 'filter on an unknown attribute', method: 'GET', path: `Users?filter=${encodeURIComponent('shoeSize eq "9"')}`, status: 400, scimType: 'invalidFilter' },
    { name: 'GET unknown id', method: 'GET', path: `Users/${randomUUID()}`, status: 404 },
    { name: 'GET id that is no UUID', method: 'GET', path: 'Users/not-a-uuid', status: 404 },
    { name: 'PUT unknown id', method: 'PUT', path: `Users/${randomUUID()}`, body: { userName: 'ghost@example.com' }, status: 404 },
    { name: 'PATCH unknown id', method: 'PATCH', path: `Users/${randomUUID()}`, body: patch({ op: 'replace', path: 'title', value: 'x' }), status: 404 },
    { name: 'DELETE unknown id', method: 'DELETE', path: `Users/${randomUUID()}`, status: 404 },
    { name: 'unknown endpoint', method: 'GET', path: 'Robots', status: 404 },
  ]
  for (const { name, method, path, body, status, scimType } of cases) {
    const response = await node.scim(tenant, method, path, body)
    t.equal(response.statusCode, status, `${name}: ${response.body}`)
    t.match(response.headers['content-type'], /^application\/scim\+json/, name)
    const error = response.json()
    t.same(error.schemas, [ERROR_SCHEMA], name)
    t.equal(error.status, String(status), `${name}: status is a string`)
    t.equal(error.scimType, scimType, `${name}: scimType`)
    t.type(error.detail, 'string', name)
  }
  const user = (await node.scim(tenant, 'GET', `Users/${id}`)).json()
  t.equal(user.meta.version, 'W/"1"', 'no bad request changed the user')
})

t.test('a request without a valid identity is 401', async (t) => {
  const stranger = await generateIdentityKeyPair()
  const cases: [string, Record<string, string>][] = [
    ['no identity header', {}],
    ['an empty identity header', { [IDENTITY_HEADER]: '' }],
    ['garbage', { [IDENTITY_HEADER]: 'not-a-jwt' }],
    ['signed by an unknown key', { [IDENTITY_HEADER]: await signIdentity(stranger.signingKey, { tenantId: 'acme', tokenId: 't', region: node.config.region.code, scopes: ['scim'] }, 300) }],
    ['issued for another region', { [IDENTITY_HEADER]: await signIdentity(node.keys.signingKey, { tenantId: 'acme', tokenId: 't', region: 'US1', scopes: ['scim'] }, 300) }],
  ]
  for (const [name, headers] of cases) {
    for (const [method, url] of [['GET', '/scim/v2/Users'], ['POST', '/scim/v2/Users']] as const) {
      const response = await node.app.inject({ method, url, headers: { ...headers, 'content-type': 'application/scim+json' }, payload: method === 'POST' ? JSON.stringify({ userName: 'intruder@example.com' }) : undefined })
      t.equal(response.statusCode, 401, `${name}, ${method}`)
      t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '401' })
    }
  }
  t.equal((await node.scim('acme', 'GET', `Users?filter=${encodeURIComponent('userName eq "intruder@example.com"')}`)).json().totalResults, 0, 'no POST got through')
})

t.test('Bulk creates a user and a group whose members reference the user by bulkId, in any order', async (t) => {
  const tenant = newTenant()
  const response = await node.scim(tenant, 'POST', 'Bulk', {
    schemas: [BULK_REQUEST],
    Operations: [
      { method: 'POST', path: '/Groups', bulkId: 'g1', data: { displayName: 'Bulk Group', members: [{ type: 'User', value: 'bulkId:u1' }] } },
      { method: 'POST', path: '/Users', bulkId: 'u1', data: { schemas: [USER_SCHEMA], userName: 'bulk@example.com' } },
    ],
  })
  t.equal(response.statusCode, 200, response.body)
  const result = response.json()
  t.same(result.schemas, [BULK_RESPONSE])
  t.same(result.Operations.map((o: { bulkId: string; status: string; method: string }) => [o.bulkId, o.method, o.status]), [['g1', 'POST', '201'], ['u1', 'POST', '201']])
  const locations = Object.fromEntries(result.Operations.map((o: { bulkId: string; location: string }) => [o.bulkId, o.location]))
  const userId = /\/Users\/([0-9a-f-]{36})$/.exec(locations.u1)?.[1]
  const groupId = /\/Groups\/([0-9a-f-]{36})$/.exec(locations.g1)?.[1]
  t.ok(userId !== undefined && groupId !== undefined, 'each result has the location of what it created')
  const group = (await node.scim(tenant, 'GET', `Groups/${groupId}`)).json()
  t.same(group.members.map((m: { value: string }) => m.value), [userId], 'bulkId:u1 resolved to the new user id')
  t.same(await groupsOf(tenant, userId!), [groupId])
})

t.test('Bulk failOnErrors stops after that many errors', async (t) => {
  const tenant = newTenant()
  await createUser(tenant, 'dup@example.com')
  const operations = [
    { method: 'POST', path: '/Users', bulkId: 'dup', data: { userName: 'DUP@example.com' } },
    { method: 'POST', path: '/Users', bulkId: 'bad', data: { userName: 7 } },
    { method: 'POST', path: '/Users', bulkId: 'late', data: { userName: 'late@example.com' } },
  ]
  const stopped = await node.scim(tenant, 'POST', 'Bulk', { schemas: [BULK_REQUEST], failOnErrors: 1, Operations: operations })
  t.equal(stopped.statusCode, 200, stopped.body)
  t.same(stopped.json().Operations.map((o: { bulkId: string; status: string }) => [o.bulkId, o.status]), [['dup', '409']])
  t.match(stopped.json().Operations[0].response, { schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness' })
  t.equal((await node.scim(tenant, 'GET', `Users?filter=${encodeURIComponent('userName eq "late@example.com"')}`)).json().totalResults, 0, 'nothing after the stop ran')

  const all = await node.scim(tenant, 'POST', 'Bulk', { schemas: [BULK_REQUEST], failOnErrors: 5, Operations: operations })
  t.same(all.json().Operations.map((o: { bulkId: string; status: string }) => [o.bulkId, o.status]), [['dup', '409'], ['bad', '400'], ['late', '201']])
  t.match(all.json().Operations[1].response, { status: '400', scimType: 'invalidValue' })
})

t.test('Bulk with more operations than maxOperations is 413 and runs none', async (t) => {
  const tenant = newTenant()
  const max = node.config.limits.bulkMaxOperations
  const config = (await node.scim(tenant, 'GET', 'ServiceProviderConfig')).json()
  t.equal(config.bulk.maxOperations, max, 'the limit is advertised')
  const operations = Array.from({ length: max + 1 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: { userName: `u${i}@example.com` } }))
  const response = await node.scim(tenant, 'POST', 'Bulk', { schemas: [BULK_REQUEST], Operations: operations })
  t.equal(response.statusCode, 413, response.body.slice(0, 300))
  t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '413' })
  t.equal((await node.scim(tenant, 'GET', 'Users?count=0')).json().totalResults, 0)
})

t.test('tenant B cannot read, change, delete or list tenant A\'s users', async (t) => {
  const [a, b] = [newTenant(), newTenant()]
  const id = await createUser(a, 'private@example.com')
  const cases: [string, string, unknown?][] = [
    ['GET', `Users/${id}`],
    ['PUT', `Users/${id}`, { userName: 'hijacked@example.com' }],
    ['PATCH', `Users/${id}`, patch({ op: 'replace', path: 'active', value: false })],
    ['DELETE', `Users/${id}`],
  ]
  for (const [method, path, body] of cases) {
    const response = await node.scim(b, method, path, body)
    t.equal(response.statusCode, 404, `${method} as B: ${response.body}`)
    t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '404' })
  }
  for (const path of ['Users', `Users?filter=${encodeURIComponent('userName eq "private@example.com"')}`, `Users?filter=${encodeURIComponent(`id eq "${id}"`)}`]) {
    const response = await node.scim(b, 'GET', path)
    t.equal(response.json().totalResults, 0, `B lists ${path}`)
  }
  const search = await node.scim(b, 'POST', 'Users/.search', { filter: 'userName eq "private@example.com"' })
  t.equal(search.json().totalResults, 0, 'B searches')
  const bulk = await node.scim(b, 'POST', 'Bulk', { schemas: [BULK_REQUEST], Operations: [{ method: 'DELETE', path: `/Users/${id}` }] })
  t.same(bulk.json().Operations.map((o: { status: string }) => o.status), ['404'], 'B deletes through Bulk')

  const user = (await node.scim(a, 'GET', `Users/${id}`)).json()
  t.match(user, { userName: 'private@example.com', active: true, meta: { version: 'W/"1"' } }, 'A\'s user is untouched')
  t.equal((await node.scim(b, 'POST', 'Users', { userName: 'private@example.com' })).statusCode, 201, 'userName is unique per tenant only')
})

t.test('Bulk: a reference to a failed operation, and a cycle, are 409 without a scimType (RFC 7644 §3.12 pairs invalidValue with 400 only)', async (t) => {
  const tenant = newTenant()
  await createUser(tenant, 'taken@example.com')
  const response = await node.scim(tenant, 'POST', 'Bulk', {
    schemas: [BULK_REQUEST],
    Operations: [
      { method: 'POST', path: '/Users', bulkId: 'dup', data: { userName: 'TAKEN@example.com' } },
      { method: 'POST', path: '/Groups', bulkId: 'g1', data: { displayName: 'G1', members: [{ value: 'bulkId:dup' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'a', data: { displayName: 'A', members: [{ value: 'bulkId:b' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'b', data: { displayName: 'B', members: [{ value: 'bulkId:a' }] } },
    ],
  })
  t.equal(response.statusCode, 200, response.body)
  const results = response.json().Operations as { bulkId: string; status: string; response?: { status: string; scimType?: string } }[]
  t.same(results.map((o) => [o.bulkId, o.status]).sort(), [['a', '409'], ['b', '409'], ['dup', '409'], ['g1', '409']])
  for (const result of results.filter((o) => o.bulkId !== 'dup')) {
    t.equal(result.response?.status, '409')
    t.equal(result.response?.scimType, undefined, `${result.bulkId}: no scimType with 409 but uniqueness`)
  }
})
