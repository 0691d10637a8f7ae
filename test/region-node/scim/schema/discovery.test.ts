import t from 'tap'
import {
  ENTERPRISE_USER_SCHEMA,
  GROUP_ACCESS_SCHEMA,
  GROUP_RESOURCE_TYPE,
  RESOURCE_TYPES,
  USER_RESOURCE_TYPE,
  USER_SCHEMA,
  USER_SCHEMA_DEFINITION,
  resourceTypeDocument,
  schemasDocument,
  serviceProviderConfigDocument,
} from '../../../../region-node/scim/schema/index.ts'
import type { AttributeDefinition } from '../../../../region-node/scim/schema/index.ts'

const BASE_URL = 'https://ng-api-http.coralogix.com/scim/v2/'

type AttributeDocument = Record<string, unknown> & { subAttributes?: AttributeDocument[] }

function expectedDocument(definition: AttributeDefinition): AttributeDocument {
  return {
    name: definition.name,
    type: definition.type,
    multiValued: definition.multiValued,
    description: definition.description,
    required: definition.required,
    caseExact: definition.caseExact,
    mutability: definition.mutability,
    returned: definition.returned,
    uniqueness: definition.uniqueness,
    ...(definition.canonicalValues === undefined ? {} : { canonicalValues: definition.canonicalValues }),
    ...(definition.referenceTypes === undefined ? {} : { referenceTypes: definition.referenceTypes }),
    ...(definition.subAttributes === undefined ? {} : { subAttributes: definition.subAttributes.map(expectedDocument) }),
  }
}

t.test('schemasDocument lists every attribute with every characteristic', async (t) => {
  for (const resourceType of RESOURCE_TYPES) {
    for (const schema of [resourceType.schema, ...resourceType.extensions.map(({ schema }) => schema)]) {
      const document = schemasDocument(schema, BASE_URL)
      t.strictSame(
        document,
        {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
          id: schema.id,
          name: schema.name,
          description: schema.description,
          attributes: schema.attributes.map(expectedDocument),
          meta: { resourceType: 'Schema', location: `https://ng-api-http.coralogix.com/scim/v2/Schemas/${schema.id}` },
        },
        schema.id,
      )
      // The document is plain JSON.
      t.same(JSON.parse(JSON.stringify(document)), document)
    }
  }
  const user = schemasDocument(USER_SCHEMA_DEFINITION, 'https://x/scim') as { attributes: AttributeDocument[] }
  t.match(user.attributes.find(({ name }) => name === 'password'), { mutability: 'writeOnly', returned: 'never' })
  t.match(user.attributes.find(({ name }) => name === 'emails')?.subAttributes?.find(({ name }) => name === 'type'), {
    canonicalValues: ['work', 'home', 'other'],
  })
})

t.test('resourceTypeDocument', async (t) => {
  t.strictSame(resourceTypeDocument(USER_RESOURCE_TYPE, 'https://x/scim'), {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: USER_SCHEMA,
    schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
    meta: { resourceType: 'ResourceType', location: 'https://x/scim/ResourceTypes/User' },
  })
  t.match(resourceTypeDocument(GROUP_RESOURCE_TYPE, 'https://x/scim'), {
    id: 'Group',
    endpoint: '/Groups',
    schemaExtensions: [{ schema: GROUP_ACCESS_SCHEMA, required: false }],
  })
})

t.test('serviceProviderConfigDocument', async (t) => {
  const pagination = {
    cursor: true,
    index: true,
    defaultPaginationMethod: 'index',
    defaultPageSize: 100,
    maxPageSize: 1000,
    cursorTimeout: 3600,
  } as const
  const document = serviceProviderConfigDocument({
    baseUrl: 'https://x/scim/',
    bulk: { maxOperations: 1000, maxPayloadSize: 1_048_576 },
    filterMaxResults: 1000,
    pagination,
    documentationUri: 'https://docs.example/scim',
  })
  t.match(document, {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://docs.example/scim',
    patch: { supported: true },
    bulk: { supported: true, maxOperations: 1000, maxPayloadSize: 1_048_576 },
    filter: { supported: true, maxResults: 1000 },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    pagination,
    authenticationSchemes: [{ type: 'oauthbearertoken', primary: true, documentationUri: 'https://docs.example/scim' }],
    meta: { resourceType: 'ServiceProviderConfig', location: 'https://x/scim/ServiceProviderConfig' },
  })
  const bare = serviceProviderConfigDocument({ baseUrl: 'https://x/scim', bulk: { maxOperations: 1, maxPayloadSize: 1 }, filterMaxResults: 1, pagination })
  t.notOk('documentationUri' in bare)
})
