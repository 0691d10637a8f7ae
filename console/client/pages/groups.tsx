import { useState } from 'preact/hooks'
import type { MemberView } from '../../../lib/admin-api/contract.ts'
import { api, type Tenant } from '../api.ts'
import { Link } from '../components/link.tsx'
import { ErrorNotice, Notice } from '../components/notice.tsx'
import { Pager } from '../components/pager.tsx'
import { Time } from '../components/time.tsx'
import { navigate } from '../router.ts'
import { useLoad } from '../use-load.ts'
import { GroupAccessEditor } from './group-access-editor.tsx'

type LinkTo = (path: string, params?: Record<string, string | undefined>) => string

export function GroupsPage(props: { tenant: Tenant; url: URL; link: LinkTo }) {
  const search = props.url.searchParams.get('q') ?? ''
  const cursor = props.url.searchParams.get('cursor') ?? undefined
  const [text, setText] = useState(search)
  const [page] = useLoad(() => api.groups(props.tenant, { search, cursor }), [props.tenant.region, props.tenant.tenantId, search, cursor])
  const submit = (event: Event): void => {
    event.preventDefault()
    navigate(props.link('groups', { q: text }))
  }
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Groups</h1>
      <form class="inline-form" role="search" onSubmit={submit}>
        <label for="group-search">Search groups</label>
        <input id="group-search" type="search" placeholder="group name" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      {page.state === 'loading' ? <p aria-busy="true">Loading…</p> : null}
      {page.state === 'failed' ? <ErrorNotice error={page.error} /> : null}
      {page.state === 'done' ? (
        <>
          {page.value.groups.length === 0 ? (
            <p>No groups match.</p>
          ) : (
            <table>
              <caption class="visually-hidden">Groups of this tenant</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Members</th>
                  <th scope="col">Last modified</th>
                </tr>
              </thead>
              <tbody>
                {page.value.groups.map((group) => (
                  <tr key={group.id}>
                    <td>
                      <Link href={props.link(`groups/${encodeURIComponent(group.id)}`)}>{group.displayName}</Link>
                    </td>
                    <td>{group.memberCount}</td>
                    <td>
                      <Time value={group.lastModified} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <Pager url={props.url} nextCursor={page.value.nextCursor} label="Groups" />
        </>
      ) : null}
    </section>
  )
}

function Members(props: { tenant: Tenant; groupId: string; link: LinkTo }) {
  const [members, setMembers] = useState<MemberView[]>([])
  const [cursor, setCursor] = useState<string | null | undefined>(undefined)
  const [first] = useLoad(async () => {
    const page = await api.members(props.tenant, props.groupId)
    setMembers([...page.members])
    setCursor(page.nextCursor)
    return page
  }, [props.groupId])
  const [error, setError] = useState<unknown>(undefined)
  const more = async (): Promise<void> => {
    if (cursor === null || cursor === undefined) return
    try {
      const page = await api.members(props.tenant, props.groupId, cursor)
      setMembers([...members, ...page.members])
      setCursor(page.nextCursor)
    } catch (failure) {
      setError(failure)
    }
  }
  if (first.state === 'loading') return <p aria-busy="true">Loading members…</p>
  if (first.state === 'failed') return <ErrorNotice error={first.error} />
  return (
    <>
      {members.length === 0 ? (
        <p>No members.</p>
      ) : (
        <ul class="members">
          {members.map((m) => (
            <li key={m.id}>
              {m.type === 'User' ? <Link href={props.link(`users/${encodeURIComponent(m.id)}`)}>{m.display ?? m.id}</Link> : `${m.display ?? m.id} (group)`}
            </li>
          ))}
        </ul>
      )}
      {cursor === null || cursor === undefined ? null : (
        <button type="button" class="secondary" onClick={more}>
          More members
        </button>
      )}
      {error === undefined ? null : <ErrorNotice error={error} />}
    </>
  )
}

export function GroupPage(props: { tenant: Tenant; id: string; link: LinkTo }) {
  const [group, reload] = useLoad(() => api.group(props.tenant, props.id), [props.tenant.region, props.tenant.tenantId, props.id])
  const [saved, setSaved] = useState(false)
  return (
    <section aria-labelledby="page-title">
      <p>
        <Link href={props.link('groups')}>← All groups</Link>
      </p>
      {group.state === 'loading' ? <p aria-busy="true">Loading…</p> : null}
      {group.state === 'failed' ? (
        <>
          <h1 id="page-title">Group</h1>
          <ErrorNotice error={group.error} />
        </>
      ) : null}
      {group.state === 'done' ? (
        <>
          <h1 id="page-title">{group.value.displayName}</h1>
          <dl>
            <dt>Members</dt>
            <dd>{group.value.memberCount}</dd>
            <dt>Roles</dt>
            <dd>{group.value.access.roles.join(', ') || 'none'}</dd>
            <dt>Scope</dt>
            <dd>{group.value.access.scope === null ? 'the whole team' : group.value.access.scope.values.join(', ')}</dd>
            <dt>Last modified</dt>
            <dd>
              <Time value={group.value.lastModified} />
            </dd>
          </dl>
          {saved ? <Notice kind="success">Roles and scope saved.</Notice> : null}
          <GroupAccessEditor
            key={group.value.etag}
            tenant={props.tenant}
            group={group.value}
            onSaved={() => {
              setSaved(true)
              reload()
            }}
            onReload={() => {
              setSaved(false)
              reload()
            }}
          />
          <h2>Members</h2>
          <Members tenant={props.tenant} groupId={props.id} link={props.link} />
        </>
      ) : null}
    </section>
  )
}
