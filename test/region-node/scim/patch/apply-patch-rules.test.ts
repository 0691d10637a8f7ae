// applyPatch rules that a JSON fixture cannot express.
import t from 'tap'
import { isScimError } from '../../../../lib/scim-error.ts'
import { applyPatch, parsePatchRequest } from '../../../../region-node/scim/patch/index.ts'
import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from '../../../../region-node/scim/schema/index.ts'
import { deepFreeze, thrownBy } from './fixtures/load-fixture-cases.ts'

const user = deepFreeze({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: 'u1',
  userName: 'kim',
  emails: [{ value: 'kim@example.com', type: 'work' }],
})

t.test('Group members reaching applyPatch are a programming error, not a ScimError', async (t) => {
  const group = deepFreeze({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: 'g1', displayName: 'G' })
  for (const operation of [
    { op: 'add', path: 'members', value: [{ value: 'a' }] },
    { op: 'remove', path: 'members[value eq "a"]' },
    { op: 'replace', value: { members: [] } },
  ] as const) {
    const error = thrownBy(() => applyPatch(group, [operation], GROUP_RESOURCE_TYPE))
    t.ok(error instanceof Error && !isScimError(error), JSON.stringify(operation))
  }
})

t.test('error details name the request position kept in index, else the array position', async (t) => {
  const operations = parsePatchRequest({
    Operations: [
      { op: 'add', path: 'title', value: null },
      { op: 'add', path: 'nickName', value: 'K' },
      { op: 'add', path: 'nope', value: 'x' },
    ],
  })
  t.match((thrownBy(() => applyPatch(user, operations, USER_RESOURCE_TYPE)) as Error).message, /^Operations\[2\]: /)
  const bare = [{ op: 'add', path: 'title', value: 'x' }, { op: 'add', path: 'nope', value: 'x' }] as const
  t.match((thrownBy(() => applyPatch(user, bare, USER_RESOURCE_TYPE)) as Error).message, /^Operations\[1\]: /)
})

t.test('an empty operation list changes nothing', async (t) => {
  const result = applyPatch(user, [], USER_RESOURCE_TYPE)
  t.equal(result.changed, false)
  t.strictSame(result.resource, user)
  t.not(result.resource, user, 'a copy, never the input')
})

t.test('a failing operation leaves the input untouched (no partial write)', async (t) => {
  const before = structuredClone(user)
  const operations = [{ op: 'replace', path: 'userName', value: 'new' }, { op: 'remove', path: 'userName' }] as const
  t.ok(isScimError(thrownBy(() => applyPatch(user, operations, USER_RESOURCE_TYPE))))
  t.strictSame(user, before)
})

t.test('the result does not share the request values', async (t) => {
  const value = [{ value: 'home@example.com', type: 'home' }]
  const { resource } = applyPatch(user, [{ op: 'add', path: 'emails', value }], USER_RESOURCE_TYPE)
  value[0]!.value = 'changed@example.com'
  t.strictSame(resource['emails'], [
    { value: 'kim@example.com', type: 'work' },
    { value: 'home@example.com', type: 'home' },
  ])
})

t.test('changed is false when operations cancel out', async (t) => {
  const operations = [
    { op: 'add', path: 'title', value: 'Boss' },
    { op: 'remove', path: 'title' },
    { op: 'add', path: 'emails', value: [{ value: 'kim@example.com', type: 'work' }] },
  ] as const
  t.equal(applyPatch(user, operations, USER_RESOURCE_TYPE).changed, false)
})

t.test('replace with a value filter matching several values: all replaced by the one value', async (t) => {
  const twoWork = deepFreeze({
    ...user,
    emails: [
      { value: 'a@example.com', type: 'work' },
      { value: 'h@example.com', type: 'home' },
      { value: 'b@example.com', type: 'work' },
    ],
  })
  const { resource } = applyPatch(twoWork, [{ op: 'replace', path: 'emails[type eq "work"]', value: { value: 'c@example.com', type: 'work' } }], USER_RESOURCE_TYPE)
  t.strictSame(resource['emails'], [
    { value: 'c@example.com', type: 'work' },
    { value: 'h@example.com', type: 'home' },
  ])
})
