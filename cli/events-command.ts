// `scimgate events --tenant T --region R [--follow]`: a tenant's audit trail
// in a terminal (newest first), or its change feed as it happens; with
// `--consumers` the feed's tracked consumers of the tenant, and with
// `--forget-consumer NAME` stops tracking one. It talks to
// the gateway's admin API: SCIMGATE_ADMIN_URL (default http://127.0.0.1:8081)
// and the admin credential in SCIMGATE_ADMIN_TOKEN (or ADMIN_TOKEN, as
// `npm start` takes it).
import { Command, InvalidArgumentError } from 'commander'
import { ConfigError } from '../config/config-error.ts'
import type { FeedConsumerList } from '../lib/admin-api/contract.ts'

export interface EventsCommandDependencies {
  env?: Readonly<Record<string, string | undefined>>
  stdout?: (text: string) => void
  stderr?: (text: string) => void
  /** Stops --follow (tests); default: never. */
  signal?: AbortSignal
}

interface WireEvent {
  readonly cursor: string
  readonly time: string
  readonly type: string
  readonly resourceType: string
  readonly resourceId: string
  readonly actor: { readonly type: string; readonly id?: string; readonly label?: string }
  readonly clientKind: string | null
  readonly requestId: string | null
}

interface EventPage {
  readonly events: WireEvent[]
  readonly nextCursor: string | null
}

const FOLLOW_WAIT_SECONDS = 25

function actorText(actor: WireEvent['actor']): string {
  if (actor.type === 'token') return `token ${actor.id ?? '?'}${actor.label === undefined || actor.label === '' ? '' : ` (${actor.label})`}`
  return actor.type === 'admin' && actor.id !== undefined ? `admin ${actor.id}` : actor.type
}

/** One tab-separated line per event: time, type, resource, actor, client kind, request id. */
export function formatEvent(event: WireEvent): string {
  return [event.time, event.type, `${event.resourceType}/${event.resourceId}`, actorText(event.actor), event.clientKind ?? '-', event.requestId ?? '-'].join('\t')
}

const positive = (text: string): number => {
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > 1000) throw new InvalidArgumentError('expected a number from 1 to 1000')
  return Number(text)
}

export function eventsCommand(dependencies: EventsCommandDependencies = {}): Command {
  const env = dependencies.env ?? process.env
  const stdout = dependencies.stdout ?? ((text: string) => void process.stdout.write(text))
  const stderr = dependencies.stderr ?? ((text: string) => void process.stderr.write(text))

  function adminApi(): { url: string; token: string } {
    const token = env.SCIMGATE_ADMIN_TOKEN ?? env.ADMIN_TOKEN
    if (token === undefined || token === '') throw new ConfigError('environment', ['SCIMGATE_ADMIN_TOKEN: is required (the admin credential; `npm start` prints one)'])
    return { url: (env.SCIMGATE_ADMIN_URL ?? 'http://127.0.0.1:8081').replace(/\/+$/, ''), token }
  }

  async function call<T>(path: string, timeoutMs: number, method = 'GET'): Promise<T> {
    const { url, token } = adminApi()
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(dependencies.signal === undefined ? [] : [dependencies.signal])]),
    })
    const text = await response.text()
    if (response.status === 204) return undefined as T
    if (response.status !== 200) {
      let detail = text
      try {
        detail = (JSON.parse(text) as { detail?: string }).detail ?? text
      } catch {
        // not JSON: show it as it came
      }
      throw new Error(`the admin API answered ${response.status}: ${detail}`)
    }
    return JSON.parse(text) as T
  }
  const get = (path: string, timeoutMs: number): Promise<EventPage> => call<EventPage>(path, timeoutMs)

  return new Command('events')
    .description("print a tenant's audit trail (newest first), or follow its change feed (--follow)")
    .requiredOption('-t, --tenant <id>', 'tenant id')
    .requiredOption('-r, --region <code>', 'region code of the tenant, e.g. EU1')
    .option('-f, --follow', 'print new events as they happen (oldest first), until interrupted', false)
    .option('--type <type>', 'only events of this type, e.g. user.deactivated')
    .option('--resource <id>', 'only events about this resource id')
    .option('--actor <actor>', 'only events by this token id, or by admin / system')
    .option('--since <time>', 'only events at or after this ISO date-time')
    .option('--until <time>', 'only events before this ISO date-time')
    .option('-n, --limit <n>', 'how many events to print (without --follow)', positive, 50)
    .option('--consumers', "list the change feed's tracked consumers of the tenant: name, last read, lag, cursor", false)
    .option('--forget-consumer <name>', 'stop tracking a (decommissioned) feed consumer in the tenant, e.g. tok_…/directory-sync')
    .action(async (options: { tenant: string; region: string; follow: boolean; type?: string; resource?: string; actor?: string; since?: string; until?: string; limit: number; consumers: boolean; forgetConsumer?: string }) => {
      const base = `/admin/v1/regions/${encodeURIComponent(options.region.toUpperCase())}/tenants/${encodeURIComponent(options.tenant)}`
      if (options.forgetConsumer !== undefined) {
        await call(`${base}/feed-consumers/${encodeURIComponent(options.forgetConsumer)}`, 30_000, 'DELETE')
        stderr(`feed consumer ${options.forgetConsumer} is no longer tracked in tenant ${options.tenant}\n`)
        return
      }
      if (options.consumers) {
        const { consumers } = await call<FeedConsumerList>(`${base}/feed-consumers`, 30_000)
        for (const c of consumers) stdout(`${[c.consumer, c.lastRead, `${c.lagSeconds.toFixed(1)}s`, c.behindRetention ? 'behind-retention' : 'ok', c.cursor].join('\t')}\n`)
        if (consumers.length === 0) stderr(`no tracked feed consumers for tenant ${options.tenant} in ${options.region.toUpperCase()}\n`)
        return
      }
      if (!options.follow) {
        const query = new URLSearchParams({ limit: String(options.limit) })
        for (const [name, value] of [['type', options.type], ['resourceId', options.resource], ['actor', options.actor], ['since', options.since], ['until', options.until]] as const) {
          if (value !== undefined) query.set(name, value)
        }
        const page = await get(`${base}/events?${query.toString()}`, 30_000)
        for (const event of page.events) stdout(`${formatEvent(event)}\n`)
        if (page.events.length === 0) stderr(`no events for tenant ${options.tenant} in ${options.region.toUpperCase()}\n`)
        return
      }
      // Start at the head of the feed, then wait on it (each request returns as soon as something happens).
      let cursor: string | undefined
      stderr(`following tenant ${options.tenant} in ${options.region.toUpperCase()}; Ctrl-C to stop\n`)
      const stopped = (): boolean => dependencies.signal?.aborted === true
      while (!stopped()) {
        const query = new URLSearchParams({ wait: String(FOLLOW_WAIT_SECONDS), ...(cursor === undefined ? { from: 'now' } : { after: cursor }) })
        let page: EventPage
        try {
          page = await get(`${base}/changes?${query.toString()}`, (FOLLOW_WAIT_SECONDS + 15) * 1000)
        } catch (error) {
          if (stopped()) return
          throw error
        }
        for (const event of page.events) {
          if (options.type === undefined || event.type === options.type) stdout(`${formatEvent(event)}\n`)
        }
        cursor = page.nextCursor ?? cursor
      }
    })
}
