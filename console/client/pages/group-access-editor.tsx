import { useState } from 'preact/hooks'
import type { GroupDetail } from '../../../lib/admin-api/contract.ts'
import { ApiError, api, type Tenant } from '../api.ts'
import { ErrorNotice, Notice } from '../components/notice.tsx'
import { useLoad } from '../use-load.ts'

const splitValues = (text: string): string[] => [...new Set(text.split(/[\n,]/).map((v) => v.trim()).filter((v) => v !== ''))]

/**
 * Roles (from the tenant's role catalog) and Exact scope values of a group.
 * Saving sends the ETag the page was read with: when someone changed the
 * group meanwhile, the node answers 412 and nothing is overwritten.
 */
export function GroupAccessEditor(props: { tenant: Tenant; group: GroupDetail; onSaved: () => void; onReload: () => void }) {
  const [catalog] = useLoad(() => api.roles(props.tenant), [props.tenant.region, props.tenant.tenantId])
  const [roles, setRoles] = useState<string[]>([...props.group.access.roles])
  const [freeRoles, setFreeRoles] = useState(props.group.access.roles.join(', '))
  const [scope, setScope] = useState(props.group.access.scope?.values.join('\n') ?? '')
  const [outcome, setOutcome] = useState<{ kind: 'conflict' } | { kind: 'failed'; error: unknown } | undefined>(undefined)
  const catalogRoles = catalog.state === 'done' ? catalog.value.roles : undefined
  const shownRoles = catalogRoles === undefined ? [] : [...catalogRoles, ...roles.filter((r) => !catalogRoles.includes(r))]

  const save = async (event: Event): Promise<void> => {
    event.preventDefault()
    setOutcome(undefined)
    const chosen = catalogRoles === undefined ? splitValues(freeRoles) : roles
    const values = splitValues(scope)
    try {
      await api.setAccess(props.tenant, props.group.id, { roles: chosen, scope: values.length === 0 ? null : { type: 'Exact', values } }, props.group.etag)
      props.onSaved()
    } catch (error) {
      setOutcome(error instanceof ApiError && error.status === 412 ? { kind: 'conflict' } : { kind: 'failed', error })
    }
  }

  return (
    <form class="access-editor" onSubmit={save} aria-labelledby="access-title">
      <h2 id="access-title">Roles and scope</h2>
      {catalog.state === 'failed' ? <ErrorNotice error={catalog.error} /> : null}
      {catalogRoles === undefined ? (
        catalog.state === 'failed' ? (
          <>
            <label for="free-roles">Roles (comma-separated)</label>
            <input id="free-roles" value={freeRoles} onInput={(e) => setFreeRoles(e.currentTarget.value)} />
          </>
        ) : (
          <p aria-busy="true">Loading the role catalog…</p>
        )
      ) : (
        <fieldset>
          <legend>Roles</legend>
          {shownRoles.map((role) => (
            <label key={role} class="check">
              <input
                type="checkbox"
                checked={roles.includes(role)}
                onChange={(e) => setRoles(e.currentTarget.checked ? [...roles, role] : roles.filter((r) => r !== role))}
              />
              {role}
            </label>
          ))}
        </fieldset>
      )}
      <label for="scope-values">Scope values (Exact; one per line, empty for the whole team)</label>
      <textarea id="scope-values" rows={4} value={scope} onInput={(e) => setScope(e.currentTarget.value)} />
      <button type="submit">Save roles and scope</button>
      {outcome?.kind === 'conflict' ? (
        <Notice kind="error">
          Someone else changed this group since you opened it, so nothing was saved. Reload the group to see their change, then make yours again.{' '}
          <button type="button" class="secondary" onClick={props.onReload}>
            Reload group
          </button>
        </Notice>
      ) : null}
      {outcome?.kind === 'failed' ? <ErrorNotice error={outcome.error} /> : null}
    </form>
  )
}
