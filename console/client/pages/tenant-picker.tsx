import { useState } from 'preact/hooks'
import type { Principal } from '../../../lib/admin-api/contract.ts'
import { api, type Tenant } from '../api.ts'
import { navigate } from '../router.ts'
import { consoleUrl } from '../tenant-url.ts'
import { useLoad } from '../use-load.ts'

/** The operator chooses which tenant to look at; the choice lives in the URL. */
export function TenantPicker(props: { principal: Principal; tenant: Tenant | undefined; url: URL }) {
  const [regions] = useLoad(() => api.regions(), [])
  const [region, setRegion] = useState(props.tenant?.region ?? '')
  const [tenantId, setTenantId] = useState(props.tenant?.tenantId ?? '')
  const page = props.url.pathname.split('/')[2] || 'connect'
  const open = (event: Event): void => {
    event.preventDefault()
    navigate(consoleUrl(page, props.principal, { region: region || (regions.state === 'done' ? (regions.value.regions[0]?.code ?? '') : ''), tenantId }))
  }
  return (
    <form class="tenant-picker" onSubmit={open} aria-label="Choose a tenant">
      <label for="picker-region">Region</label>
      <select id="picker-region" value={region} onChange={(e) => setRegion(e.currentTarget.value)}>
        {regions.state === 'done' ? regions.value.regions.map((r) => <option key={r.code} value={r.code}>{`${r.code} — ${r.name}`}</option>) : null}
      </select>
      <label for="picker-tenant">Tenant</label>
      <input id="picker-tenant" required value={tenantId} onInput={(e) => setTenantId(e.currentTarget.value)} />
      <button type="submit">Open tenant</button>
    </form>
  )
}
