import t from 'tap'
import { ScimError } from '../../../../lib/scim-error.ts'
import type { FilterNode, FilterValue } from '../../../../region-node/scim/filter/ast.ts'
import { parseFilter } from '../../../../region-node/scim/filter/index.ts'
import { CORE_USER, ENTERPRISE_USER, and, cmp, not, or, path, pr, valuePath } from './fixtures/ast-builders.ts'

const LAST_MODIFIED = '2011-05-13T04:42:34Z'

// RFC 7644 §3.4.2.2, every example filter, verbatim (line breaks joined).
const RFC_EXAMPLES: [string, FilterNode][] = [
  ['userName eq "bjensen"', cmp('userName', 'eq', 'bjensen')],
  [`name.familyName co "O'Malley"`, cmp('name.familyName', 'co', "O'Malley")],
  ['userName sw "J"', cmp('userName', 'sw', 'J')],
  [`${CORE_USER}:userName sw "J"`, cmp(path('userName', CORE_USER), 'sw', 'J')],
  ['title pr', pr('title')],
  [`meta.lastModified gt "${LAST_MODIFIED}"`, cmp('meta.lastModified', 'gt', LAST_MODIFIED)],
  [`meta.lastModified ge "${LAST_MODIFIED}"`, cmp('meta.lastModified', 'ge', LAST_MODIFIED)],
  [`meta.lastModified lt "${LAST_MODIFIED}"`, cmp('meta.lastModified', 'lt', LAST_MODIFIED)],
  [`meta.lastModified le "${LAST_MODIFIED}"`, cmp('meta.lastModified', 'le', LAST_MODIFIED)],
  ['title pr and userType eq "Employee"', and(pr('title'), cmp('userType', 'eq', 'Employee'))],
  ['title pr or userType eq "Intern"', or(pr('title'), cmp('userType', 'eq', 'Intern'))],
  [`schemas eq "${ENTERPRISE_USER}"`, cmp('schemas', 'eq', ENTERPRISE_USER)],
  [
    'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
    and(cmp('userType', 'eq', 'Employee'), or(cmp('emails', 'co', 'example.com'), cmp('emails.value', 'co', 'example.org'))),
  ],
  [
    'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
    and(cmp('userType', 'ne', 'Employee'), not(or(cmp('emails', 'co', 'example.com'), cmp('emails.value', 'co', 'example.org')))),
  ],
  ['userType eq "Employee" and (emails.type eq "work")', and(cmp('userType', 'eq', 'Employee'), cmp('emails.type', 'eq', 'work'))],
  [
    'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
    and(cmp('userType', 'eq', 'Employee'), valuePath('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com')))),
  ],
  [
    'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
    or(
      valuePath('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com'))),
      valuePath('ims', and(cmp('type', 'eq', 'xmpp'), cmp('value', 'co', '@foo.com'))),
    ),
  ],
  // The same with a leading attrExp: `and` binds tighter than `or`.
  [
    'userType eq "Employee" and emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
    or(
      and(cmp('userType', 'eq', 'Employee'), valuePath('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com')))),
      valuePath('ims', and(cmp('type', 'eq', 'xmpp'), cmp('value', 'co', '@foo.com'))),
    ),
  ],
]

t.test('RFC 7644 §3.4.2.2 examples', async (t) => {
  for (const [text, expected] of RFC_EXAMPLES) t.strictSame(parseFilter(text), expected, text)
  // The RFC prints them wrapped over lines: any whitespace separates tokens.
  t.strictSame(
    parseFilter('emails[type eq "work" and\n  value co "@example.com"] or\r\n\tims[type eq "xmpp" and value co "@foo.com"]'),
    RFC_EXAMPLES[16]?.[1],
  )
})

t.test('precedence and grouping', async (t) => {
  const cases: [string, FilterNode][] = [
    ['a pr or b pr and c pr', or(pr('a'), and(pr('b'), pr('c')))],
    ['a pr and b pr or c pr', or(and(pr('a'), pr('b')), pr('c'))],
    ['a pr and b pr and c pr', and(and(pr('a'), pr('b')), pr('c'))],
    ['a pr or b pr or c pr', or(or(pr('a'), pr('b')), pr('c'))],
    ['a pr and (b pr or c pr)', and(pr('a'), or(pr('b'), pr('c')))],
    ['(a pr or b pr) and c pr', and(or(pr('a'), pr('b')), pr('c'))],
    ['a pr or (b pr or c pr)', or(pr('a'), or(pr('b'), pr('c')))],
    ['((a pr))', pr('a')],
    ['not (a pr) and b pr', and(not(pr('a')), pr('b'))],
    ['a pr or not (b pr and c pr)', or(pr('a'), not(and(pr('b'), pr('c'))))],
    ['not(not(a pr))', not(not(pr('a')))],
    ['emails[not (type eq "work") or primary eq true]', valuePath('emails', or(not(cmp('type', 'eq', 'work')), cmp('primary', 'eq', true)))],
    ['emails[(type eq "a" or type eq "b") and primary pr]', valuePath('emails', and(or(cmp('type', 'eq', 'a'), cmp('type', 'eq', 'b')), pr('primary')))],
  ]
  for (const [text, expected] of cases) t.strictSame(parseFilter(text), expected, text)
})

t.test('operators, keywords and literals are case-insensitive; names keep their case', async (t) => {
  t.strictSame(parseFilter('UserName EQ "x" AND Title PR OR NOT (Active Eq TRUE)'), or(and(cmp('UserName', 'eq', 'x'), pr('Title')), not(cmp('Active', 'eq', true))))
  for (const op of ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const) {
    t.strictSame(parseFilter(`x ${op.toUpperCase()} 1`), cmp('x', op, 1), op)
  }
  t.strictSame(parseFilter('a eq False'), cmp('a', 'eq', false))
  t.strictSame(parseFilter('a eq NULL'), cmp('a', 'eq', null))
})

t.test('literals', async (t) => {
  const cases: [string, FilterValue][] = [
    ['"O\\"Malley"', 'O"Malley'],
    ['"back\\\\slash"', 'back\\slash'],
    ['"caf\\u00e9"', 'café'],
    ['"café"', 'café'],
    ['"\\ud83d\\ude00 \\/ \\b\\f\\n\\r\\t"', '😀 / \b\f\n\r\t'],
    ['""', ''],
    ['"a ) ] [ ( and or"', 'a ) ] [ ( and or'],
    ['42', 42],
    ['-7', -7],
    ['0', 0],
    ['3.14', 3.14],
    ['1e3', 1000],
    ['-2.5E-3', -0.0025],
    ['1E+2', 100],
    ['true', true],
    ['false', false],
    ['null', null],
    // A quoted number stays a string.
    ['"42"', '42'],
    ['"true"', 'true'],
    // Unquoted words that are not JSON numbers are strings (Entra ID).
    ['john.doe@example.com', 'john.doe@example.com'],
    ['5b3d1e0c-8a71-4d59-9e4b-1f2a3c4d5e6f', '5b3d1e0c-8a71-4d59-9e4b-1f2a3c4d5e6f'],
    ['007', '007'],
    ['1.', '1.'],
    ['truth', 'truth'],
  ]
  for (const [literal, expected] of cases) {
    t.strictSame(parseFilter(`a eq ${literal}`), cmp('a', 'eq', expected), literal)
  }
  t.ok(Object.is((parseFilter('a eq -0') as { value: number }).value, -0), '-0 is kept')
  t.strictSame(parseFilter('a eq"x"and b pr'), and(cmp('a', 'eq', 'x'), pr('b')), 'no space needed around a string')
})

t.test('attribute paths', async (t) => {
  const cases: [string, FilterNode][] = [
    [`${ENTERPRISE_USER}:employeeNumber eq "701984"`, cmp(path('employeeNumber', ENTERPRISE_USER), 'eq', '701984')],
    [`${CORE_USER}:name.familyName eq "Jensen"`, cmp(path('name.familyName', CORE_USER), 'eq', 'Jensen')],
    [`${ENTERPRISE_USER}:manager.value pr`, pr(path('manager.value', ENTERPRISE_USER))],
    ['urn:scimgate:params:scim:schemas:extension:access:2.0:Group:roles pr', pr(path('roles', 'urn:scimgate:params:scim:schemas:extension:access:2.0:Group'))],
    [`${CORE_USER}:emails[type eq "work"]`, valuePath(path('emails', CORE_USER), cmp('type', 'eq', 'work'))],
    ['members.$ref pr', pr('members.$ref')],
    ['members[$ref eq "https://x/Users/1"]', valuePath('members', cmp('$ref', 'eq', 'https://x/Users/1'))],
    ['x509Certificates.value pr', pr('x509Certificates.value')],
    ['my-attr_2 pr', pr('my-attr_2')],
    ['emails [type eq "work"]', valuePath('emails', cmp('type', 'eq', 'work'))],
  ]
  for (const [text, expected] of cases) t.strictSame(parseFilter(text), expected, text)
})

t.test('identity provider filters (docs/identity-providers.md#r8)', async (t) => {
  const cases: [string, string, FilterNode][] = [
    ['Okta existence check', 'userName eq "bjensen@example.com"', cmp('userName', 'eq', 'bjensen@example.com')],
    ['Okta group lookup', 'displayName eq "Engineering"', cmp('displayName', 'eq', 'Engineering')],
    ['Entra ID user match', 'userName eq "john@contoso.com"', cmp('userName', 'eq', 'john@contoso.com')],
    ['Entra ID externalId', 'externalId eq "5b3d1e0c-8a71-4d59-9e4b-1f2a3c4d5e6f"', cmp('externalId', 'eq', '5b3d1e0c-8a71-4d59-9e4b-1f2a3c4d5e6f')],
    [
      'Entra ID work email',
      'emails[type eq "work"].value eq "john@contoso.com"',
      valuePath('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'eq', 'john@contoso.com'))),
    ],
    [
      'Entra ID work email, capitalised',
      'emails[Type Eq "work"].Value EQ "john@contoso.com"',
      valuePath('emails', and(cmp('Type', 'eq', 'work'), cmp('Value', 'eq', 'john@contoso.com'))),
    ],
    [
      'Entra ID work email and userName',
      'emails[type eq "work"].value eq "a@b.c" and userName eq "a"',
      and(valuePath('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'eq', 'a@b.c'))), cmp('userName', 'eq', 'a')),
    ],
    ['Entra ID trailing pr', 'emails[type eq "work"].value pr', valuePath('emails', and(cmp('type', 'eq', 'work'), pr('value')))],
    ['Entra ID unquoted userName', 'userName eq john.doe@example.com', cmp('userName', 'eq', 'john.doe@example.com')],
    ['Entra ID unquoted GUID', 'externalId eq 5b3d1e0c-8a71-4d59-9e4b-1f2a3c4d5e6f', cmp('externalId', 'eq', '5b3d1e0c-8a71-4d59-9e4b-1f2a3c4d5e6f')],
    ['Entra ID unquoted number', 'externalId eq 12345', cmp('externalId', 'eq', 12345)],
    ['Entra ID test connection', 'id eq "8a2f5c1e-0d4b-4c3e-9f7a-6b1d2e3f4a5b"', cmp('id', 'eq', '8a2f5c1e-0d4b-4c3e-9f7a-6b1d2e3f4a5b')],
    ['Entra ID displayName', 'displayName eq "Group One" and externalId eq "g1"', and(cmp('displayName', 'eq', 'Group One'), cmp('externalId', 'eq', 'g1'))],
    ['OneLogin, decoded + and extra blanks', '  userName   eq  "jdoe"  ', cmp('userName', 'eq', 'jdoe')],
  ]
  for (const [name, text, expected] of cases) t.strictSame(parseFilter(text), expected, name)
})

// [filter, a pattern the detail must match (what was expected, and where)]
const ERRORS: [string, RegExp][] = [
  ['', /expected an attribute path .* at position 0, found the end/],
  ['   ', /expected an attribute path .* at position 3/],
  ['(userName eq "x"', /expected "and", "or" or "\)" at position 16, found the end .*"\(" at position 0 is not closed/],
  ['((a pr) or b pr', /expected "and", "or" or "\)" at position 15/],
  ['userName eq "x")', /expected "and", "or" or the end of the filter at position 15, found "\)"/],
  [')', /expected an attribute path .* at position 0, found "\)"/],
  ['()', /expected an attribute path .* at position 1, found "\)"/],
  ['userName eq', /expected a value .* at position 11, found the end/],
  ['userName eq )', /expected a value .* at position 12, found "\)"/],
  ['userName eq and b pr', /expected a value .* at position 12, found "and"/],
  ['userName', /expected a comparison operator .* or "pr" at position 8, found the end/],
  ['userName xx "x"', /expected a comparison operator \(eq, ne, co, sw, ew, gt, ge, lt, le\) or "pr" at position 9, found "xx"/],
  ['userName === "x"', /expected a comparison operator .* at position 9, found "==="/],
  ['userName "x"', /expected a comparison operator .* at position 9, found "\\"x\\""/],
  ['userName eq "x" extra', /expected "and", "or" or the end of the filter at position 16, found "extra"/],
  ['userName eq "x" "y"', /expected "and", "or" or the end of the filter at position 16/],
  ['userName eq john doe', /expected "and", "or" or the end of the filter at position 17, found "doe"/],
  ['userName eq "x" and', /expected an attribute path .* at position 19, found the end/],
  ['userName eq "x" or or b pr', /expected an attribute path .* at position 19, found "or"/],
  ['and pr', /expected an attribute path .* at position 0, found "and"/],
  ['not a pr', /expected "\(" after "not" at position 4, found "a"/],
  ['not', /expected "\(" after "not" at position 3/],
  ['emails[type eq "work"', /expected "and", "or" or "\]" at position 21, found the end .*"\[" at position 6 is not closed/],
  ['emails[type eq "work")', /expected "and", "or" or "\]" at position 21, found "\)"/],
  ['emails[type eq "work"]]', /expected "and", "or" or the end of the filter at position 22, found "\]"/],
  ['emails]', /expected a comparison operator .* at position 6, found "\]"/],
  ['emails[]', /expected a sub-attribute name of "emails" at position 7, found "\]"/],
  ['emails[type[value pr]]', /value filters do not nest: "\[" at position 11/],
  ['emails[type eq "a" and addresses[type pr]]', /value filters do not nest/],
  ['emails[emails.type eq "work"]', /expected a sub-attribute name of "emails" at position 7, found "emails.type"/],
  [`emails[${CORE_USER}:type eq "work"]`, /expected a sub-attribute name of "emails" at position 7/],
  ['name.givenName[value pr]', /"\[" at position 14: a value filter applies to a multi-valued attribute, not to the sub-attribute "name.givenName"/],
  ['emails[type eq "work"].value', /expected a comparison operator .* at position 28, found the end/],
  ['emails[type eq "work"].1st eq "x"', /expected a sub-attribute name after "\]\." at position 22, found ".1st"/],
  ['emails[type eq "work"].value.x eq "x"', /expected a sub-attribute name after "\]\." at position 22/],
  ['1abc pr', /expected an attribute path .* at position 0, found "1abc"/],
  ['a.b.c pr', /expected an attribute path .* at position 0, found "a.b.c"/],
  ['name. pr', /expected an attribute path .* found "name\."/],
  [':name pr', /expected an attribute path .* found ":name"/],
  ['urn: pr', /expected an attribute path .* found "urn:"/],
  ['__proto__ pr', /expected an attribute path .* found "__proto__"/],
  ['"userName" eq "x"', /expected an attribute path .* at position 0, found "\\"userName\\""/],
  ['userName eq "unterminated', /unterminated string starting at position 12/],
  ['userName eq "bad \\x escape"', /invalid escape in string at position 17/],
  ['userName eq "\\u12"', /invalid escape in string at position 13/],
  ['userName eq "tab\there"', /control character in string at position 16/],
  ['count eq 1e400', /number "1e400" at position 9 is out of range/],
]

t.test('every error is a 400 invalidFilter naming what was expected and where', async (t) => {
  for (const [text, detail] of ERRORS) {
    t.throws(() => parseFilter(text), { name: 'ScimError', status: 400, scimType: 'invalidFilter', message: detail }, JSON.stringify(text))
  }
})

t.test('limits against abuse', async (t) => {
  const longest = `userName eq "${'x'.repeat(4096 - 14)}"`
  t.equal(longest.length, 4096)
  t.strictSame(parseFilter(longest), cmp('userName', 'eq', 'x'.repeat(4096 - 14)))
  t.throws(() => parseFilter(`${longest} `), { status: 400, scimType: 'invalidFilter', message: /4097 characters long: expected at most 4096/ })

  const nested = (depth: number, inner: string): string => `${'('.repeat(depth)}${inner}${')'.repeat(depth)}`
  t.strictSame(parseFilter(nested(64, 'a pr')), pr('a'), '64 levels are fine')
  t.throws(() => parseFilter(nested(65, 'a pr')), { status: 400, scimType: 'invalidFilter', message: /deeper than 64 levels at position 64/ })
  t.throws(() => parseFilter(`${'not ('.repeat(65)}a pr${')'.repeat(65)}`), { status: 400, scimType: 'invalidFilter', message: /deeper than 64/ })
  t.throws(() => parseFilter(nested(64, 'emails[type pr]')), { status: 400, scimType: 'invalidFilter', message: /deeper than 64 levels at position 70/ })
  t.throws(() => parseFilter('('.repeat(4000)), { status: 400, scimType: 'invalidFilter', message: /deeper than 64/ })

  const chain = Array.from({ length: 300 }, (_, index) => `a${index} pr`).join(' and ')
  t.ok(chain.length < 4096)
  t.equal(parseFilter(chain).kind, 'and', 'a long flat chain is not nesting')
})

t.test('input that is not a string is a 400 too', async (t) => {
  for (const input of [undefined, null, 42, {}, ['a pr']]) {
    t.throws(() => parseFilter(input as unknown as string), ScimError)
    t.throws(() => parseFilter(input as unknown as string), { name: 'ScimError', status: 400, scimType: 'invalidFilter' })
  }
})
