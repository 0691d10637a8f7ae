import type { RegionInfo } from '../../../lib/admin-api/contract.ts'
import { api, type Tenant } from '../api.ts'
import { CopyField } from '../components/copy-field.tsx'
import { Link } from '../components/link.tsx'
import { ErrorNotice } from '../components/notice.tsx'
import { useLoad } from '../use-load.ts'

function Steps(props: { region: RegionInfo; link: (path: string) => string }) {
  const tokens = <Link href={props.link('tokens')}>Tokens</Link>
  return (
    <div class="providers">
      <section aria-labelledby="okta-steps">
        <h3 id="okta-steps">Okta</h3>
        <ol>
          <li>In your SCIM app, open Provisioning → Integration and enable API integration.</li>
          <li>Paste the Okta / Entra ID tenant URL as the SCIM connector base URL; unique identifier: userName.</li>
          <li>Authentication mode: HTTP Header. Paste a token from {tokens} as the bearer token, then Test Connector Configuration.</li>
          <li>Enable Create, Update and Deactivate users; push groups under Push Groups.</li>
        </ol>
      </section>
      <section aria-labelledby="entra-steps">
        <h3 id="entra-steps">Microsoft Entra ID</h3>
        <ol>
          <li>In the enterprise application, open Provisioning and set the mode to Automatic.</li>
          <li>Tenant URL: the Okta / Entra ID tenant URL. Secret token: a token from {tokens}. Test Connection.</li>
          <li>Assign users and groups, then start provisioning.</li>
        </ol>
      </section>
      <section aria-labelledby="onelogin-steps">
        <h3 id="onelogin-steps">OneLogin</h3>
        {props.region.oneLoginUrl === null ? (
          <p>This region has no OneLogin tenant URL: use Okta or Entra ID.</p>
        ) : (
          <ol>
            <li>Add the SCIM Provisioner with SCIM Bearer Token (Core Schema v2.0) app.</li>
            <li>SCIM Base URL: the OneLogin tenant URL. SCIM Bearer Token: a token from {tokens}. Enable the API connection.</li>
            <li>Under Provisioning, enable provisioning and map groups under Parameters → Groups.</li>
          </ol>
        )}
      </section>
    </div>
  )
}

export function ConnectPage(props: { tenant: Tenant; link: (path: string) => string }) {
  const [regions] = useLoad(() => api.regions(), [])
  const region = regions.state === 'done' ? regions.value.regions.find((r) => r.code === props.tenant.region) : undefined
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Connect your identity provider</h1>
      <p>
        Tenant <strong>{props.tenant.tenantId}</strong> lives in region <strong>{props.tenant.region}</strong>. Give your identity provider the tenant URL of this region and a
        provisioning token.
      </p>
      {regions.state === 'failed' ? <ErrorNotice error={regions.error} /> : null}
      {region === undefined ? null : (
        <>
          <h2>Tenant URLs</h2>
          <CopyField label="Okta tenant URL" value={region.tenantUrl} />
          <CopyField label="Entra ID tenant URL" value={region.tenantUrl} />
          {region.oneLoginUrl === null ? null : <CopyField label="OneLogin tenant URL" value={region.oneLoginUrl} />}
          <h2>Setup steps</h2>
          <Steps region={region} link={props.link} />
        </>
      )}
    </section>
  )
}
