// Who may sign in to a team, and with what: the union of what the user's
// groups grant. Pure: the store hands over the user's row and its groups.

export type AccessReason = 'active' | 'deactivated' | 'unknown_user'

export interface AccessScope {
  readonly type: 'Exact'
  readonly values: readonly string[]
}

export interface GrantingGroup {
  readonly id: string
  readonly displayName: string
  /** The group's access extension as stored (roles, scope), or null. */
  readonly access: unknown
}

export interface AccessFacts {
  readonly user: { readonly id: string; readonly active: boolean } | undefined
  readonly groups: readonly GrantingGroup[]
  /** The tenant's roles for active users in no group. */
  readonly defaultRoles: readonly string[]
}

export interface AccessDecision {
  readonly allowed: boolean
  readonly reason: AccessReason
  readonly userId?: string
  readonly roles: readonly string[]
  /** null = the whole team (a group grants roles without a scope, or the default roles apply). */
  readonly scope: AccessScope | null
  readonly groups: readonly { readonly id: string; readonly displayName: string }[]
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function rolesOf(access: unknown): string[] {
  if (!isObject(access) || !Array.isArray(access.roles)) return []
  return access.roles.flatMap((role) => (isObject(role) && typeof role.value === 'string' ? [role.value] : []))
}

function exactValuesOf(access: unknown): string[] | undefined {
  if (!isObject(access) || !isObject(access.scope)) return undefined
  const { type, values } = access.scope
  if (typeof type === 'string' && type !== 'Exact') return undefined
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : []
}

const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort((a, b) => a.localeCompare(b))

export function decideAccess(facts: AccessFacts): AccessDecision {
  const { user } = facts
  if (user === undefined) return { allowed: false, reason: 'unknown_user', roles: [], scope: null, groups: [] }
  const groups = facts.groups.map((g) => ({ id: g.id, displayName: g.displayName }))
  // A deactivated user keeps its memberships (so reactivation restores them) but is granted nothing.
  if (!user.active) return { allowed: false, reason: 'deactivated', userId: user.id, roles: [], scope: null, groups }
  if (facts.groups.length === 0) return { allowed: true, reason: 'active', userId: user.id, roles: sorted(facts.defaultRoles), scope: null, groups }

  const roles = new Set<string>()
  const values = new Set<string>()
  let wholeTeam = false
  for (const group of facts.groups) {
    const granted = rolesOf(group.access)
    if (granted.length === 0) continue
    for (const role of granted) roles.add(role)
    const exact = exactValuesOf(group.access)
    if (exact === undefined) wholeTeam = true
    else for (const value of exact) values.add(value)
  }
  return { allowed: true, reason: 'active', userId: user.id, roles: sorted(roles), scope: wholeTeam ? null : { type: 'Exact', values: sorted(values) }, groups }
}
