// A tenant's role catalog: the roles groups may grant. Pure rules; the
// catalog itself lives in tenant_settings.
import { ScimError } from '../../lib/scim-error.ts'

/** Every tenant starts with these (the product's built-in roles). */
export const SEED_ROLES: readonly string[] = Object.freeze(['Admin', 'User', 'Read Only', 'Data Analyst', 'Interface User'])

const MAX_ROLES = 200
const MAX_ROLE_LENGTH = 100

export interface RoleCatalog {
  readonly roles: readonly string[]
  readonly defaultRoles: readonly string[]
}

function readRoleList(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) throw new ScimError(400, 'invalidValue', `${name} must be an array of role names`)
  if (value.length > MAX_ROLES) throw new ScimError(400, 'invalidValue', `${name} holds at most ${MAX_ROLES} roles`)
  const seen = new Set<string>()
  const roles: string[] = []
  for (const item of value) {
    if (typeof item !== 'string' || item.trim() === '' || item.length > MAX_ROLE_LENGTH || item !== item.trim()) {
      throw new ScimError(400, 'invalidValue', `${name} must hold non-empty role names of at most ${MAX_ROLE_LENGTH} characters without surrounding spaces`)
    }
    if (seen.has(item)) throw new ScimError(400, 'invalidValue', `${name} names ${JSON.stringify(item)} twice`)
    seen.add(item)
    roles.push(item)
  }
  return roles
}

/** A PUT body `{ roles, defaultRoles? }`; defaultRoles left out keeps the current ones (which must still be in the catalog). */
export function readCatalogUpdate(body: unknown, current: RoleCatalog): RoleCatalog {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ScimError(400, 'invalidSyntax', 'send a JSON object with roles (and optionally defaultRoles)')
  const { roles, defaultRoles, ...rest } = body as Record<string, unknown>
  const unknownKeys = Object.keys(rest)
  if (unknownKeys.length > 0) throw new ScimError(400, 'invalidValue', `unknown field(s) ${unknownKeys.join(', ')}; send roles and defaultRoles`)
  const catalog = readRoleList(roles, 'roles')
  const defaults = defaultRoles === undefined ? [...current.defaultRoles] : readRoleList(defaultRoles, 'defaultRoles')
  assertRolesInCatalog(defaults, catalog, 'defaultRoles')
  return { roles: catalog, defaultRoles: defaults }
}

/** 400 invalidValue listing the valid roles when `roles` names one the catalog does not have. */
export function assertRolesInCatalog(roles: readonly string[], catalog: readonly string[], what = 'roles'): void {
  const known = new Set(catalog)
  const unknown = [...new Set(roles.filter((role) => !known.has(role)))]
  if (unknown.length === 0) return
  throw new ScimError(400, 'invalidValue', `${what}: ${unknown.map((r) => JSON.stringify(r)).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the tenant's role catalog; valid roles: ${catalog.map((r) => JSON.stringify(r)).join(', ')}`)
}
