// The console's one way to the admin API: typed by lib/admin-api/contract.ts
// (types only, nothing of the server reaches the bundle), the session cookie
// rides along, and the CSRF token goes on every state-changing request.
import {
  CSRF_HEADER,
  type AccessDecision,
  type CreateTokenRequest,
  type EventPage,
  type GroupAccessRequest,
  type GroupDetail,
  type GroupPage,
  type IssuedToken,
  type MemberPage,
  type RegionList,
  type RoleCatalog,
  type SessionInfo,
  type TokenList,
  type TokenView,
  type UserDetail,
  type UserPage,
} from '../../lib/admin-api/contract.ts'

export interface Tenant {
  readonly region: string
  readonly tenantId: string
}

export class ApiError extends Error {
  readonly status: number
  constructor(status: number, detail: string) {
    super(detail)
    this.status = status
  }
}

let csrfToken = ''
let onSignedOut: () => void = () => undefined

export function bindSession(session: SessionInfo | null, signedOut: () => void): void {
  csrfToken = session?.csrfToken ?? ''
  onSignedOut = signedOut
}

async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ data: T; etag: string | null }> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(method === 'GET' ? {} : { [CSRF_HEADER]: csrfToken }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (!response.ok) {
    let detail = response.statusText
    try {
      detail = ((await response.json()) as { detail?: string }).detail ?? detail
    } catch {
      // not JSON: keep the status text
    }
    if (response.status === 401 && !path.startsWith('/console/api/session')) onSignedOut()
    throw new ApiError(response.status, detail)
  }
  const data = (response.status === 204 ? undefined : await response.json()) as T
  return { data, etag: response.headers.get('etag') }
}

const get = async <T>(path: string): Promise<T> => (await call<T>('GET', path)).data
const tenantBase = (t: Tenant): string => `/admin/v1/regions/${encodeURIComponent(t.region)}/tenants/${encodeURIComponent(t.tenantId)}`
const query = (params: Record<string, string | undefined>): string => {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, value)
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

export const api = {
  session: () => get<SessionInfo>('/console/api/session'),
  signIn: async (credential: string) => (await call<SessionInfo>('POST', '/console/api/session', { credential })).data,
  signOut: async () => void (await call<void>('DELETE', '/console/api/session')),
  regions: () => get<RegionList>('/admin/v1/regions'),

  tokens: (t: Tenant) => get<TokenList>(`/admin/v1/tokens${query({ tenant: t.tenantId, region: t.region })}`),
  createToken: async (request: CreateTokenRequest) => (await call<IssuedToken>('POST', '/admin/v1/tokens', request)).data,
  rotateToken: async (id: string) => (await call<IssuedToken>('POST', `/admin/v1/tokens/${encodeURIComponent(id)}/rotate`, {})).data,
  revokeToken: async (id: string) => (await call<TokenView>('DELETE', `/admin/v1/tokens/${encodeURIComponent(id)}`)).data,

  users: (t: Tenant, q: { search?: string; status?: string; cursor?: string }) => get<UserPage>(`${tenantBase(t)}/users${query(q)}`),
  user: (t: Tenant, id: string) => get<UserDetail>(`${tenantBase(t)}/users/${encodeURIComponent(id)}`),
  access: (t: Tenant, userName: string) => get<AccessDecision>(`${tenantBase(t)}/access${query({ userName })}`),

  groups: (t: Tenant, q: { search?: string; cursor?: string }) => get<GroupPage>(`${tenantBase(t)}/groups${query(q)}`),
  group: (t: Tenant, id: string) => get<GroupDetail>(`${tenantBase(t)}/groups/${encodeURIComponent(id)}`),
  members: (t: Tenant, id: string, cursor?: string) => get<MemberPage>(`${tenantBase(t)}/groups/${encodeURIComponent(id)}/members${query({ cursor, count: '25' })}`),
  setAccess: async (t: Tenant, id: string, access: GroupAccessRequest, etag: string) =>
    (await call<unknown>('PUT', `${tenantBase(t)}/groups/${encodeURIComponent(id)}/access`, access.scope === null ? { roles: access.roles } : access, { 'if-match': etag })).etag,
  roles: (t: Tenant) => get<RoleCatalog>(`${tenantBase(t)}/roles`),

  events: (t: Tenant, filters: Record<string, string | undefined>) => get<EventPage>(`${tenantBase(t)}/events${query(filters)}`),
  changes: (t: Tenant, after: string | undefined, wait: number) => get<EventPage>(`${tenantBase(t)}/changes${query({ after, wait: String(wait) })}`),
}

