// Issue 9.5: deeply nested client JSON (a 20,000-deep array inside a /Bulk
// operation gave a 500 from recursive reference resolution) is a 400 SCIM error
// wherever it arrives: /Bulk, PATCH values, resources, searches, filters.
import t from 'tap'
import { startTestNode } from '../helpers/region-node.ts'
import { patchRequest, scimCalls } from '../helpers/scim-calls.ts'

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'
const DEPTH = 20_000
const deepArray = `${'['.repeat(DEPTH)}"x"${']'.repeat(DEPTH)}`
const deepObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`

const node = await startTestNode(t)
const tenant = 'deep-json'
const scim = scimCalls((tenantId, method, path, body) => node.scim(tenantId, method, path, body))
const userId = await scim.create(tenant, 'Users', { userName: 'deep@example.com' })

const bodies: Record<string, [method: string, path: string, body: string]> = {
  'a /Bulk operation': ['POST', 'Bulk', `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"b1","data":{"userName":"bulk@example.com","x":${deepArray}}}]}`],
  'a /Bulk operation of bulkId references': ['POST', 'Bulk', `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Groups","bulkId":"g1","data":{"displayName":"g","members":${deepObject}}}]}`],
  'a PATCH value': ['PATCH', `Users/${userId}`, JSON.stringify(patchRequest({ op: 'replace', path: 'displayName', value: 'v' })).replace('"v"', deepArray)],
  'a created resource': ['POST', 'Users', `{"userName":"new@example.com","name":${deepObject}}`],
  'a replaced resource': ['PUT', `Users/${userId}`, `{"userName":"deep@example.com","emails":${deepArray}}`],
  'a SearchRequest': ['POST', 'Users/.search', `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"attributes":${deepArray}}`],
}

for (const [where, [method, path, body]] of Object.entries(bodies)) {
  for (const contentType of ['application/scim+json', 'application/json']) {
    t.test(`a 20,000-deep structure in ${where} (${contentType}) is a 400 SCIM error`, async (t) => {
      const response = await node.scim(tenant, method, path, body, { 'content-type': contentType })
      t.equal(response.statusCode, 400, response.body.slice(0, 300))
      t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '400', scimType: /^(invalidSyntax|invalidValue)$/ })
    })
  }
}

t.test('a 20,000-deep filter is a 400 invalidFilter', async (t) => {
  const filter = `${'('.repeat(DEPTH)}userName eq "a"${')'.repeat(DEPTH)}`
  const response = await node.scim(tenant, 'GET', `Users?filter=${encodeURIComponent(filter)}`)
  t.equal(response.statusCode, 400, response.body.slice(0, 300))
  t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidFilter' })
})

t.test('ordinary nesting still passes, and nothing was written by the refused requests', async (t) => {
  const response = await node.scim(tenant, 'PATCH', `Users/${userId}`, patchRequest({ op: 'add', value: { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { manager: { value: userId } } } }))
  t.equal(response.statusCode, 200, response.body)
  const list = await scim.read(tenant, 'Users')
  t.equal(list.totalResults, 1)
})
