import t from 'tap'
import type { FilterNode } from '../../../../region-node/scim/filter/ast.ts'
import { formatFilter, parseFilter } from '../../../../region-node/scim/filter/index.ts'
import { ENTERPRISE_USER, and, cmp, not, or, path, pr, valuePath } from './fixtures/ast-builders.ts'

const CASES: [FilterNode, string][] = [
  [cmp('userName', 'eq', 'bjensen'), 'userName eq "bjensen"'],
  [cmp(path('employeeNumber', ENTERPRISE_USER), 'eq', '701984'), `${ENTERPRISE_USER}:employeeNumber eq "701984"`],
  [cmp('name.familyName', 'co', 'O"Malley\\ \n é'), 'name.familyName co "O\\"Malley\\\\ \\n é"'],
  [cmp('a', 'eq', '\u0001\ud800'), 'a eq "\\u0001\\ud800"'],
  [cmp('a', 'gt', 42), 'a gt 42'],
  [cmp('a', 'lt', -2.5e-7), 'a lt -2.5e-7'],
  [cmp('a', 'ge', 1e21), 'a ge 1e+21'],
  [cmp('a', 'eq', -0), 'a eq -0'],
  [cmp('a', 'eq', true), 'a eq true'],
  [cmp('a', 'ne', false), 'a ne false'],
  [cmp('a', 'eq', null), 'a eq null'],
  [pr('title'), 'title pr'],
  [and(pr('a'), pr('b')), 'a pr and b pr'],
  [and(and(pr('a'), pr('b')), pr('c')), 'a pr and b pr and c pr'],
  [and(pr('a'), and(pr('b'), pr('c'))), 'a pr and (b pr and c pr)'],
  [and(or(pr('a'), pr('b')), pr('c')), '(a pr or b pr) and c pr'],
  [and(pr('a'), or(pr('b'), pr('c'))), 'a pr and (b pr or c pr)'],
  [or(and(pr('a'), pr('b')), pr('c')), 'a pr and b pr or c pr'],
  [or(pr('a'), and(pr('b'), pr('c'))), 'a pr or b pr and c pr'],
  [or(or(pr('a'), pr('b')), pr('c')), 'a pr or b pr or c pr'],
  [or(pr('a'), or(pr('b'), pr('c'))), 'a pr or (b pr or c pr)'],
  [not(or(pr('a'), pr('b'))), 'not (a pr or b pr)'],
  [and(not(pr('a')), pr('b')), 'not (a pr) and b pr'],
  [
    valuePath('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com'))),
    'emails[type eq "work" and value co "@example.com"]',
  ],
]

t.test('canonical text', async (t) => {
  for (const [node, text] of CASES) {
    t.equal(formatFilter(node), text, text)
    t.strictSame(parseFilter(formatFilter(node)), node, `round trip: ${text}`)
  }
})

t.test('lower-cases operators and quotes what arrived unquoted', async (t) => {
  const cases: [string, string][] = [
    ['UserName EQ "x" AND Title PR OR NOT(Active Eq TRUE)', 'UserName eq "x" and Title pr or not (Active eq true)'],
    ['userName eq john.doe@example.com', 'userName eq "john.doe@example.com"'],
    ['emails[type eq "work"].value eq "x"', 'emails[type eq "work" and value eq "x"]'],
    ['(((a pr)))', 'a pr'],
    ['a eq 1E3', 'a eq 1000'],
    ['a eq "\\u00e9\\/"', 'a eq "é/"'],
  ]
  for (const [input, canonical] of cases) t.equal(formatFilter(parseFilter(input)), canonical, input)
})

t.test('a number no filter can hold is a 400', async (t) => {
  for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    t.throws(() => formatFilter(cmp('a', 'eq', value)), { name: 'ScimError', status: 400, scimType: 'invalidFilter' })
  }
})
