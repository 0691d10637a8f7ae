import t from 'tap'
import { isAttributeReturned, parseAttributeList, projectResource } from '../../../../region-node/scim/projection/index.ts'
import type { AttributeRequest } from '../../../../region-node/scim/projection/index.ts'
import {
  ENTERPRISE_USER_SCHEMA,
  GROUP_ACCESS_SCHEMA,
  GROUP_RESOURCE_TYPE,
  GROUP_SCHEMA,
  USER_RESOURCE_TYPE,
  USER_SCHEMA,
} from '../../../../region-node/scim/schema/index.ts'
import type { ScimResource } from '../../../../region-node/scim/schema/index.ts'

const META = { resourceType: 'User', created: '2024-01-01T00:00:00Z', lastModified: '2024-05-01T12:00:00Z', location: 'https://x/scim/Users/u-1', version: 'W/"3"' }

const USER: ScimResource = {
  schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
  id: 'u-1',
  externalId: 'ext-1',
  userName: 'bjensen',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  password: 'never shown',
  active: true,
  emails: [{ value: 'b@work', type: 'work', primary: true }, { value: 'b@home', type: 'home' }],
  groups: [{ value: 'g-1', display: 'Admins' }],
  [ENTERPRISE_USER_SCHEMA]: { department: 'Tour Operations', manager: { value: 'm-1', displayName: 'John' } },
  meta: META,
}

const { password: _password, ...USER_WITHOUT_PASSWORD } = USER

const CASES: [string, AttributeRequest, ScimResource][] = [
  ['no parameters: all but password', {}, USER_WITHOUT_PASSWORD],
  ['attributes=userName: id and schemas always', { attributes: ['userName'] }, { schemas: USER.schemas as string[], id: 'u-1', userName: 'bjensen' }],
  ['attributes names are case-insensitive', { attributes: ['USERNAME', 'Name.GivenName'] }, { schemas: USER.schemas as string[], id: 'u-1', userName: 'bjensen', name: { givenName: 'Barbara' } }],
  ['attributes=emails.value', { attributes: ['emails.value'] }, { schemas: USER.schemas as string[], id: 'u-1', emails: [{ value: 'b@work' }, { value: 'b@home' }] }],
  ['attributes=emails.type,emails.value', { attributes: ['emails.type', 'emails.value'] }, { schemas: USER.schemas as string[], id: 'u-1', emails: [{ value: 'b@work', type: 'work' }, { value: 'b@home', type: 'home' }] }],
  ['attributes=password: never', { attributes: ['password'] }, { schemas: USER.schemas as string[], id: 'u-1' }],
  ['attributes=meta.lastModified', { attributes: ['meta.lastModified'] }, { schemas: USER.schemas as string[], id: 'u-1', meta: { lastModified: META.lastModified } }],
  ['attributes=URN-qualified core', { attributes: [`${USER_SCHEMA}:name.familyName`] }, { schemas: USER.schemas as string[], id: 'u-1', name: { familyName: 'Jensen' } }],
  [
    'attributes=enterprise manager',
    { attributes: [`${ENTERPRISE_USER_SCHEMA.toLowerCase()}:manager`] },
    { schemas: USER.schemas as string[], id: 'u-1', [ENTERPRISE_USER_SCHEMA]: { manager: { value: 'm-1', displayName: 'John' } } },
  ],
  [
    'attributes=whole enterprise extension',
    { attributes: [ENTERPRISE_USER_SCHEMA] },
    { schemas: USER.schemas as string[], id: 'u-1', [ENTERPRISE_USER_SCHEMA]: USER[ENTERPRISE_USER_SCHEMA] as ScimResource },
  ],
  ['attributes=unknown: only the always attributes', { attributes: ['shoeSize'] }, { schemas: USER.schemas as string[], id: 'u-1' }],
  ['excludedAttributes=emails,groups', { excludedAttributes: ['emails', 'groups'] }, (({ emails: _e, groups: _g, ...rest }) => rest)(USER_WITHOUT_PASSWORD)],
  ['excludedAttributes=id: id is always returned', { excludedAttributes: ['id'] }, USER_WITHOUT_PASSWORD],
  ['excludedAttributes=meta', { excludedAttributes: ['Meta'] }, (({ meta: _m, ...rest }) => rest)(USER_WITHOUT_PASSWORD)],
  ['excludedAttributes=name.givenName', { excludedAttributes: ['name.givenName'] }, { ...USER_WITHOUT_PASSWORD, name: { familyName: 'Jensen' } }],
  [
    'excludedAttributes=emails.type,emails.primary',
    { excludedAttributes: ['emails.type', 'emails.primary'] },
    { ...USER_WITHOUT_PASSWORD, emails: [{ value: 'b@work' }, { value: 'b@home' }] },
  ],
  [
    'excludedAttributes=enterprise department',
    { excludedAttributes: [`${ENTERPRISE_USER_SCHEMA}:department`] },
    { ...USER_WITHOUT_PASSWORD, [ENTERPRISE_USER_SCHEMA]: { manager: { value: 'm-1', displayName: 'John' } } },
  ],
  ['excludedAttributes=whole extension', { excludedAttributes: [ENTERPRISE_USER_SCHEMA] }, (({ [ENTERPRISE_USER_SCHEMA]: _x, ...rest }) => rest)(USER_WITHOUT_PASSWORD)],
  ['attributes wins when both are given', { attributes: ['userName'], excludedAttributes: ['userName'] }, { schemas: USER.schemas as string[], id: 'u-1', userName: 'bjensen' }],
  ['empty lists mean no parameter', { attributes: [], excludedAttributes: [] }, USER_WITHOUT_PASSWORD],
]

t.test('projectResource on a User', async (t) => {
  const snapshot = JSON.stringify(USER)
  for (const [label, request, expected] of CASES) t.strictSame(projectResource(USER, USER_RESOURCE_TYPE, request), expected, label)
  t.equal(JSON.stringify(USER), snapshot, 'input not mutated')
  t.not(projectResource(USER, USER_RESOURCE_TYPE, {}).emails, USER.emails, 'arrays are copies')
})

t.test('projectResource drops what no schema defines', async (t) => {
  t.strictSame(projectResource({ schemas: [USER_SCHEMA], id: 'u', userName: 'x', secret: 1, 'urn:x': { a: 1 } }, USER_RESOURCE_TYPE, {}), {
    schemas: [USER_SCHEMA],
    id: 'u',
    userName: 'x',
  })
})

const GROUP: ScimResource = {
  schemas: [GROUP_SCHEMA, GROUP_ACCESS_SCHEMA],
  id: 'g-1',
  displayName: 'Admins',
  members: [{ value: 'u-1', display: 'Barbara', type: 'User' }],
  [GROUP_ACCESS_SCHEMA]: { roles: [{ value: 'admin' }], scope: { type: 'Exact', values: ['a'] } },
  meta: { resourceType: 'Group' },
}

t.test('projectResource on a Group', async (t) => {
  t.strictSame(projectResource(GROUP, GROUP_RESOURCE_TYPE, { excludedAttributes: ['members'] }), (({ members: _m, ...rest }) => rest)(GROUP))
  t.strictSame(projectResource(GROUP, GROUP_RESOURCE_TYPE, { attributes: [`${GROUP_ACCESS_SCHEMA}:scope.values`] }), {
    schemas: GROUP.schemas as string[],
    id: 'g-1',
    [GROUP_ACCESS_SCHEMA]: { scope: { values: ['a'] } },
  })
  t.strictSame(projectResource({ ...GROUP, members: [] }, GROUP_RESOURCE_TYPE, {}).members, [], 'an empty member list stays')
})

t.test('isAttributeReturned', async (t) => {
  const cases: [string, AttributeRequest, string, boolean][] = [
    ['members by default', {}, 'members', true],
    ['Entra: excludedAttributes=members', { excludedAttributes: ['members'] }, 'members', false],
    ['excludedAttributes=MEMBERS', { excludedAttributes: ['MEMBERS'] }, 'members', false],
    ['excluding one sub-attribute leaves members', { excludedAttributes: ['members.display'] }, 'members', true],
    ['attributes=displayName leaves members out', { attributes: ['displayName'] }, 'members', false],
    ['attributes=members.value', { attributes: ['members.value'] }, 'members', true],
    ['attributes=members.value: display is not returned', { attributes: ['members.value'] }, 'members.display', false],
    ['id always', { attributes: ['displayName'] }, 'id', true],
    ['schemas always', { attributes: ['displayName'] }, 'schemas', true],
    ['access extension by default', {}, GROUP_ACCESS_SCHEMA, true],
    ['access extension excluded', { excludedAttributes: [GROUP_ACCESS_SCHEMA] }, `${GROUP_ACCESS_SCHEMA}:roles`, false],
    ['unknown attribute', {}, 'shoeSize', false],
  ]
  for (const [label, request, name, expected] of cases) t.equal(isAttributeReturned(GROUP_RESOURCE_TYPE, request, name), expected, label)
  t.equal(isAttributeReturned(USER_RESOURCE_TYPE, {}, 'password'), false, 'password never')
  t.equal(isAttributeReturned(USER_RESOURCE_TYPE, { attributes: ['password'] }, 'password'), false, 'password never, even when asked')
  t.equal(isAttributeReturned(USER_RESOURCE_TYPE, { attributes: ['userName'] }, 'groups'), false)
  // The unprojected answer is remembered per resource type and name: asked again, in any order with projected ones.
  for (let round = 0; round < 2; round++) {
    t.equal(isAttributeReturned(GROUP_RESOURCE_TYPE, { excludedAttributes: ['members'] }, 'members'), false, `excluded, round ${round}`)
    t.equal(isAttributeReturned(GROUP_RESOURCE_TYPE, { attributes: [], excludedAttributes: [] }, 'members'), true, `empty lists, round ${round}`)
    t.equal(isAttributeReturned(USER_RESOURCE_TYPE, {}, 'groups'), true, `groups of users, round ${round}`)
    t.equal(isAttributeReturned(GROUP_RESOURCE_TYPE, {}, 'groups'), false, `no groups on groups, round ${round}`)
  }
})

t.test('parseAttributeList', async (t) => {
  const cases: [string | undefined, string[]][] = [
    [undefined, []],
    ['', []],
    ['userName', ['userName']],
    [' userName , name.givenName ,, ', ['userName', 'name.givenName']],
    [`${ENTERPRISE_USER_SCHEMA}:manager,emails.value`, [`${ENTERPRISE_USER_SCHEMA}:manager`, 'emails.value']],
  ]
  for (const [text, expected] of cases) t.strictSame(parseAttributeList(text), expected, String(text))
})
