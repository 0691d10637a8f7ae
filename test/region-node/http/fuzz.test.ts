import fc from 'fast-check'
import t from 'tap'
import { startTestNode } from '../../helpers/region-node.ts'

// Property: whatever a client sends, the node answers a SCIM success or a SCIM
// 4xx — never a 500 — and a failed write leaves the resource as it was.

const attributeNames = ['userName', 'name.familyName', 'emails', 'emails.value', 'emails[type eq "work"].value', 'active', 'title', 'meta.lastModified', 'id', 'externalId', 'groups.value', 'members', 'displayName', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber', 'x', '__proto__', 'constructor']
const operators = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr', 'EQ', 'and', 'or', 'not', '[', ']', '(', ')']
const literals = ['"a"', '"%_\\\\"', 'true', 'false', 'null', '42', '-1.5e3', '"2026-01-01T00:00:00Z"', "x'; DROP TABLE users; --", '"\\u0000"', '']

const filterText = fc
  .array(fc.oneof(fc.constantFrom(...attributeNames), fc.constantFrom(...operators), fc.constantFrom(...literals), fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 9 })
  .map((parts) => parts.join(' '))

const patchValue = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 10 }), fc.constantFrom('False', 'True'), fc.dictionary(fc.constantFrom('value', 'type', 'primary', 'givenName', '__proto__', 'display'), fc.oneof(fc.string({ maxLength: 6 }), fc.boolean()), { maxKeys: 3 }), fc.array(fc.dictionary(fc.constantFrom('value', 'type', 'primary'), fc.string({ maxLength: 6 }), { maxKeys: 2 }), { maxLength: 2 }))
const patchBody = fc.oneof(
  fc.record({
    schemas: fc.constant(['urn:ietf:params:scim:api:messages:2.0:PatchOp']),
    Operations: fc.array(fc.record({ op: fc.constantFrom('add', 'Replace', 'remove', 'move', 'ADD'), path: fc.option(fc.oneof(fc.constantFrom(...attributeNames), filterText), { nil: undefined }), value: fc.option(patchValue, { nil: undefined }) }, { requiredKeys: ['op'] }), { maxLength: 4 }),
  }),
  fc.anything(),
)

t.test('random filters never produce a 500', async (t) => {
  const node = await startTestNode(t)
  await node.scim('acme', 'POST', 'Users', { userName: 'fuzz@example.com', emails: [{ value: 'a@b.c', type: 'work' }] })
  await fc.assert(
    fc.asyncProperty(filterText, fc.constantFrom('Users', 'Groups'), async (filter, endpoint) => {
      const response = await node.scim('acme', 'GET', `${endpoint}?filter=${encodeURIComponent(filter)}`)
      if (response.statusCode !== 200 && response.statusCode !== 400) throw new Error(`${filter} → ${response.statusCode} ${response.body}`)
      if (response.statusCode === 400 && response.json().scimType !== 'invalidFilter') throw new Error(`${filter} → ${response.body}`)
    }),
    { numRuns: 300 },
  )
})

t.test('random PATCH bodies never produce a 500 and never half-apply', async (t) => {
  const node = await startTestNode(t)
  const user = (await node.scim('acme', 'POST', 'Users', { userName: 'patchme@example.com', emails: [{ value: 'a@b.c', type: 'work' }] })).json()
  const group = (await node.scim('acme', 'POST', 'Groups', { displayName: 'fuzzers', members: [{ value: user.id }] })).json()
  await fc.assert(
    fc.asyncProperty(patchBody, fc.constantFrom(['Users', user.id], ['Groups', group.id]), async (body, [endpoint, id]) => {
      const before = (await node.scim('acme', 'GET', `${endpoint}/${id}`)).json()
      const response = await node.scim('acme', 'PATCH', `${endpoint}/${id}`, body === undefined ? 'null' : JSON.stringify(body))
      if (response.statusCode >= 500) throw new Error(`${JSON.stringify(body)} → ${response.statusCode} ${response.body}`)
      if (response.statusCode >= 400) {
        const after = (await node.scim('acme', 'GET', `${endpoint}/${id}`)).json()
        if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error(`a refused PATCH changed the resource: ${JSON.stringify(body)}`)
      }
    }),
    { numRuns: 300 },
  )
  t.pass('300 random PATCH bodies handled')
})

// Found by the property above: PostgreSQL text cannot hold U+0000.
t.test('a NUL character in a filter literal or a value is a 400, not a 500', async (t) => {
  const node = await startTestNode(t)
  const filtered = await node.scim('acme', 'GET', `Users?filter=${encodeURIComponent('userName eq "a\\u0000b"')}`)
  t.equal(filtered.statusCode, 400)
  t.equal(filtered.json().scimType, 'invalidFilter')
  for (const body of [{ userName: 'a\u0000b' }, { userName: 'ok@example.com', title: 'x\u0000' }]) {
    const created = await node.scim('acme', 'POST', 'Users', body)
    t.equal(created.statusCode, 400, JSON.stringify(body))
    t.equal(created.json().scimType, 'invalidValue')
  }
  t.equal((await node.scim('acme', 'GET', 'Users')).json().totalResults, 0, 'nothing was written')
})
