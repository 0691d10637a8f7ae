import { useEffect, useState } from 'preact/hooks'
import type { AuditEvent } from '../../../lib/admin-api/contract.ts'
import { api, type Tenant } from '../api.ts'
import { ErrorNotice } from '../components/notice.tsx'
import { Time } from '../components/time.tsx'
import { navigate } from '../router.ts'
import { useLoad } from '../use-load.ts'

type LinkTo = (path: string, params?: Record<string, string | undefined>) => string
const FILTERS = [
  ['type', 'Event type', 'e.g. user.created'],
  ['resourceId', 'Resource id', 'user or group id'],
  ['actor', 'Actor', 'token id, admin or system'],
] as const

function actorOf(event: AuditEvent): string {
  const { actor } = event
  if (actor.type === 'token') return `token: ${actor.label ?? actor.id}`
  return actor.type === 'admin' && actor.id !== undefined ? `admin: ${actor.id}` : actor.type
}

/** The feed is not filtered on the node: live events are held to the page's filters here, as the node applies them to the log. */
function matches(event: AuditEvent, filters: Record<string, string | undefined>): boolean {
  const given = (value: string | undefined): value is string => value !== undefined && value !== ''
  const { type, resourceId, actor } = filters
  if (given(type) && event.type !== type) return false
  if (given(resourceId) && event.resourceId !== resourceId) return false
  return !given(actor) || event.actor.type === actor || ('id' in event.actor && event.actor.id === actor)
}

/** Follows the change feed while mounted: each call waits up to 25 s for new events (the node wakes it), then asks again. */
function useFollow(tenant: Tenant, enabled: boolean, after: string | undefined, onEvents: (events: readonly AuditEvent[]) => void, onError: (error: unknown) => void): void {
  useEffect(() => {
    if (!enabled) return
    let running = true
    let cursor = after
    void (async () => {
      while (running) {
        try {
          const page = await api.changes(tenant, cursor, 25)
          if (!running) return
          if (page.events.length > 0) onEvents(page.events)
          cursor = page.nextCursor ?? cursor
        } catch (error) {
          if (running) onError(error)
          return
        }
      }
    })()
    return () => {
      running = false
    }
  }, [enabled, tenant.region, tenant.tenantId])
}

export function ActivityPage(props: { tenant: Tenant; url: URL; link: LinkTo }) {
  const filters = Object.fromEntries(FILTERS.map(([key]) => [key, props.url.searchParams.get(key) ?? undefined])) as Record<string, string | undefined>
  const [draft, setDraft] = useState<Record<string, string>>(Object.fromEntries(FILTERS.map(([key]) => [key, filters[key] ?? ''])))
  const [older, setOlder] = useState<{ events: AuditEvent[]; cursor: string | null }>({ events: [], cursor: null })
  const [live, setLive] = useState<AuditEvent[]>([])
  const [follow, setFollow] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const [page] = useLoad(async () => {
    const first = await api.events(props.tenant, filters)
    setOlder({ events: [], cursor: first.nextCursor })
    setLive([])
    return first
  }, [props.tenant.region, props.tenant.tenantId, props.url.search])
  const newest = live[0]?.cursor ?? (page.state === 'done' ? page.value.events[0]?.cursor : undefined)
  useFollow(props.tenant, follow && page.state === 'done', newest, (events) => setLive((current) => [...events.filter((e) => matches(e, filters)).reverse(), ...current]), setError)

  const loadOlder = async (): Promise<void> => {
    if (older.cursor === null) return
    try {
      const next = await api.events(props.tenant, { ...filters, cursor: older.cursor })
      setOlder({ events: [...older.events, ...next.events], cursor: next.nextCursor })
    } catch (failure) {
      setError(failure)
    }
  }
  const apply = (event: Event): void => {
    event.preventDefault()
    navigate(props.link('activity', draft))
  }
  const events = page.state === 'done' ? [...live, ...page.value.events, ...older.events] : []

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Activity</h1>
      <form class="inline-form" onSubmit={apply} aria-label="Filter events">
        {FILTERS.map(([key, label, hint]) => (
          <span key={key} class="field">
            <label for={`filter-${key}`}>{label}</label>
            <input id={`filter-${key}`} placeholder={hint} value={draft[key] ?? ''} onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })} />
          </span>
        ))}
        <button type="submit">Apply filters</button>
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />
          Follow live
        </label>
      </form>
      {page.state === 'loading' ? <p aria-busy="true">Loading…</p> : null}
      {page.state === 'failed' ? <ErrorNotice error={page.error} /> : null}
      {error === undefined ? null : <ErrorNotice error={error} />}
      {page.state === 'done' && events.length === 0 ? <p>No events.</p> : null}
      {events.length > 0 ? (
        <table>
          <caption class="visually-hidden">Events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Resource</th>
              <th scope="col">Actor</th>
              <th scope="col">Client</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td>
                  <Time value={event.time} />
                </td>
                <td>{event.type}</td>
                <td>
                  {event.resourceType} <code>{event.resourceId}</code>
                </td>
                <td>{actorOf(event)}</td>
                <td>{event.clientKind ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {older.cursor === null ? null : (
        <button type="button" class="secondary" onClick={loadOlder}>
          Older events
        </button>
      )}
    </section>
  )
}
