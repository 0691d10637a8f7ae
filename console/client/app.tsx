import { useEffect, useState } from 'preact/hooks'
import type { Principal, SessionInfo } from '../../lib/admin-api/contract.ts'
import { api, bindSession, type Tenant } from './api.ts'
import { Link } from './components/link.tsx'
import { ActivityPage } from './pages/activity.tsx'
import { ConnectPage } from './pages/connect.tsx'
import { GroupPage, GroupsPage } from './pages/groups.tsx'
import { TenantPicker } from './pages/tenant-picker.tsx'
import { TokensPage } from './pages/tokens.tsx'
import { UserPage, UsersPage } from './pages/users.tsx'
import { useLocation } from './router.ts'
import { SignIn } from './sign-in.tsx'
import { consoleUrl, tenantOf } from './tenant-url.ts'

const PAGES = [
  ['connect', 'Connect'],
  ['tokens', 'Tokens'],
  ['users', 'Users'],
  ['groups', 'Groups'],
  ['activity', 'Activity'],
] as const

function who(principal: Principal): string {
  if (principal.kind === 'operator') return 'Operator'
  if (principal.kind === 'access') return `Access credential · ${principal.region}`
  return `Team admin · ${principal.tenantId} · ${principal.region}`
}

export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined)
  const [ended, setEnded] = useState(false)
  bindSession(session ?? null, () => {
    setEnded(true)
    setSession(null)
  })
  useEffect(() => {
    api.session().then(setSession, () => setSession(null))
  }, [])
  const url = useLocation()

  if (session === undefined) return <main aria-busy="true">Loading…</main>
  if (session === null) return <SignIn ended={ended} onSignedIn={(s) => {
          setEnded(false)
          setSession(s)
        }} />

  const principal = session.principal
  const tenant = tenantOf(principal, url)
  const [, , path, id] = url.pathname.split('/')
  const page = path || 'connect'
  const signOut = async (): Promise<void> => {
    await api.signOut().catch(() => undefined)
    setSession(null)
  }

  return (
    <div class="layout">
      <header>
        <span class="brand">scimgate console</span>
        <span class="who">{who(principal)}</span>
        <button type="button" class="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Console">
        <ul>
          {PAGES.map(([path, label]) => (
            <li key={path}>
              <Link href={consoleUrl(path, principal, tenant)} current={page === path}>
                {label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main>
        {principal.kind !== 'admin' ? <TenantPicker principal={principal} tenant={tenant} url={url} /> : null}
        {tenant === undefined ? null : <Page page={page} id={id} tenant={tenant} principal={principal} url={url} />}
      </main>
    </div>
  )
}

function Page(props: { page: string; id: string | undefined; tenant: Tenant; principal: Principal; url: URL }) {
  const { page, id, tenant, principal, url } = props
  const link = (path: string, params?: Record<string, string | undefined>): string => consoleUrl(path, principal, tenant, params)
  switch (page) {
    case 'tokens':
      return <TokensPage tenant={tenant} />
    case 'users':
      return id === undefined ? <UsersPage tenant={tenant} url={url} link={link} /> : <UserPage tenant={tenant} id={decodeURIComponent(id)} link={link} />
    case 'groups':
      return id === undefined ? <GroupsPage tenant={tenant} url={url} link={link} /> : <GroupPage tenant={tenant} id={decodeURIComponent(id)} link={link} />
    case 'activity':
      return <ActivityPage tenant={tenant} url={url} link={link} />
    default:
      return <ConnectPage tenant={tenant} link={link} />
  }
}
