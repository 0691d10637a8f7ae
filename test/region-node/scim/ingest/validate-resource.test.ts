import t from 'tap'
import { MAX_MULTI_VALUES, MAX_STRING_LENGTH, validateResource } from '../../../../region-node/scim/ingest/index.ts'
import { defineAttribute } from '../../../../region-node/scim/schema/define-attribute.ts'
import {
  ENTERPRISE_USER_SCHEMA,
  GROUP_ACCESS_SCHEMA,
  GROUP_RESOURCE_TYPE,
  GROUP_SCHEMA,
  USER_RESOURCE_TYPE,
  USER_SCHEMA,
} from '../../../../region-node/scim/schema/index.ts'
import type { ResourceTypeDefinition, ScimResource } from '../../../../region-node/scim/schema/index.ts'

const longString = 'x'.repeat(MAX_STRING_LENGTH + 1)
const manyEmails = Array.from({ length: MAX_MULTI_VALUES + 1 }, (_, index) => ({ value: `u${index}@example.com` }))

const ERRORS: [string, ResourceTypeDefinition, ScimResource, number, string][] = [
  ['User without userName', USER_RESOURCE_TYPE, { displayName: 'x' }, 400, 'invalidValue'],
  ['empty userName', USER_RESOURCE_TYPE, { userName: '' }, 400, 'invalidValue'],
  ['blank userName', USER_RESOURCE_TYPE, { userName: ' \t ' }, 400, 'invalidValue'],
  ['null userName', USER_RESOURCE_TYPE, { userName: null }, 400, 'invalidValue'],
  ['Group without displayName', GROUP_RESOURCE_TYPE, { members: [] }, 400, 'invalidValue'],
  ['boolean string is not coerced by the strict core', USER_RESOURCE_TYPE, { userName: 'x', active: 'true' }, 400, 'invalidValue'],
  ['single object on a multi-valued attribute', USER_RESOURCE_TYPE, { userName: 'x', emails: { value: 'a' } }, 400, 'invalidValue'],
  ['null element', USER_RESOURCE_TYPE, { userName: 'x', emails: [null] }, 400, 'invalidValue'],
  ['string too long', USER_RESOURCE_TYPE, { userName: longString }, 400, 'invalidValue'],
  ['sub-attribute too long', USER_RESOURCE_TYPE, { userName: 'x', name: { givenName: longString } }, 400, 'invalidValue'],
  ['too many values', USER_RESOURCE_TYPE, { userName: 'x', emails: manyEmails }, 400, 'invalidValue'],
  ['bad meta dateTime', USER_RESOURCE_TYPE, { userName: 'x', meta: { lastModified: 'yesterday' } }, 400, 'invalidValue'],
  ['id that is not a string', USER_RESOURCE_TYPE, { userName: 'x', id: 7 }, 400, 'invalidValue'],
  ['extension that is not an object', USER_RESOURCE_TYPE, { userName: 'x', [ENTERPRISE_USER_SCHEMA]: [] }, 400, 'invalidValue'],
  ['role without value', GROUP_RESOURCE_TYPE, { displayName: 'g', [GROUP_ACCESS_SCHEMA]: { roles: [{ display: 'Admin' }] } }, 400, 'invalidValue'],
  ['role with blank value', GROUP_RESOURCE_TYPE, { displayName: 'g', [GROUP_ACCESS_SCHEMA]: { roles: [{ value: ' ' }] } }, 400, 'invalidValue'],
  ['scope.values not an array', GROUP_RESOURCE_TYPE, { displayName: 'g', [GROUP_ACCESS_SCHEMA]: { scope: { values: 'a' } } }, 400, 'invalidValue'],
]

t.test('validation errors', async (t) => {
  for (const [label, resourceType, resource, status, scimType] of ERRORS) {
    t.throws(() => validateResource(resource, resourceType, { mode: 'create' }), { name: 'ScimError', status, scimType }, label)
  }
})

t.test('a valid resource comes back as a new, cleaned object', async (t) => {
  const input: ScimResource = {
    schemas: ['urn:scim:schemas:core:2.0'],
    id: 'u-1',
    userName: 'kim',
    unknownThing: 1,
    Title: 'non-canonical keys are not the core\'s business: dropped',
    name: { givenName: 'Kim', familyName: null, nickname: 'unknown sub-attribute' },
    emails: [{ value: 'a@x', primary: true }, { value: 'b@x', primary: true }, { value: 'c@x', primary: true }],
    [ENTERPRISE_USER_SCHEMA]: { department: 'R&D' },
    'urn:example:unknown': { a: 1 },
    meta: { resourceType: 'User', lastModified: '2024-05-01T12:00:00Z', location: 'https://x/scim/Users/u-1', version: 'W/"1"' },
  }
  const snapshot = JSON.stringify(input)
  const result = validateResource(input, USER_RESOURCE_TYPE, { mode: 'create' })
  t.strictSame(result, {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    id: 'u-1',
    meta: { resourceType: 'User', lastModified: '2024-05-01T12:00:00Z', location: 'https://x/scim/Users/u-1', version: 'W/"1"' },
    userName: 'kim',
    name: { givenName: 'Kim' },
    // RFC 7643 §2.4: only the first primary stays primary.
    emails: [{ value: 'a@x', primary: true }, { value: 'b@x', primary: false }, { value: 'c@x', primary: false }],
    [ENTERPRISE_USER_SCHEMA]: { department: 'R&D' },
  })
  t.equal(JSON.stringify(input), snapshot, 'input not mutated')
  t.not(result.emails, input.emails, 'arrays are copies')
})

t.test('Group members have no element cap; other attributes do', async (t) => {
  const members = Array.from({ length: 5000 }, (_, index) => ({ value: `u${index}` }))
  const result = validateResource({ displayName: 'big', members }, GROUP_RESOURCE_TYPE, { mode: 'create' })
  t.equal((result.members as unknown[]).length, 5000)
  t.strictSame(result.schemas, [GROUP_SCHEMA])
  const roles = Array.from({ length: MAX_MULTI_VALUES }, (_, index) => ({ value: `r${index}` }))
  t.doesNotThrow(() => validateResource({ displayName: 'g', [GROUP_ACCESS_SCHEMA]: { roles } }, GROUP_RESOURCE_TYPE, { mode: 'create' }), 'exactly the cap is fine')
})

// None of the RFC resource attributes is immutable at the top level, so the
// rule is exercised on a resource type made for the test.
const IMMUTABLE_RESOURCE_TYPE: ResourceTypeDefinition = {
  ...USER_RESOURCE_TYPE,
  schema: {
    ...USER_RESOURCE_TYPE.schema,
    attributes: [
      ...USER_RESOURCE_TYPE.schema.attributes,
      defineAttribute('employeeKey', 'string', 'set once', { mutability: 'immutable' }),
      defineAttribute('badge', 'complex', 'a complex with an immutable part', {
        subAttributes: [
          defineAttribute('serial', 'string', 'set once', { mutability: 'immutable' }),
          defineAttribute('label', 'string', 'free'),
        ],
      }),
    ],
  },
}

t.test('immutable attributes on replace (RFC 7644 §3.5.1)', async (t) => {
  const existing: ScimResource = { userName: 'kim', employeeKey: 'K-1', badge: { serial: 'S-1', label: 'old' } }
  const replace = (resource: ScimResource) => validateResource(resource, IMMUTABLE_RESOURCE_TYPE, { mode: 'replace', existing })

  t.throws(() => replace({ userName: 'kim', employeeKey: 'K-2' }), { name: 'ScimError', status: 400, scimType: 'mutability' }, 'changed value')
  t.throws(() => replace({ userName: 'kim', badge: { serial: 'S-2' } }), { name: 'ScimError', status: 400, scimType: 'mutability' }, 'changed sub-attribute')
  t.match(replace({ userName: 'kim', employeeKey: 'K-1', badge: { serial: 'S-1', label: 'new' } }), { employeeKey: 'K-1', badge: { serial: 'S-1', label: 'new' } }, 'same value')
  t.match(replace({ userName: 'kim' }), { employeeKey: 'K-1', badge: { serial: 'S-1' } }, 'omitted → kept')
  t.match(
    validateResource({ userName: 'kim', employeeKey: 'K-9' }, IMMUTABLE_RESOURCE_TYPE, { mode: 'replace', existing: { userName: 'kim' } }),
    { employeeKey: 'K-9' },
    'first assignment on replace is allowed',
  )
  t.match(
    validateResource({ userName: 'kim', employeeKey: 'K-2' }, IMMUTABLE_RESOURCE_TYPE, { mode: 'create', existing }),
    { employeeKey: 'K-2' },
    'create ignores existing',
  )
})

t.test('Group members are added and removed, not compared as immutable', async (t) => {
  const existing = { displayName: 'g', members: [{ value: 'u1' }] }
  t.strictSame(
    validateResource({ displayName: 'g', members: [{ value: 'u2' }] }, GROUP_RESOURCE_TYPE, { mode: 'replace', existing }).members,
    [{ value: 'u2' }],
  )
})
