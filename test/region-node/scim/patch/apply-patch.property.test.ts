// Property: whatever a client sends, parsePatchRequest + planMemberOperations
// + applyPatch either return a result or throw a ScimError with status 400 —
// never a crash, a 500, or a write to the (frozen) input.
import fc from 'fast-check'
import t from 'tap'
import { isScimError } from '../../../../lib/scim-error.ts'
import { applyPatch, parsePatchRequest, planMemberOperations } from '../../../../region-node/scim/patch/index.ts'
import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from '../../../../region-node/scim/schema/index.ts'
import type { ResourceTypeDefinition, ScimResource } from '../../../../region-node/scim/schema/index.ts'
import { deepFreeze } from './fixtures/load-fixture-cases.ts'

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const ACCESS = 'urn:scimgate:params:scim:schemas:extension:access:2.0:Group'

const user: ScimResource = deepFreeze({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
  id: 'u1',
  userName: 'bjensen',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  emails: [
    { value: 'b@example.com', type: 'work', primary: true },
    { value: 'h@example.com', type: 'home' },
  ],
  addresses: [{ type: 'work', streetAddress: '100 Universal City Plaza' }],
  active: true,
  [ENTERPRISE]: { department: 'Tours', manager: { value: 'm1', displayName: 'Boss' } },
})

const group: ScimResource = deepFreeze({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', ACCESS],
  id: 'g1',
  displayName: 'Tour Guides',
  [ACCESS]: { roles: [{ value: 'admin', primary: true }], scope: { type: 'Exact', values: ['a'] } },
})

const pathPool = [
  'title', 'Active', 'active', 'name', 'name.givenName', 'NAME.FamilyName', 'userName', 'displayName', 'id', 'meta',
  'meta.created', 'groups', 'externalId', 'password', 'emails', 'emails.value', 'emails[type eq "work"]',
  'emails[type eq "work"].value', 'emails[type eq "other" and primary eq true].value', 'emails[value co "example"].type',
  'emails[not (type eq "work")]', 'emails[type eq "work" or type eq "home"].primary', 'emails[nope eq "x"]',
  'addresses[type eq "work"].streetAddress', 'roles', 'x509Certificates', 'phoneNumbers[type eq "mobile"].value',
  `${ENTERPRISE}:department`, `${ENTERPRISE}:manager`, `${ENTERPRISE}:manager.displayName`, `${ENTERPRISE}:manager.value`,
  ENTERPRISE, 'urn:ietf:params:scim:schemas:core:2.0:User', 'urn:unknown:2.0:Thing:x', 'members', 'members[value eq "a"]',
  'members[display eq "a"]', 'members[value eq "a"].display', `${ACCESS}:roles[value eq "admin"].value`, `${ACCESS}:scope.values`,
  `${ACCESS}:roles`, ACCESS, '__proto__', 'constructor.prototype', 'emails[', 'emails]', '[', '', ' ', 'a.b.c', 'emails[type eq work].value',
]

const keyPool = [...pathPool, 'schemas', 'Members', 'name.__proto__', `${ENTERPRISE}:employeeNumber`]

const scalar = fc.oneof(fc.constantFrom('True', 'False', 'true', '', 'x', '2024-01-01T00:00:00Z', null), fc.jsonValue({ maxDepth: 0 }))
const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.jsonValue({ maxDepth: 2 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...keyPool, 'value', 'type', 'primary', 'display', '$ref'), fc.string()), tie('value'), { maxKeys: 4 }),
  ),
})).value

// Mostly well-formed operations on interesting paths (so that most runs reach
// applyPatch), some garbage ones.
const plausibleOperation = fc.oneof(
  fc.record({ op: fc.constantFrom('add', 'Add', 'replace', 'Replace'), path: fc.constantFrom(...pathPool), value }),
  fc.record({ op: fc.constantFrom('add', 'replace'), value: fc.dictionary(fc.constantFrom(...keyPool), value, { maxKeys: 4 }) }),
  fc.record({ op: fc.constantFrom('remove', 'Remove'), path: fc.constantFrom(...pathPool) }),
  fc.record({ op: fc.constant('Remove'), path: fc.constantFrom('emails', 'members', 'roles'), value: fc.array(fc.record({ value: fc.string({ minLength: 1 }) }), { maxLength: 3 }) }),
)
const garbageOperation = fc.oneof(
  fc.record(
    {
      op: fc.oneof(fc.constantFrom('move', '', 'ADD '), fc.jsonValue({ maxDepth: 0 })),
      path: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 0 })),
      value,
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 1 }),
)
const operation = fc.oneof({ weight: 15, arbitrary: plausibleOperation }, { weight: 1, arbitrary: garbageOperation })

const body = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      schemas: fc.constant(['urn:ietf:params:scim:api:messages:2.0:PatchOp']),
      Operations: fc.array(operation, { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ operations: fc.oneof(fc.array(operation, { maxLength: 3 }), fc.jsonValue()) }) },
  { weight: 1, arbitrary: fc.jsonValue() },
)

function patchOrRefuse(resource: ScimResource, resourceType: ResourceTypeDefinition, request: unknown): boolean {
  try {
    const { otherOperations } = planMemberOperations(parsePatchRequest(request), resourceType)
    const result = applyPatch(resource, otherOperations, resourceType)
    return typeof result.changed === 'boolean' && typeof result.resource === 'object'
  } catch (error) {
    if (isScimError(error) && error.status === 400 && error.detail.length > 0) return true
    throw error
  }
}

t.test('random PATCH bodies on a User: a result or a 400 ScimError', async (t) => {
  fc.assert(fc.property(body, (request) => patchOrRefuse(user, USER_RESOURCE_TYPE, deepFreeze(request))), { numRuns: 1000 })
  t.pass()
})

t.test('random PATCH bodies on a Group (members planned out first): a result or a 400 ScimError', async (t) => {
  fc.assert(fc.property(body, (request) => patchOrRefuse(group, GROUP_RESOURCE_TYPE, deepFreeze(request))), { numRuns: 1000 })
  t.pass()
})

t.test('nothing was polluted', async (t) => {
  t.equal(({} as Record<string, unknown>)['polluted'], undefined)
  t.equal(Object.getOwnPropertyNames(Object.prototype).includes('polluted'), false)
})
