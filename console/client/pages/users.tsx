import { useState } from 'preact/hooks'
import type { AccessDecision } from '../../../lib/admin-api/contract.ts'
import { api, type Tenant } from '../api.ts'
import { Link } from '../components/link.tsx'
import { ErrorNotice, Notice } from '../components/notice.tsx'
import { Pager } from '../components/pager.tsx'
import { Time } from '../components/time.tsx'
import { navigate } from '../router.ts'
import { useLoad } from '../use-load.ts'

type LinkTo = (path: string, params?: Record<string, string | undefined>) => string

export function UsersPage(props: { tenant: Tenant; url: URL; link: LinkTo }) {
  const search = props.url.searchParams.get('q') ?? ''
  const status = props.url.searchParams.get('status') ?? 'all'
  const cursor = props.url.searchParams.get('cursor') ?? undefined
  const [text, setText] = useState(search)
  const [filter, setFilter] = useState(status)
  const [page] = useLoad(() => api.users(props.tenant, { search, status, cursor }), [props.tenant.region, props.tenant.tenantId, search, status, cursor])
  const submit = (event: Event): void => {
    event.preventDefault()
    navigate(props.link('users', { q: text, status: filter === 'all' ? undefined : filter }))
  }
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Users</h1>
      <form class="inline-form" role="search" onSubmit={submit}>
        <label for="user-search">Search users</label>
        <input id="user-search" type="search" placeholder="userName or name" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <label for="user-status">Status</label>
        <select id="user-status" value={filter} onChange={(e) => setFilter(e.currentTarget.value)}>
          <option value="all">All</option>
          <option value="active">Active</option>
          <option value="deactivated">Deactivated</option>
        </select>
        <button type="submit">Search</button>
      </form>
      {page.state === 'loading' ? <p aria-busy="true">Loading…</p> : null}
      {page.state === 'failed' ? <ErrorNotice error={page.error} /> : null}
      {page.state === 'done' ? (
        <>
          {page.value.users.length === 0 ? (
            <p>No users match.</p>
          ) : (
            <table>
              <caption class="visually-hidden">Users of this tenant</caption>
              <thead>
                <tr>
                  <th scope="col">userName</th>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last modified</th>
                </tr>
              </thead>
              <tbody>
                {page.value.users.map((user) => (
                  <tr key={user.id}>
                    <td>
                      <Link href={props.link(`users/${encodeURIComponent(user.id)}`)}>{user.userName}</Link>
                    </td>
                    <td>{user.name ?? user.displayName ?? '—'}</td>
                    <td>{user.active ? 'active' : 'deactivated'}</td>
                    <td>
                      <Time value={user.lastModified} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <Pager url={props.url} nextCursor={page.value.nextCursor} label="Users" />
        </>
      ) : null}
    </section>
  )
}

function Decision(props: { decision: AccessDecision }) {
  const { decision } = props
  if (!decision.allowed) {
    const why = decision.reason === 'deactivated' ? 'the user is deactivated' : 'the user is unknown'
    return <Notice kind="warning">Cannot sign in: {why}.</Notice>
  }
  return (
    <dl>
      <dt>May sign in</dt>
      <dd>yes ({decision.reason})</dd>
      <dt>Roles</dt>
      <dd>{decision.roles.length === 0 ? 'none' : decision.roles.join(', ')}</dd>
      <dt>Scope</dt>
      <dd>{decision.scope === null ? 'the whole team' : decision.scope.values.join(', ') || 'nothing'}</dd>
    </dl>
  )
}

export function UserPage(props: { tenant: Tenant; id: string; link: LinkTo }) {
  const [user] = useLoad(() => api.user(props.tenant, props.id), [props.tenant.region, props.tenant.tenantId, props.id])
  const userName = user.state === 'done' ? user.value.userName : undefined
  const [decision] = useLoad(() => (userName === undefined ? new Promise<AccessDecision>(() => undefined) : api.access(props.tenant, userName)), [userName])
  return (
    <section aria-labelledby="page-title">
      <p>
        <Link href={props.link('users')}>← All users</Link>
      </p>
      {user.state === 'loading' ? <p aria-busy="true">Loading…</p> : null}
      {user.state === 'failed' ? (
        <>
          <h1 id="page-title">User</h1>
          <ErrorNotice error={user.error} />
        </>
      ) : null}
      {user.state === 'done' ? (
        <>
          <h1 id="page-title">{user.value.userName}</h1>
          <dl>
            <dt>Name</dt>
            <dd>{user.value.name ?? user.value.displayName ?? '—'}</dd>
            <dt>Status</dt>
            <dd>{user.value.active ? 'active' : 'deactivated'}</dd>
            <dt>Emails</dt>
            <dd>{user.value.emails.join(', ') || '—'}</dd>
            <dt>externalId</dt>
            <dd>{user.value.externalId ?? '—'}</dd>
            <dt>Id</dt>
            <dd>
              <code>{user.value.id}</code>
            </dd>
          </dl>
          <h2>Groups</h2>
          {user.value.groups.length === 0 ? (
            <p>Not in any group.</p>
          ) : (
            <ul>
              {user.value.groups.map((g) => (
                <li key={g.id}>
                  <Link href={props.link(`groups/${encodeURIComponent(g.id)}`)}>{g.displayName}</Link>
                </li>
              ))}
              {user.value.moreGroups ? <li>… and more</li> : null}
            </ul>
          )}
          <h2>Access decision</h2>
          {decision.state === 'loading' ? <p aria-busy="true">Loading…</p> : null}
          {decision.state === 'failed' ? <ErrorNotice error={decision.error} /> : null}
          {decision.state === 'done' ? <Decision decision={decision.value} /> : null}
        </>
      ) : null}
    </section>
  )
}
