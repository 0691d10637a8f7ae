import t from 'tap'
import { decideAccess, type GrantingGroup } from '../../../region-node/access/decide-access.ts'
import { assertRolesInCatalog, readCatalogUpdate, SEED_ROLES } from '../../../region-node/access/role-catalog.ts'

const user = { id: 'u1', active: true }
const group = (id: string, access: unknown): GrantingGroup => ({ id, displayName: id, access })
const exact = (...values: string[]) => ({ type: 'Exact', values })

t.test('decisions', async (t) => {
  const cases: [string, Parameters<typeof decideAccess>[0], Partial<ReturnType<typeof decideAccess>>][] = [
    ['unknown user', { user: undefined, groups: [], defaultRoles: ['User'] }, { allowed: false, reason: 'unknown_user', roles: [], scope: null }],
    ['deactivated: nothing granted, memberships listed', { user: { id: 'u1', active: false }, groups: [group('a', { roles: [{ value: 'Admin' }] })], defaultRoles: [] }, { allowed: false, reason: 'deactivated', roles: [], scope: null, groups: [{ id: 'a', displayName: 'a' }] }],
    ['no group: default roles, whole team', { user, groups: [], defaultRoles: ['User', 'Admin'] }, { allowed: true, roles: ['Admin', 'User'], scope: null }],
    [
      'union of roles and Exact values',
      { user, groups: [group('a', { roles: [{ value: 'Admin' }], scope: exact('x', 'y') }), group('b', { roles: [{ value: 'User' }, { value: 'Admin' }], scope: exact('y', 'z') })], defaultRoles: ['Viewer'] },
      { allowed: true, roles: ['Admin', 'User'], scope: { type: 'Exact', values: ['x', 'y', 'z'] } },
    ],
    ['a group granting roles without scope opens the whole team', { user, groups: [group('a', { roles: [{ value: 'Admin' }], scope: exact('x') }), group('b', { roles: [{ value: 'User' }] })], defaultRoles: [] }, { roles: ['Admin', 'User'], scope: null }],
    ['a group granting nothing adds no scope', { user, groups: [group('a', { roles: [{ value: 'Admin' }], scope: exact('x') }), group('b', { scope: exact('secret') }), group('c', null)], defaultRoles: [] }, { roles: ['Admin'], scope: { type: 'Exact', values: ['x'] } }],
    ['groups granting nothing at all: no roles, an empty scope', { user, groups: [group('a', null)], defaultRoles: ['User'] }, { allowed: true, roles: [], scope: { type: 'Exact', values: [] } }],
    ['malformed stored access is ignored, not trusted', { user, groups: [group('a', { roles: 'Admin', scope: 'x' }), group('b', { roles: [{ value: 7 }, 'x'] })], defaultRoles: [] }, { roles: [] }],
  ]
  for (const [name, facts, expected] of cases) t.match(decideAccess(facts), expected, name)
})

t.test('role catalog rules', async (t) => {
  t.same(SEED_ROLES, ['Admin', 'User', 'Read Only', 'Data Analyst', 'Interface User'])
  t.same(readCatalogUpdate({ roles: ['A', 'B'] }, { roles: SEED_ROLES, defaultRoles: [] }), { roles: ['A', 'B'], defaultRoles: [] })
  t.throws(() => readCatalogUpdate({ roles: ['A'] }, { roles: ['A', 'B'], defaultRoles: ['B'] }), /defaultRoles: "B" is not in the tenant's role catalog/, 'kept default roles must stay in the catalog')
  t.throws(() => readCatalogUpdate({ roles: [' A'] }, { roles: [], defaultRoles: [] }), /surrounding spaces/)
  t.throws(() => assertRolesInCatalog(['X', 'Y', 'X'], ['A']), /roles: "X", "Y" are not in the tenant's role catalog; valid roles: "A"/)
  t.doesNotThrow(() => assertRolesInCatalog(['A'], ['A']))
})
