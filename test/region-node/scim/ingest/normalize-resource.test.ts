import t from 'tap'
import { normalizeResource, validateResource } from '../../../../region-node/scim/ingest/index.ts'
import {
  ENTERPRISE_USER_SCHEMA,
  GROUP_ACCESS_SCHEMA,
  GROUP_RESOURCE_TYPE,
  GROUP_SCHEMA,
  USER_RESOURCE_TYPE,
  USER_SCHEMA,
} from '../../../../region-node/scim/schema/index.ts'
import type { ResourceTypeDefinition, ScimResource } from '../../../../region-node/scim/schema/index.ts'

// What each identity provider really sends (docs/identity-providers.md), and
// what the strict core must receive.
const PROVIDER_CASES: [string, ResourceTypeDefinition, unknown, ScimResource][] = [
  [
    'Entra ID create: boolean strings, nulls, capitalised names, enterprise URN in odd case, manager as a bare string',
    USER_RESOURCE_TYPE,
    {
      schemas: [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7d2d6ba2b8a1',
      UserName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
      Active: 'True',
      displayName: 'BobIsAmazing',
      title: null,
      Emails: [{ Primary: 'true', Type: 'work', Value: 'Test_User_fd0ea19b@testuser.com' }],
      Name: { GivenName: 'Bob', FamilyName: 'Smith', Formatted: null },
      'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER': { Department: 'Sales', Manager: 'a1b2c3', employeeNumber: null },
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0': { department: 'malformed URN, ignored' },
      roles: [],
    },
    {
      schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7d2d6ba2b8a1',
      userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
      name: { familyName: 'Smith', givenName: 'Bob' },
      displayName: 'BobIsAmazing',
      active: true,
      emails: [{ value: 'Test_User_fd0ea19b@testuser.com', type: 'work', primary: true }],
      roles: [],
      [ENTERPRISE_USER_SCHEMA]: { department: 'Sales', manager: { value: 'a1b2c3' } },
    },
  ],
  [
    'Entra ID: manager as a {value,$ref} array, URN-qualified top-level key, ADSCIM schema URI',
    USER_RESOURCE_TYPE,
    {
      schemas: [USER_SCHEMA, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User'],
      userName: 'kim@contoso.com',
      active: 'False',
      [ENTERPRISE_USER_SCHEMA]: { manager: [{ value: 'm-1', $ref: null, displayName: 'Boss' }] },
      [`${ENTERPRISE_USER_SCHEMA}:employeeNumber`]: '42',
    },
    {
      schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
      userName: 'kim@contoso.com',
      active: false,
      [ENTERPRISE_USER_SCHEMA]: { employeeNumber: '42', manager: { value: 'm-1' } },
    },
  ],
  [
    'Okta create: password, groups: [], locale and displayName extras',
    USER_RESOURCE_TYPE,
    {
      schemas: [USER_SCHEMA],
      userName: 'isaac.brock@example.com',
      name: { givenName: 'Isaac', familyName: 'Brock' },
      emails: [{ primary: true, value: 'isaac.brock@example.com', type: 'work' }],
      displayName: 'Isaac Brock',
      locale: 'en-US',
      externalId: '00ujl29u0le5T6Aj10h7',
      groups: [],
      password: '1mz050nq',
      active: true,
    },
    {
      schemas: [USER_SCHEMA],
      externalId: '00ujl29u0le5T6Aj10h7',
      userName: 'isaac.brock@example.com',
      name: { familyName: 'Brock', givenName: 'Isaac' },
      displayName: 'Isaac Brock',
      locale: 'en-US',
      active: true,
      password: '1mz050nq',
      emails: [{ value: 'isaac.brock@example.com', type: 'work', primary: true }],
    },
  ],
  [
    'Okta PUT: id, meta and groups are read-only and ignored',
    USER_RESOURCE_TYPE,
    {
      schemas: [USER_SCHEMA],
      id: '23a35c27-23d3-4c03-b4c5-6443c09e7173',
      userName: 'test.user@okta.local',
      active: false,
      groups: [{ value: 'g1', display: 'G' }],
      meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z' },
    },
    { schemas: [USER_SCHEMA], userName: 'test.user@okta.local', active: false },
  ],
  [
    'OneLogin template: "true" string, "id": null, urn:scim:schemas:core:2.0, emails as one object',
    USER_RESOURCE_TYPE,
    {
      schemas: ['urn:scim:schemas:core:2.0'],
      id: null,
      userName: 'jane@onelogin.example',
      active: 'true',
      name: { givenName: 'Jane', familyName: 'Doe' },
      emails: { value: 'jane@onelogin.example', primary: 'TRUE', type: 'work' },
      externalId: 'ol-1234',
    },
    {
      schemas: [USER_SCHEMA],
      externalId: 'ol-1234',
      userName: 'jane@onelogin.example',
      name: { familyName: 'Doe', givenName: 'Jane' },
      active: true,
      emails: [{ value: 'jane@onelogin.example', type: 'work', primary: true }],
    },
  ],
  [
    'Entra ID group create: extra ADSCIM schema, empty',
    GROUP_RESOURCE_TYPE,
    {
      schemas: [GROUP_SCHEMA, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'Group1DisplayName',
      members: [],
    },
    { schemas: [GROUP_SCHEMA], externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159', displayName: 'Group1DisplayName', members: [] },
  ],
  [
    'Okta group push with members, access extension in odd case',
    GROUP_RESOURCE_TYPE,
    {
      schemas: [GROUP_SCHEMA],
      displayName: 'Engineering',
      members: [{ value: 'u1', display: 'Ann' }, { Value: 'u2', $REF: null }],
      [GROUP_ACCESS_SCHEMA.toUpperCase()]: { Roles: { value: 'admin', primary: 'false' }, scope: { type: 'Exact', values: 'team-a' } },
    },
    {
      schemas: [GROUP_SCHEMA, GROUP_ACCESS_SCHEMA],
      displayName: 'Engineering',
      members: [{ value: 'u1', display: 'Ann' }, { value: 'u2' }],
      [GROUP_ACCESS_SCHEMA]: { roles: [{ value: 'admin', primary: false }], scope: { type: 'Exact', values: ['team-a'] } },
    },
  ],
  [
    'the exactly-cased key wins over another spelling; empty complex values disappear',
    USER_RESOURCE_TYPE,
    { Title: 'ignored', title: 'kept', TITLE: 'ignored too', userName: 'x', name: { formatted: null }, [ENTERPRISE_USER_SCHEMA]: {} },
    { schemas: [USER_SCHEMA], userName: 'x', title: 'kept' },
  ],
  [
    'prototype-polluting keys are just unknown attributes',
    USER_RESOURCE_TYPE,
    JSON.parse('{"userName":"p","__proto__":{"admin":true},"constructor":{"x":1},"name":{"__proto__":{"y":1}}}'),
    { schemas: [USER_SCHEMA], userName: 'p' },
  ],
]

t.test('provider bodies normalise to the canonical wire shape', async (t) => {
  for (const [label, resourceType, body, expected] of PROVIDER_CASES) {
    const snapshot = JSON.stringify(body)
    const normalized = normalizeResource(body, resourceType)
    t.strictSame(normalized, expected, label)
    t.equal(JSON.stringify(body), snapshot, `${label}: input not mutated`)
    // …and the strict core accepts it unchanged.
    t.strictSame(validateResource(normalized, resourceType, { mode: 'create' }), expected, `${label}: validates`)
  }
  t.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype untouched')
})

t.test('bad bodies', async (t) => {
  const cases: [string, unknown, number, string][] = [
    ['an array', [{ userName: 'x' }], 400, 'invalidSyntax'],
    ['null', null, 400, 'invalidSyntax'],
    ['a string', 'userName=x', 400, 'invalidSyntax'],
    ['a number', 42, 400, 'invalidSyntax'],
    ['a boolean string that is not one', { userName: 'x', active: 'yes' }, 400, 'invalidValue'],
    ['a number for a string', { userName: 42 }, 400, 'invalidValue'],
    ['a string for a complex', { userName: 'x', name: 'Bob Smith' }, 400, 'invalidValue'],
    ['an email that is a string', { userName: 'x', emails: 'a@b.c' }, 400, 'invalidValue'],
    ['several values for a single-valued attribute', { userName: ['a', 'b'] }, 400, 'invalidValue'],
    ['extension that is not an object', { userName: 'x', [ENTERPRISE_USER_SCHEMA]: 'Sales' }, 400, 'invalidValue'],
    ['bad base64 certificate', { userName: 'x', x509Certificates: [{ value: 'not base64!' }] }, 400, 'invalidValue'],
  ]
  for (const [label, body, status, scimType] of cases) {
    t.throws(() => normalizeResource(body, USER_RESOURCE_TYPE), { name: 'ScimError', status, scimType }, label)
  }
})

t.test('error details name the offending attribute', async (t) => {
  t.throws(() => normalizeResource({ userName: 'x', emails: [{ value: 'a@b.c' }, { primary: 'maybe' }] }, USER_RESOURCE_TYPE), {
    message: /\/emails\/1\/primary/,
  })
  t.throws(() => normalizeResource({ userName: 'x', [ENTERPRISE_USER_SCHEMA]: { costCenter: 7 } }, USER_RESOURCE_TYPE), {
    message: new RegExp(`/${ENTERPRISE_USER_SCHEMA}/costCenter`),
  })
})
