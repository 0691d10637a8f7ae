import t from 'tap'
import { describeScimRequest } from '../../lib/metrics/scim-operation.ts'

t.test('a SCIM request is classified by method and path, with or without v2 and a query', async (t) => {
  const cases: [string, string, string, string][] = [
    ['GET', '/scim/v2/Users', 'Users', 'list'],
    ['GET', '/scim/v2/Users?filter=userName%20eq%20%22a/b%22', 'Users', 'list'],
    ['POST', '/scim/Users', 'Users', 'create'],
    ['GET', '/scim/v2/users/2819c223', 'Users', 'get'],
    ['HEAD', '/scim/v2/Groups/1', 'Groups', 'get'],
    ['put', '/scim/v2/Groups/1', 'Groups', 'replace'],
    ['PATCH', '//scim//v2/Groups/1/', 'Groups', 'patch'],
    ['DELETE', '/scim/v2/Users/1', 'Users', 'delete'],
    ['POST', '/scim/v2/Users/.search', 'Users', 'search'],
    ['GET', '/scim/v2/Users/.search', 'Users', 'other'],
    ['POST', '/scim/v2/.search', '', 'search'],
    ['GET', '/scim/v2/.search', 'other', 'other'],
    ['POST', '/scim/v2/Bulk', 'Bulk', 'bulk'],
    ['GET', '/scim/v2/Bulk', 'Bulk', 'other'],
    ['POST', '/scim/v2/Bulk/1', 'Bulk', 'other'],
    ['GET', '/scim/v2/Schemas', 'Schemas', 'list'],
    ['GET', '/scim/v2/Users/1/extra', 'Users', 'other'],
    ['GET', '/scim/v2/Users/1/extra/more/still', 'Users', 'other'],
    ['OPTIONS', '/scim/v2/Users', 'Users', 'other'],
    ['GET', '/scim/v2/Unknown', 'other', 'other'],
    ['GET', '/metrics', 'other', 'other'],
    ['GET', '/', 'other', 'other'],
    ['GET', '/scim?x=/Users', 'other', 'other'],
  ]
  for (const [method, url, resourceType, operation] of cases) t.same(describeScimRequest(method, url), { resourceType, operation }, `${method} ${url}`)
})
