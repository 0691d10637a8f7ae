import t from 'tap'
import { isScimError } from '../../../../lib/scim-error.ts'
import { parsePatchRequest, planMemberOperations } from '../../../../region-node/scim/patch/index.ts'
import type { MemberOperation, PatchOperation } from '../../../../region-node/scim/patch/index.ts'
import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from '../../../../region-node/scim/schema/index.ts'
import { deepFreeze, thrownBy } from './fixtures/load-fixture-cases.ts'

const plan = (operations: unknown[]) =>
  planMemberOperations(parsePatchRequest(deepFreeze({ Operations: operations })), GROUP_RESOURCE_TYPE)

const planned: [name: string, operations: unknown[], members: MemberOperation[], others: PatchOperation[]][] = [
  [
    'add with $ref, display and type; type in any case',
    [{ op: 'add', path: 'members', value: [{ value: 'u1', display: 'U', $ref: null, type: 'user' }, { value: 'g1', type: 'Group' }, { value: 'x', type: 'Robot' }] }],
    [{ kind: 'add', members: [{ value: 'u1', type: 'User' }, { value: 'g1', type: 'Group' }, { value: 'x' }] }],
    [],
  ],
  ['add of a single object', [{ op: 'Add', path: 'members', value: { value: 'u1' } }], [{ kind: 'add', members: [{ value: 'u1' }] }], []],
  ['remove by value filter', [{ op: 'remove', path: 'members[value eq "u1"]' }], [{ kind: 'remove', memberIds: ['u1'] }], []],
  [
    'remove by an "or" of value filters',
    [{ op: 'remove', path: 'members[value eq "a" or value eq "b" or VALUE eq "c"]' }],
    [{ kind: 'remove', memberIds: ['a', 'b', 'c'] }],
    [],
  ],
  ['remove without filter removes all', [{ op: 'remove', path: 'members' }], [{ kind: 'removeAll' }], []],
  [
    'URN-qualified members path',
    [{ op: 'remove', path: 'urn:ietf:params:scim:schemas:core:2.0:Group:members' }],
    [{ kind: 'removeAll' }],
    [],
  ],
  ['replace with [] (Okta push now)', [{ op: 'replace', path: 'members', value: [] }], [{ kind: 'replace', members: [] }], []],
  ['replace with null becomes removeAll', [{ op: 'replace', path: 'members', value: null }], [{ kind: 'removeAll' }], []],
  [
    'no-path add with members and displayName: split in two, request order kept',
    [
      { op: 'remove', path: 'members[value eq "a"]' },
      { op: 'add', value: { displayName: 'G', members: [{ value: 'b' }] } },
      { op: 'replace', path: 'displayName', value: 'H' },
    ],
    [
      { kind: 'remove', memberIds: ['a'] },
      { kind: 'add', members: [{ value: 'b' }] },
    ],
    [
      { op: 'add', value: { displayName: 'G' }, index: 1 },
      { op: 'replace', path: 'displayName', value: 'H', index: 2 },
    ],
  ],
  ['no-path replace with only Members', [{ op: 'replace', value: { Members: [] } }], [{ kind: 'replace', members: [] }], []],
  [
    'members under the core schema URN key',
    [{ op: 'replace', value: { 'urn:ietf:params:scim:schemas:core:2.0:Group': { members: [{ value: 'a' }], displayName: 'G' } } }],
    [{ kind: 'replace', members: [{ value: 'a' }] }],
    [{ op: 'replace', value: { 'urn:ietf:params:scim:schemas:core:2.0:Group': { displayName: 'G' } }, index: 0 }],
  ],
  [
    'the core schema URN as path',
    [{ op: 'add', path: 'urn:ietf:params:scim:schemas:core:2.0:Group', value: { members: [{ value: 'a' }] } }],
    [{ kind: 'add', members: [{ value: 'a' }] }],
    [],
  ],
  [
    'a members key of an extension is not Group members',
    [{ op: 'add', value: { 'urn:scimgate:params:scim:schemas:extension:access:2.0:Group:members': 'x' } }],
    [],
    [{ op: 'add', value: { 'urn:scimgate:params:scim:schemas:extension:access:2.0:Group:members': 'x' }, index: 0 }],
  ],
]

t.test('planMemberOperations splits member changes out, in request order', async (t) => {
  for (const [name, operations, members, others] of planned) {
    const result = plan(operations)
    t.strictSame(result.memberOperations, members, `${name}: member operations`)
    t.strictSame(result.otherOperations, others, `${name}: other operations`)
  }
})

t.test('a User has no members: everything is another operation', async (t) => {
  const operations = parsePatchRequest({ Operations: [{ op: 'add', path: 'members', value: [{ value: 'a' }] }] })
  t.strictSame(planMemberOperations(operations, USER_RESOURCE_TYPE), { memberOperations: [], otherOperations: operations })
})

const refused: [name: string, operations: unknown[], scimType: string, detail: string][] = [
  ['a members filter on display', [{ op: 'remove', path: 'members[display eq "x"]' }], 'invalidFilter', 'Operations[0]'],
  ['a members filter with "and"', [{ op: 'remove', path: 'members[value eq "a" and type eq "User"]' }], 'invalidFilter', 'Operations[0]'],
  ['a members filter with "ne"', [{ op: 'remove', path: 'members[value ne "a"]' }], 'invalidFilter', 'Operations[0]'],
  ['a member value that is not a string', [{ op: 'add', path: 'title', value: 'x' }, { op: 'add', path: 'members', value: [{ value: 42 }] }], 'invalidValue', 'Operations[1]'],
  ['a member without value', [{ op: 'add', path: 'members', value: [{ display: 'x' }] }], 'invalidValue', 'Operations[0]'],
  ['a member with an empty value', [{ op: 'replace', path: 'members', value: [{ value: '' }] }], 'invalidValue', 'Operations[0]'],
  ['a member that is neither an object nor a string id', [{ op: 'add', path: 'members', value: [42] }], 'invalidValue', 'Operations[0]'],
  ['a sub-attribute of a filtered member', [{ op: 'remove', path: 'members[value eq "a"].display' }], 'invalidPath', 'Operations[0]'],
  ['a filtered add', [{ op: 'add', path: 'members[value eq "a"]', value: { value: 'a' } }], 'invalidPath', 'Operations[0]'],
  ['a broken path', [{ op: 'add', path: 'members[', value: [] }], 'invalidPath', 'Operations[0]'],
]

t.test('planMemberOperations refuses what a set operation cannot execute', async (t) => {
  for (const [name, operations, scimType, detail] of refused) {
    const error = thrownBy(() => plan(operations))
    t.ok(isScimError(error) && error.status === 400 && error.scimType === scimType, `${name} → 400 ${scimType}`)
    if (isScimError(error)) t.match(error.detail, detail, `${name}: detail names the operation`)
  }
})
