import t from 'tap'
import type { PatchPath } from '../../../../region-node/scim/filter/ast.ts'
import { parsePath } from '../../../../region-node/scim/filter/index.ts'
import { CORE_USER, ENTERPRISE_USER, cmp, or, path } from './fixtures/ast-builders.ts'

const ACCESS_GROUP = 'urn:scimgate:params:scim:schemas:extension:access:2.0:Group'
const MEMBER_ID = '2819c223-7f76-453a-919d-413861904646'

// RFC 7644 §3.5.2 paths, and the ones identity providers send.
const PATHS: [string, PatchPath][] = [
  ['userName', { attribute: path('userName') }],
  ['name.familyName', { attribute: path('name.familyName') }],
  ['NAME.FamilyName', { attribute: path('NAME.FamilyName') }],
  ['emails', { attribute: path('emails') }],
  ['members', { attribute: path('members') }],
  ['manager.$ref', { attribute: path('manager.$ref') }],
  [`${ENTERPRISE_USER}:department`, { attribute: path('department', ENTERPRISE_USER) }],
  [`${ENTERPRISE_USER}:manager.value`, { attribute: path('manager.value', ENTERPRISE_USER) }],
  [`${CORE_USER}:name.givenName`, { attribute: path('name.givenName', CORE_USER) }],
  [`${ACCESS_GROUP}:roles`, { attribute: path('roles', ACCESS_GROUP) }],
  [`members[value eq "${MEMBER_ID}"]`, { attribute: path('members'), valueFilter: cmp('value', 'eq', MEMBER_ID) }],
  [
    `members[value eq "${MEMBER_ID}"].display`,
    { attribute: path('members'), valueFilter: cmp('value', 'eq', MEMBER_ID), subAttribute: 'display' },
  ],
  ['members[value eq "a" or value eq "b"]', { attribute: path('members'), valueFilter: or(cmp('value', 'eq', 'a'), cmp('value', 'eq', 'b')) }],
  ['emails[type eq "work"].value', { attribute: path('emails'), valueFilter: cmp('type', 'eq', 'work'), subAttribute: 'value' }],
  ['Emails[Type EQ "work"].Value', { attribute: path('Emails'), valueFilter: cmp('Type', 'eq', 'work'), subAttribute: 'Value' }],
  [
    'addresses[type eq "work"].streetAddress',
    { attribute: path('addresses'), valueFilter: cmp('type', 'eq', 'work'), subAttribute: 'streetAddress' },
  ],
  [
    `${CORE_USER}:emails[type eq "work"].value`,
    { attribute: path('emails', CORE_USER), valueFilter: cmp('type', 'eq', 'work'), subAttribute: 'value' },
  ],
  // Entra ID unquoted literal inside a PATCH path.
  [`members[value eq ${MEMBER_ID}]`, { attribute: path('members'), valueFilter: cmp('value', 'eq', MEMBER_ID) }],
  // A bare extension URN names the extension object itself: attribute ''.
  [ENTERPRISE_USER, { attribute: { uri: ENTERPRISE_USER, attribute: '' } }],
  [ACCESS_GROUP, { attribute: { uri: ACCESS_GROUP, attribute: '' } }],
  [ENTERPRISE_USER.toLowerCase(), { attribute: { uri: ENTERPRISE_USER.toLowerCase(), attribute: '' } }],
  // …but not when something follows it.
  [`${ENTERPRISE_USER}:employeeNumber`, { attribute: path('employeeNumber', ENTERPRISE_USER) }],
]

t.test('RFC 7644 §3.5.2 paths', async (t) => {
  for (const [text, expected] of PATHS) t.strictSame(parsePath(text), expected, text)
})

const ERRORS: [string, RegExp][] = [
  ['', /expected an attribute path .* at position 0/],
  ['a b', /expected "\[", "\." or the end of the path at position 2, found "b"/],
  ['emails[', /expected a sub-attribute name of "emails" at position 7/],
  ['emails[type eq "work"', /expected "and", "or" or "\]" at position 21/],
  ['emails[type eq "work"].', /expected a sub-attribute name after "\]\." at position 22/],
  ['emails[type eq "work"].value.x', /expected a sub-attribute name after "\]\." at position 22/],
  ['emails[type eq "work"]value', /expected "\[", "\." or the end of the path at position 22, found "value"/],
  ['emails[type eq "work"] and x pr', /expected "\[", "\." or the end of the path at position 23/],
  ['emails[type eq "work"][primary pr]', /expected "\[", "\." or the end of the path at position 22/],
  ['name.givenName.x', /expected an attribute path .* at position 0/],
  ['name.givenName[value pr]', /a value filter applies to a multi-valued attribute/],
  ['emails[type[x pr]]', /value filters do not nest/],
  ['emails[value eq]', /expected a value .* at position 15/],
  ['1abc', /expected an attribute path/],
  ['__proto__', /expected an attribute path/],
  ['name.__proto__', /expected an attribute path/],
  ['emails[type eq "work"].__proto__', /expected a sub-attribute name after/],
  ['urn:ietf:params:scim:schemas:core:2.0', /expected an attribute path .* found "urn:ietf:params:scim:schemas:core:2.0"/],
  ['(emails)', /expected an attribute path .* found "\("/],
  [`members[value eq "${'x'.repeat(4096)}"]`, /characters long: expected at most 4096/],
  ['a[a[', /value filters do not nest/],
]

t.test('every error is a 400 invalidPath naming what was expected and where', async (t) => {
  for (const [text, detail] of ERRORS) {
    t.throws(() => parsePath(text), { name: 'ScimError', status: 400, scimType: 'invalidPath', message: detail }, text.slice(0, 60))
  }
  t.throws(() => parsePath(undefined as unknown as string), { name: 'ScimError', status: 400, scimType: 'invalidPath' })
})
