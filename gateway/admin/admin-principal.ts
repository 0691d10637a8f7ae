import type { Permission, Principal } from '../../lib/admin-api/contract.ts'

/** The tenant and region a request acts on. */
export interface Binding {
  readonly tenantId: string
  readonly region: string
}

/**
 * Whether `principal` may use a route demanding `permission` for `binding`
 * (undefined when the route names no tenant: then only the operator may).
 */
export function permits(principal: Principal, permission: Permission, binding: Binding | undefined): boolean {
  if (permission === 'public' || permission === 'signed-in') return true
  if (principal.kind === 'operator') return true
  if (permission === 'operator' || binding === undefined) return false
  const sameRegion = principal.region === binding.region.toUpperCase()
  if (principal.kind === 'access') return permission === 'access:read' && sameRegion
  return sameRegion && principal.tenantId === binding.tenantId
}
