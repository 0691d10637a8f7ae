import type { Principal } from '../../lib/admin-api/contract.ts'
import type { Tenant } from './api.ts'

/** A team admin's tenant is their credential's; the operator picks one, kept in the URL. */
export function tenantOf(principal: Principal, url: URL): Tenant | undefined {
  if (principal.kind === 'admin') return { region: principal.region, tenantId: principal.tenantId }
  const region = url.searchParams.get('region') ?? ''
  const tenantId = url.searchParams.get('tenant') ?? ''
  return region === '' || tenantId === '' ? undefined : { region, tenantId }
}

/** A console URL: the page path, its own parameters, and the operator's chosen tenant. */
export function consoleUrl(path: string, principal: Principal, tenant: Tenant | undefined, params: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams()
  if (principal.kind !== 'admin' && tenant !== undefined) {
    search.set('region', tenant.region)
    search.set('tenant', tenant.tenantId)
  }
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, value)
  const text = search.toString()
  return `/console/${path}${text === '' ? '' : `?${text}`}`
}
