import { useState } from 'preact/hooks'
import type { IssuedToken, TokenView } from '../../../lib/admin-api/contract.ts'
import { api, type Tenant } from '../api.ts'
import { ConfirmDialog } from '../components/confirm-dialog.tsx'
import { CopyField } from '../components/copy-field.tsx'
import { ErrorNotice, Notice } from '../components/notice.tsx'
import { Time } from '../components/time.tsx'
import { useLoad } from '../use-load.ts'

const EXPIRIES: readonly [string, string][] = [
  ['', 'Never'],
  ['30', '30 days'],
  ['90', '90 days'],
  ['365', '1 year'],
]

function NewToken(props: { issued: IssuedToken; onDone: () => void }) {
  return (
    <section class="new-token" aria-labelledby="new-token-title">
      <h2 id="new-token-title">New token{props.issued.label === '' ? '' : `: ${props.issued.label}`}</h2>
      <Notice kind="warning">Copy this token now and paste it into your identity provider. It cannot be shown again.</Notice>
      <CopyField label="Provisioning token" value={props.issued.token} />
      <button type="button" onClick={props.onDone}>
        I have copied it
      </button>
    </section>
  )
}

function GenerateForm(props: { tenant: Tenant; onIssued: (issued: IssuedToken) => void }) {
  const [label, setLabel] = useState('')
  const [days, setDays] = useState('')
  const [accessWrite, setAccessWrite] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault()
    setError(undefined)
    try {
      const expiresAt = days === '' ? null : new Date(Date.now() + Number(days) * 86_400_000).toISOString()
      const scopes = accessWrite ? (['scim', 'groups:access:write'] as const) : undefined
      props.onIssued(await api.createToken({ tenantId: props.tenant.tenantId, region: props.tenant.region, label, expiresAt, ...(scopes === undefined ? {} : { scopes: [...scopes] }) }))
      setLabel('')
    } catch (failure) {
      setError(failure)
    }
  }
  return (
    <form class="inline-form" onSubmit={submit} aria-labelledby="generate-title">
      <h2 id="generate-title">Generate a provisioning token</h2>
      <label for="token-label">Label</label>
      <input id="token-label" maxLength={200} placeholder="e.g. Okta production" value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
      <label for="token-expiry">Expires</label>
      <select id="token-expiry" value={days} onChange={(e) => setDays(e.currentTarget.value)}>
        {EXPIRIES.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
      <label class="check">
        <input type="checkbox" checked={accessWrite} onChange={(e) => setAccessWrite(e.currentTarget.checked)} />
        Let the identity provider set group roles and scope
      </label>
      <button type="submit">Generate token</button>
      {error === undefined ? null : <ErrorNotice error={error} />}
    </form>
  )
}

export function TokensPage(props: { tenant: Tenant }) {
  const [tokens, reload] = useLoad(() => api.tokens(props.tenant), [props.tenant.region, props.tenant.tenantId])
  const [issued, setIssued] = useState<IssuedToken | undefined>(undefined)
  const [revoking, setRevoking] = useState<TokenView | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const [message, setMessage] = useState('')

  const act = async (work: () => Promise<void>): Promise<void> => {
    setError(undefined)
    try {
      await work()
    } catch (failure) {
      setError(failure)
    }
    reload()
  }
  const rotate = (token: TokenView) =>
    act(async () => {
      setIssued(await api.rotateToken(token.tokenId))
      setMessage(`Rotated ${token.label || token.tokenId}: the old token keeps working until you revoke it.`)
    })
  const revoke = (token: TokenView) =>
    act(async () => {
      setRevoking(undefined)
      await api.revokeToken(token.tokenId)
      setMessage(`Revoked ${token.label || token.tokenId}.`)
    })

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Provisioning tokens</h1>
      {issued === undefined ? null : <NewToken issued={issued} onDone={() => setIssued(undefined)} />}
      <GenerateForm
        tenant={props.tenant}
        onIssued={(t) => {
          setIssued(t)
          setMessage('')
          reload()
        }}
      />
      {message === '' ? null : <Notice kind="success">{message}</Notice>}
      {error === undefined ? null : <ErrorNotice error={error} />}
      <h2>Tokens</h2>
      {tokens.state === 'loading' ? <p aria-busy="true">Loading…</p> : null}
      {tokens.state === 'failed' ? <ErrorNotice error={tokens.error} /> : null}
      {tokens.state === 'done' && tokens.value.tokens.length === 0 ? <p>No tokens yet.</p> : null}
      {tokens.state === 'done' && tokens.value.tokens.length > 0 ? (
        <table>
          <caption class="visually-hidden">Provisioning tokens of this tenant</caption>
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Id</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Status</th>
              <th scope="col">Scopes</th>
              <th scope="col">Last used</th>
              <th scope="col">Identity provider</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {tokens.value.tokens.map((token) => (
              <tr key={token.tokenId}>
                <td>{token.label || '(no label)'}</td>
                <td>
                  <code>{token.tokenId}</code>
                </td>
                <td>
                  <Time value={token.createdAt} />
                </td>
                <td>
                  <Time value={token.expiresAt} empty="never" />
                </td>
                <td>{token.status}</td>
                <td>{token.scopes.join(', ')}</td>
                <td>{token.lastUsedAt === undefined ? 'not tracked' : <Time value={token.lastUsedAt} empty="never" />}</td>
                <td>{token.lastUsedBy ?? '—'}</td>
                <td class="actions">
                  {token.status === 'active' ? (
                    <>
                      <button type="button" class="secondary" onClick={() => rotate(token)} aria-label={`Rotate ${token.label || token.tokenId}`}>
                        Rotate
                      </button>
                      <button type="button" class="danger" onClick={() => setRevoking(token)} aria-label={`Revoke ${token.label || token.tokenId}`}>
                        Revoke
                      </button>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {revoking === undefined ? null : (
        <ConfirmDialog title="Revoke this token?" confirmLabel="Revoke token" onConfirm={() => revoke(revoking)} onCancel={() => setRevoking(undefined)}>
          <p>
            Identity providers using <strong>{revoking.label || revoking.tokenId}</strong> are refused from now on. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  )
}
