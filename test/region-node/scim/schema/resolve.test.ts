import t from 'tap'
import type { AttributePath } from '../../../../region-node/scim/filter/ast.ts'
import {
  ENTERPRISE_USER_SCHEMA,
  GROUP_ACCESS_SCHEMA,
  GROUP_RESOURCE_TYPE,
  GROUP_SCHEMA,
  USER_RESOURCE_TYPE,
  USER_SCHEMA,
  attributeShape,
  resolveAttribute,
} from '../../../../region-node/scim/schema/index.ts'
import type { ResourceTypeDefinition } from '../../../../region-node/scim/schema/index.ts'

type Expected = { schemaId: string; inExtension: boolean; attribute: string; subAttribute?: string } | undefined

const CASES: [string, ResourceTypeDefinition, AttributePath, Expected][] = [
  ['core attribute', USER_RESOURCE_TYPE, { attribute: 'userName' }, { schemaId: USER_SCHEMA, inExtension: false, attribute: 'userName' }],
  ['any letter case', USER_RESOURCE_TYPE, { attribute: 'USERNAME' }, { schemaId: USER_SCHEMA, inExtension: false, attribute: 'userName' }],
  ['sub-attribute', USER_RESOURCE_TYPE, { attribute: 'name', subAttribute: 'givenName' }, { schemaId: USER_SCHEMA, inExtension: false, attribute: 'name', subAttribute: 'givenName' }],
  ['Entra casing of a sub-attribute', USER_RESOURCE_TYPE, { attribute: 'emails', subAttribute: 'Value' }, { schemaId: USER_SCHEMA, inExtension: false, attribute: 'emails', subAttribute: 'value' }],
  ['URN-qualified core', USER_RESOURCE_TYPE, { uri: USER_SCHEMA, attribute: 'name', subAttribute: 'familyName' }, { schemaId: USER_SCHEMA, inExtension: false, attribute: 'name', subAttribute: 'familyName' }],
  ['core URN in odd case', USER_RESOURCE_TYPE, { uri: USER_SCHEMA.toUpperCase(), attribute: 'title' }, { schemaId: USER_SCHEMA, inExtension: false, attribute: 'title' }],
  ['enterprise', USER_RESOURCE_TYPE, { uri: ENTERPRISE_USER_SCHEMA, attribute: 'department' }, { schemaId: ENTERPRISE_USER_SCHEMA, inExtension: true, attribute: 'department' }],
  ['enterprise manager.value', USER_RESOURCE_TYPE, { uri: ENTERPRISE_USER_SCHEMA.toLowerCase(), attribute: 'Manager', subAttribute: 'value' }, { schemaId: ENTERPRISE_USER_SCHEMA, inExtension: true, attribute: 'manager', subAttribute: 'value' }],
  ['unsplit URN-qualified name', USER_RESOURCE_TYPE, { attribute: `${ENTERPRISE_USER_SCHEMA}:employeeNumber` }, { schemaId: ENTERPRISE_USER_SCHEMA, inExtension: true, attribute: 'employeeNumber' }],
  ['access extension roles.value', GROUP_RESOURCE_TYPE, { uri: GROUP_ACCESS_SCHEMA, attribute: 'roles', subAttribute: 'value' }, { schemaId: GROUP_ACCESS_SCHEMA, inExtension: true, attribute: 'roles', subAttribute: 'value' }],
  ['access extension scope.values', GROUP_RESOURCE_TYPE, { uri: GROUP_ACCESS_SCHEMA, attribute: 'scope', subAttribute: 'values' }, { schemaId: GROUP_ACCESS_SCHEMA, inExtension: true, attribute: 'scope', subAttribute: 'values' }],
  ['group members.value', GROUP_RESOURCE_TYPE, { attribute: 'members', subAttribute: 'value' }, { schemaId: GROUP_SCHEMA, inExtension: false, attribute: 'members', subAttribute: 'value' }],
  ['meta.lastModified', USER_RESOURCE_TYPE, { attribute: 'meta', subAttribute: 'lastModified' }, { schemaId: USER_SCHEMA, inExtension: false, attribute: 'meta', subAttribute: 'lastModified' }],
  ['id', GROUP_RESOURCE_TYPE, { attribute: 'id' }, { schemaId: GROUP_SCHEMA, inExtension: false, attribute: 'id' }],
  ['externalId, core-qualified', USER_RESOURCE_TYPE, { uri: USER_SCHEMA, attribute: 'externalid' }, { schemaId: USER_SCHEMA, inExtension: false, attribute: 'externalId' }],
  ['schemas', USER_RESOURCE_TYPE, { attribute: 'schemas' }, { schemaId: USER_SCHEMA, inExtension: false, attribute: 'schemas' }],
  ['unknown attribute', USER_RESOURCE_TYPE, { attribute: 'shoeSize' }, undefined],
  ['unknown sub-attribute', USER_RESOURCE_TYPE, { attribute: 'name', subAttribute: 'nickname' }, undefined],
  ['sub-attribute of a simple attribute', USER_RESOURCE_TYPE, { attribute: 'userName', subAttribute: 'value' }, undefined],
  ['extension attribute without its URN', USER_RESOURCE_TYPE, { attribute: 'department' }, undefined],
  ['extension of the other resource type', USER_RESOURCE_TYPE, { uri: GROUP_ACCESS_SCHEMA, attribute: 'roles' }, undefined],
  ['core URN of the other resource type', GROUP_RESOURCE_TYPE, { uri: USER_SCHEMA, attribute: 'displayName' }, undefined],
  ['core attribute under the extension URN', USER_RESOURCE_TYPE, { uri: ENTERPRISE_USER_SCHEMA, attribute: 'userName' }, undefined],
  ['unknown URN', USER_RESOURCE_TYPE, { uri: 'urn:example:unknown', attribute: 'userName' }, undefined],
]

t.test('resolveAttribute', async (t) => {
  for (const [label, resourceType, path, expected] of CASES) {
    const resolved = resolveAttribute(resourceType, path)
    const actual =
      resolved === undefined
        ? undefined
        : {
            schemaId: resolved.schemaId,
            inExtension: resolved.inExtension,
            attribute: resolved.attribute.name,
            ...(resolved.subAttribute === undefined ? {} : { subAttribute: resolved.subAttribute.name }),
          }
    t.same(actual, expected, label)
  }
})

t.test('attributeShape', async (t) => {
  const cases: [AttributePath, ReturnType<typeof attributeShape>][] = [
    [{ attribute: 'userName' }, { type: 'string', caseExact: false, multiValued: false }],
    [{ attribute: 'externalId' }, { type: 'string', caseExact: true, multiValued: false }],
    [{ attribute: 'id' }, { type: 'string', caseExact: true, multiValued: false }],
    [{ attribute: 'active' }, { type: 'boolean', caseExact: false, multiValued: false }],
    [{ attribute: 'emails' }, { type: 'complex', caseExact: false, multiValued: true }],
    [{ attribute: 'emails', subAttribute: 'value' }, { type: 'string', caseExact: false, multiValued: true }],
    [{ attribute: 'meta', subAttribute: 'lastModified' }, { type: 'dateTime', caseExact: false, multiValued: false }],
    [{ uri: ENTERPRISE_USER_SCHEMA, attribute: 'manager', subAttribute: 'value' }, { type: 'string', caseExact: false, multiValued: false }],
    [{ attribute: 'nope' }, undefined],
  ]
  for (const [path, expected] of cases) t.same(attributeShape(USER_RESOURCE_TYPE, path), expected, JSON.stringify(path))
  t.same(attributeShape(GROUP_RESOURCE_TYPE, { uri: GROUP_ACCESS_SCHEMA, attribute: 'scope', subAttribute: 'values' }), {
    type: 'string',
    caseExact: false,
    multiValued: true,
  })
})
