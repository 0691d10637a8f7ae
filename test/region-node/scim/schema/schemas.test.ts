import t from 'tap'
import {
  COMMON_ATTRIBUTES,
  ENTERPRISE_USER_SCHEMA,
  ENTERPRISE_USER_SCHEMA_DEFINITION,
  GROUP_ACCESS_SCHEMA,
  GROUP_ACCESS_SCHEMA_DEFINITION,
  GROUP_RESOURCE_TYPE,
  GROUP_SCHEMA_DEFINITION,
  RESOURCE_TYPES,
  USER_RESOURCE_TYPE,
  USER_SCHEMA_DEFINITION,
  findAttributeDefinition,
} from '../../../../region-node/scim/schema/index.ts'
import type { AttributeDefinition, SchemaDefinition } from '../../../../region-node/scim/schema/index.ts'

function attribute(schema: SchemaDefinition | readonly AttributeDefinition[], path: string): AttributeDefinition {
  const [name = '', sub] = path.split('.')
  const attributes = Array.isArray(schema) ? schema : (schema as SchemaDefinition).attributes
  const found = findAttributeDefinition(attributes, name)
  const result = sub === undefined ? found : findAttributeDefinition(found?.subAttributes ?? [], sub)
  if (result === undefined) throw new Error(`no ${path}`)
  return result
}

t.test('the User schema has every attribute of RFC 7643 §4.1', async (t) => {
  t.same(
    USER_SCHEMA_DEFINITION.attributes.map(({ name }) => name),
    ['userName', 'name', 'displayName', 'nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone', 'active', 'password', 'emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'groups', 'entitlements', 'roles', 'x509Certificates'],
  )
  t.same(
    attribute(USER_SCHEMA_DEFINITION, 'name').subAttributes?.map(({ name }) => name),
    ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'],
  )
})

t.test('attribute characteristics the rest of scimgate relies on', async (t) => {
  const cases: [string, AttributeDefinition, Partial<AttributeDefinition>][] = [
    ['userName', attribute(USER_SCHEMA_DEFINITION, 'userName'), { required: true, uniqueness: 'server', caseExact: false }],
    ['password', attribute(USER_SCHEMA_DEFINITION, 'password'), { mutability: 'writeOnly', returned: 'never' }],
    ['groups', attribute(USER_SCHEMA_DEFINITION, 'groups'), { mutability: 'readOnly', multiValued: true }],
    ['groups.value', attribute(USER_SCHEMA_DEFINITION, 'groups.value'), { mutability: 'readOnly' }],
    ['emails', attribute(USER_SCHEMA_DEFINITION, 'emails'), { multiValued: true, type: 'complex' }],
    ['emails.primary', attribute(USER_SCHEMA_DEFINITION, 'emails.primary'), { type: 'boolean' }],
    ['x509Certificates.value', attribute(USER_SCHEMA_DEFINITION, 'x509Certificates.value'), { type: 'binary' }],
    ['active', attribute(USER_SCHEMA_DEFINITION, 'active'), { type: 'boolean' }],
    ['id', attribute(COMMON_ATTRIBUTES, 'id'), { mutability: 'readOnly', returned: 'always', caseExact: true }],
    ['externalId', attribute(COMMON_ATTRIBUTES, 'externalId'), { caseExact: true, uniqueness: 'none', mutability: 'readWrite' }],
    ['meta', attribute(COMMON_ATTRIBUTES, 'meta'), { mutability: 'readOnly' }],
    ['meta.lastModified', attribute(COMMON_ATTRIBUTES, 'meta.lastModified'), { type: 'dateTime', mutability: 'readOnly' }],
    ['manager.$ref', attribute(ENTERPRISE_USER_SCHEMA_DEFINITION, 'manager.$ref'), { type: 'reference', referenceTypes: ['User'] }],
    ['manager.displayName', attribute(ENTERPRISE_USER_SCHEMA_DEFINITION, 'manager.displayName'), { mutability: 'readOnly' }],
    ['Group displayName', attribute(GROUP_SCHEMA_DEFINITION, 'displayName'), { required: true }],
    ['members.value', attribute(GROUP_SCHEMA_DEFINITION, 'members.value'), { mutability: 'immutable' }],
    ['members.type', attribute(GROUP_SCHEMA_DEFINITION, 'members.type'), { canonicalValues: ['User', 'Group'] }],
    ['roles.value', attribute(GROUP_ACCESS_SCHEMA_DEFINITION, 'roles.value'), { required: true, type: 'string' }],
    ['scope', attribute(GROUP_ACCESS_SCHEMA_DEFINITION, 'scope'), { multiValued: false, type: 'complex' }],
    ['scope.type', attribute(GROUP_ACCESS_SCHEMA_DEFINITION, 'scope.type'), { canonicalValues: ['Exact'] }],
    ['scope.values', attribute(GROUP_ACCESS_SCHEMA_DEFINITION, 'scope.values'), { multiValued: true, type: 'string' }],
  ]
  for (const [label, definition, expected] of cases) t.match(definition, expected, label)
  t.same(ENTERPRISE_USER_SCHEMA_DEFINITION.attributes.map(({ name }) => name), ['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager'])
})

t.test('every definition is well formed', async (t) => {
  const check = (definition: AttributeDefinition, where: string, depth: number) => {
    t.equal(definition.type === 'complex', definition.subAttributes !== undefined, `${where}: complex iff subAttributes`)
    if (definition.subAttributes === undefined) return
    t.equal(depth, 0, `${where}: complex attributes do not nest (RFC 7643 §2.3.8)`)
    const names = definition.subAttributes.map(({ name }) => name.toLowerCase())
    t.equal(new Set(names).size, names.length, `${where}: sub-attribute names are unique`)
    for (const sub of definition.subAttributes) check(sub, `${where}.${sub.name}`, depth + 1)
  }
  for (const resourceType of RESOURCE_TYPES) {
    for (const schema of [resourceType.schema, ...resourceType.extensions.map(({ schema }) => schema)]) {
      const names = [...schema.attributes, ...COMMON_ATTRIBUTES].map(({ name }) => name.toLowerCase())
      t.equal(new Set(names).size, names.length, `${schema.id}: names are unique, and distinct from the common attributes`)
      for (const definition of schema.attributes) check(definition, `${schema.id}:${definition.name}`, 0)
    }
  }
})

t.test('resource types', async (t) => {
  t.match(USER_RESOURCE_TYPE, { id: 'User', endpoint: '/Users', extensions: [{ schema: { id: ENTERPRISE_USER_SCHEMA }, required: false }] })
  t.match(GROUP_RESOURCE_TYPE, { id: 'Group', endpoint: '/Groups', extensions: [{ schema: { id: GROUP_ACCESS_SCHEMA }, required: false }] })
  t.same(RESOURCE_TYPES.map(({ id }) => id), ['User', 'Group'])
})
