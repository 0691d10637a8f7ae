import t from 'tap'
import type { FilterNode } from '../../../../region-node/scim/filter/ast.ts'
import { compileFilter, describeWithin, matchesFilter, parseFilter, parsePath } from '../../../../region-node/scim/filter/index.ts'
import { ENTERPRISE_USER, cmp, path, pr, valuePath } from './fixtures/ast-builders.ts'
import { EXAMPLE_EXTENSION, describeUser } from './fixtures/user-shapes.ts'

// After RFC 7643 §8.2, with attribute names in odd letter cases on purpose.
const BJENSEN = Object.freeze({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE_USER, EXAMPLE_EXTENSION],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'bjensen-EXT',
  UserName: 'bjensen@example.com',
  name: { familyName: "O'Jensen", givenName: 'Barbara' },
  displayName: 'Babs Jensen',
  nickName: '',
  title: 'Tour Guide',
  userType: 'Employee',
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  ims: [{ value: 'someaimhandle', type: 'aim' }],
  x509Certificates: [{ value: 'MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw' }],
  meta: { resourceType: 'User', created: '2010-01-23T04:56:22Z', lastModified: '2011-05-13T04:42:34Z' },
  [ENTERPRISE_USER]: { employeeNumber: '701984', manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' } },
  [EXAMPLE_EXTENSION.toLowerCase()]: { Level: 3, score: 2.5 },
})

const ENT = `${ENTERPRISE_USER}:`
const EXT = `${EXAMPLE_EXTENSION}:`

const MATCHES: [string, boolean][] = [
  // RFC 7644 §3.4.2.2 examples
  ['userName eq "bjensen@example.com"', true],
  ['name.familyName co "O\'Jensen"', true],
  ['name.familyName co "O\'Malley"', false],
  ['userName sw "J"', false],
  ['userName sw "B"', true],
  ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bjen"', true],
  ['title pr', true],
  ['meta.lastModified gt "2011-05-13T04:42:34Z"', false],
  ['meta.lastModified ge "2011-05-13T04:42:34Z"', true],
  ['meta.lastModified lt "2011-05-13T04:42:34Z"', false],
  ['meta.lastModified le "2011-05-13T04:42:34Z"', true],
  ['title pr and userType eq "Employee"', true],
  ['title pr or userType eq "Intern"', true],
  [`schemas eq "${ENTERPRISE_USER}"`, true],
  ['userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', true],
  ['userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', false],
  ['userType eq "Employee" and (emails.type eq "work")', true],
  ['userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', true],
  ['emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]', true],
  // case: attribute names always, values unless caseExact
  ['USERNAME eq "BJENSEN@EXAMPLE.COM"', true],
  ['externalId eq "bjensen-EXT"', true],
  ['externalId eq "BJENSEN-EXT"', false],
  ['EMAILS[TYPE eq "WORK"]', true],
  // multi-valued: any value
  ['emails eq "babs@jensen.org"', true],
  ['emails.value ew ".org"', true],
  ['emails.type eq "other"', false],
  ['ims[type eq "xmpp"]', false],
  ['emails[type eq "home" and value co "@example.com"]', false],
  ['emails[type eq "home"] and emails[value co "@example.com"]', true],
  ['emails[primary eq true].value eq "bjensen@example.com"', true],
  // ne is NOT(eq): no value may equal; absent attributes are "not equal"
  ['userType ne "Intern"', true],
  ['emails.type ne "work"', false],
  ['emails.type ne "other"', true],
  ['name.middleName ne "x"', true],
  ['title ne "x"', true],
  ['displayName ne "x"', true],
  // pr: not null, not "", not []
  ['nickName pr', false],
  ['emails pr', true],
  ['name pr', true],
  ['meta.resourceType pr', true],
  // null literals
  ['nickName eq null', true],
  ['title eq null', false],
  ['title ne null', true],
  // booleans
  ['active eq true', true],
  ['active ne true', false],
  ['emails.primary eq true', true],
  // dateTime as instants
  ['meta.created eq "2010-01-23T06:56:22+02:00"', true],
  ['meta.created eq "2010-01-23T04:56:22.000Z"', true],
  ['meta.created eq "2010-01-23T04:56:22"', true],
  ['meta.created gt "2010-01-23"', true],
  ['meta.created lt "2010-01-23T04:56:23Z"', true],
  // strings ordered lexically
  ['title gt "tour"', true],
  ['title lt "a"', false],
  ['title ge "tour guide"', true],
  ['title le "TOUR GUIDE"', true],
  ['title lt "Tour Guidez"', true],
  ['title co "UR GU"', true],
  ['title ew "guide"', true],
  // extensions under their URN key, case-insensitively
  [`${ENT}employeeNumber eq "701984"`, true],
  [`${ENT}manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true],
  [`${EXT}level gt 2`, true],
  [`${EXT}level eq 3.0`, true],
  [`${EXT}score le 2.5`, true],
  [`${EXT}score lt 2.5`, false],
  [`${EXT}level ge 3`, true],
  [`${EXT}level le 2`, false],
  [`${EXT}level ne 3`, false],
  ['meta.lastModified ne "2011-05-13T04:42:34Z"', false],
  // binary: eq and substrings only
  ['x509Certificates.value sw "MIID"', true],
  // Entra ID forms
  ['emails[type eq "work"].value eq "bjensen@example.com"', true],
  ['emails[type eq "home"].value eq "bjensen@example.com"', false],
  ['userName eq bjensen@example.com', true],
  ['externalId eq 12345', false],
]

t.test('matchesFilter on a User', async (t) => {
  for (const [text, expected] of MATCHES) {
    t.equal(matchesFilter(parseFilter(text), BJENSEN, describeUser), expected, text)
  }
})

t.test('an unquoted number on a string attribute compares as its text (Entra ID)', async (t) => {
  t.equal(matchesFilter(parseFilter('externalId eq 12345'), { externalId: '12345' }, describeUser), true)
})

t.test('describe is called with the full path inside a value filter', async (t) => {
  const seen: unknown[] = []
  const filter = parseFilter(`${ENTERPRISE_USER}:manager[value eq "x"]`)
  const matched = matchesFilter(filter, BJENSEN, (p) => {
    seen.push(p)
    return describeUser(p)
  })
  t.equal(matched, false)
  t.strictSame(seen, [path('manager', ENTERPRISE_USER), path('manager.value', ENTERPRISE_USER)])
})

t.test('PATCH value filters match one element through describeWithin', async (t) => {
  const target = parsePath('emails[type eq "work" and primary eq true]')
  const filter = target.valueFilter as FilterNode
  const describe = describeWithin(target.attribute, describeUser)
  t.same(
    BJENSEN.emails.map((email) => matchesFilter(filter, email, describe)),
    [true, false],
  )
  t.throws(() => matchesFilter(parseFilter('type.x eq "a"'), {}, describe), { name: 'ScimError', status: 400, scimType: 'invalidFilter' })
})

t.test('a group: members value filter over many members', async (t) => {
  const members = Array.from({ length: 200_000 }, (_, index) => ({ value: `id-${index}` }))
  const group = { displayName: 'Big', members }
  const isMember = compileFilter(parseFilter('members[value eq "id-199999"]'), describeUser)
  t.equal(isMember(group), true)
  t.equal(matchesFilter(parseFilter('members.value eq "ID-1"'), group, describeUser), false, 'members.value is caseExact')
  t.equal(matchesFilter(parseFilter('members pr'), { members: [] }, describeUser), false)
})

// Type misfits and unknown attributes are 400s whatever the data holds.
const ERRORS: [string | FilterNode, RegExp][] = [
  ['active gt true', /"active" is a boolean attribute: only "eq" and "ne" apply, not "gt"/],
  ['active co "t"', /only "eq" and "ne" apply/],
  ['active eq "x"', /"active" is a boolean attribute, compared with "x"/],
  ['active eq "true"', /compared with "true"/],
  ['active eq 1', /compared with 1/],
  ['meta.created gt 5', /"meta.created" is a dateTime attribute, compared with 5/],
  ['meta.created gt "yesterday"', /compared with "yesterday": expected a date-time string/],
  ['meta.created eq "2010-13-45T00:00:00Z"', /expected a date-time string/],
  ['meta.created co "2010"', /"co" applies to strings only/],
  [`${EXT}level eq "3"`, /is a number attribute, compared with "3"/],
  [`${EXT}level sw 3`, /"sw" applies to strings only/],
  [`${EXT}level gt true`, /compared with true/],
  ['userName eq true', /is a string attribute, compared with true/],
  ['schemas eq 5', /is a reference attribute, compared with 5/],
  ['x509Certificates.value gt "a"', /binary attribute: "gt" does not apply/],
  ['title gt null', /compared with null: only "eq" and "ne" apply/],
  ['name eq "Barbara"', /"name" is a complex attribute: compare one of its sub-attributes/],
  ['unknownAttr pr', /unknown attribute "unknownAttr"/],
  ['name.middle eq "x"', /unknown attribute "name.middle"/],
  ['urn:example:nope:1.0:User:foo pr', /unknown attribute "urn:example:nope:1.0:User:foo"/],
  ['emails[kind eq "work"]', /unknown attribute "emails.kind"/],
  ['userName[value eq "x"]', /"userName" is a string attribute: a value filter applies to a complex attribute/],
  ['title pr or unknownAttr pr', /unknown attribute/],
  [valuePath('emails', cmp('type.x', 'eq', 'a')), /expected a sub-attribute name of "emails"/],
  [valuePath('emails', valuePath('ims', pr('type'))), /value filters do not nest/],
  [valuePath('name.givenName', pr('x')), /names a sub-attribute/],
]

t.test('type misfits are 400 invalidFilter, even when the attribute is absent', async (t) => {
  for (const [filter, detail] of ERRORS) {
    const node = typeof filter === 'string' ? parseFilter(filter) : filter
    const name = typeof filter === 'string' ? filter : JSON.stringify(filter)
    t.throws(() => matchesFilter(node, BJENSEN, describeUser), { name: 'ScimError', status: 400, scimType: 'invalidFilter', message: detail }, name)
    t.throws(() => matchesFilter(node, {}, describeUser), { name: 'ScimError', status: 400, scimType: 'invalidFilter' }, `${name} on {}`)
  }
})

t.test('does not mutate the element and ignores inherited properties', async (t) => {
  const element = { userName: 'x' }
  const before = JSON.stringify(element)
  matchesFilter(parseFilter('userName pr and title ne "y"'), element, describeUser)
  t.equal(JSON.stringify(element), before)
  const describeAnything = () => ({ type: 'string' as const, caseExact: true, multiValued: false })
  t.equal(matchesFilter(parseFilter('constructor pr'), {}, describeAnything), false)
  t.equal(matchesFilter(parseFilter('toString pr'), {}, describeAnything), false)
})
