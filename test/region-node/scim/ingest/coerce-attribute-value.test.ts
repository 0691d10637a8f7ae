import t from 'tap'
import { coerceAttributeValue } from '../../../../region-node/scim/ingest/index.ts'
import {
  COMMON_ATTRIBUTES,
  ENTERPRISE_USER_SCHEMA_DEFINITION,
  GROUP_ACCESS_SCHEMA_DEFINITION,
  GROUP_SCHEMA_DEFINITION,
  USER_SCHEMA_DEFINITION,
  findAttributeDefinition,
} from '../../../../region-node/scim/schema/index.ts'
import type { AttributeDefinition } from '../../../../region-node/scim/schema/index.ts'

function definition(attributes: readonly AttributeDefinition[], name: string): AttributeDefinition {
  const found = findAttributeDefinition(attributes, name)
  if (found === undefined) throw new Error(name)
  return found
}

const user = (name: string) => definition(USER_SCHEMA_DEFINITION.attributes, name)
const manager = definition(ENTERPRISE_USER_SCHEMA_DEFINITION.attributes, 'manager')
const scope = definition(GROUP_ACCESS_SCHEMA_DEFINITION.attributes, 'scope')
const members = definition(GROUP_SCHEMA_DEFINITION.attributes, 'members')
const meta = definition(COMMON_ATTRIBUTES, 'meta')
const scopeValues = definition(scope.subAttributes ?? [], 'values')

const ACCEPTED: [string, AttributeDefinition, unknown, unknown][] = [
  ['boolean', user('active'), true, true],
  ['"True"', user('active'), 'True', true],
  ['"FALSE"', user('active'), 'FALSE', false],
  ['" true "', user('active'), ' true ', true],
  ['null → absent', user('title'), null, undefined],
  ['string', user('title'), 'CTO', 'CTO'],
  ['empty array on a single-valued attribute → absent', user('title'), [], undefined],
  ['one-element array on a single-valued attribute', user('title'), ['CTO'], 'CTO'],
  ['single object → array', user('emails'), { value: 'a@b.c' }, [{ value: 'a@b.c' }]],
  ['empty multi-valued stays empty', members, [], []],
  ['null elements dropped', user('emails'), [null, { value: 'a@b.c' }], [{ value: 'a@b.c' }]],
  ['empty elements dropped', user('emails'), [{}, { display: null }, { value: 'a@b.c' }], [{ value: 'a@b.c' }]],
  ['"primary":"true" inside elements', user('emails'), [{ value: 'a', Primary: 'true' }], [{ value: 'a', primary: true }]],
  ['sub-attribute names in any case, canonical order', user('name'), { GIVENNAME: 'Kim', familyname: 'Lee' }, { familyName: 'Lee', givenName: 'Kim' }],
  ['unknown sub-attributes dropped', user('name'), { givenName: 'Kim', nickname: 'K' }, { givenName: 'Kim' }],
  ['readOnly sub-attributes dropped', manager, { value: 'm', displayName: 'Boss' }, { value: 'm' }],
  ['bare string manager', manager, 'm-1', { value: 'm-1' }],
  ['manager array of one', manager, [{ value: 'm-1', $ref: null }], { value: 'm-1' }],
  ['members with $ref null', members, [{ value: 'u1', $ref: null }], [{ value: 'u1' }]],
  ['multi-valued sub-attribute from a single string', scope, { type: 'Exact', values: 'a' }, { type: 'Exact', values: ['a'] }],
  ['multi-valued string', scopeValues, ['a', 'b'], ['a', 'b']],
  ['dateTime with Z', definition(meta.subAttributes ?? [], 'lastModified'), '2011-05-13T04:42:34Z', '2011-05-13T04:42:34Z'],
  ['dateTime with offset and fraction', definition(meta.subAttributes ?? [], 'created'), '2024-02-29T23:59:59.123+05:30', '2024-02-29T23:59:59.123+05:30'],
  ['base64 certificate', user('x509Certificates'), [{ value: 'TUlJRA==' }], [{ value: 'TUlJRA==' }]],
]

const REJECTED: [string, AttributeDefinition, unknown][] = [
  ['"yes" is no boolean', user('active'), 'yes'],
  ['1 is no boolean', user('active'), 1],
  ['number for string', user('title'), 7],
  ['object for string', user('title'), { value: 'x' }],
  ['two values for a single-valued attribute', user('title'), ['a', 'b']],
  ['string in a multi-valued complex', user('emails'), ['a@b.c']],
  ['array for a complex element', user('emails'), [[{ value: 'a' }]]],
  ['bare string on a multi-valued complex', members, 'u1'],
  ['dateTime without timezone', definition(meta.subAttributes ?? [], 'created'), '2024-01-01T00:00:00'],
  ['dateTime 30 February', definition(meta.subAttributes ?? [], 'created'), '2024-02-30T00:00:00Z'],
  ['dateTime as a date', definition(meta.subAttributes ?? [], 'created'), '2024-01-01'],
  ['base64 with bad padding', user('x509Certificates'), [{ value: 'TUlJR===' }]],
  ['number in a multi-valued string', scopeValues, ['a', 1]],
]

t.test('coerceAttributeValue accepts what providers send', async (t) => {
  for (const [label, attribute, input, expected] of ACCEPTED) {
    const snapshot = JSON.stringify(input)
    t.strictSame(coerceAttributeValue(attribute, input, `/${attribute.name}`), expected, label)
    t.equal(JSON.stringify(input), snapshot, `${label}: input not mutated`)
  }
})

t.test('coerceAttributeValue rejects the rest with 400 invalidValue naming the pointer', async (t) => {
  for (const [label, attribute, input] of REJECTED) {
    t.throws(() => coerceAttributeValue(attribute, input, '/somewhere'), { name: 'ScimError', status: 400, scimType: 'invalidValue', message: /^\/somewhere/ }, label)
  }
})
