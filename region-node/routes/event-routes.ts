import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { ADMIN_CREDENTIAL_KIND_HEADER, isAdminCredentialKind } from '../../lib/admin-credential-kind.ts'
import { CLIENT_KINDS } from '../../lib/client-kind.ts'
import { ScimError } from '../../lib/scim-error.ts'
import { EVENT_TYPES } from '../events/event-types.ts'
import { feedConsumerOf } from '../events/feed-consumer.ts'
import { tenantOf } from '../plugins/internal-auth.ts'
import type { EventsService } from '../services/events-service.ts'
import { integerParam, textParam, timeParam } from './query-params.ts'
import type { QueryParams } from './request-helpers.ts'

const MAX_WAIT_SECONDS = 30
const MAX_PAGE = 1000

const TOKEN_EVENT_TYPES = EVENT_TYPES.filter((type) => type.startsWith('token.')) as [string, ...string[]]
const externalEventsSchema = z.strictObject({
  events: z
    .array(
      z.strictObject({
        id: z.string().min(1).max(100),
        time: z.iso.datetime({ offset: true }),
        type: z.enum(TOKEN_EVENT_TYPES),
        resourceId: z.string().min(1).max(200),
        actor: z.discriminatedUnion('type', [
          z.strictObject({ type: z.literal('token'), id: z.string().max(200), label: z.string().max(200).optional() }),
          z.strictObject({ type: z.literal('admin'), id: z.string().max(200).optional() }),
          z.strictObject({ type: z.literal('system') }),
        ]),
        clientKind: z.enum(CLIENT_KINDS),
        requestId: z.string().max(200).optional(),
        data: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .min(1)
    .max(500),
})

/** The change feed (product services), the audit trail (admins), and the gateway's token events. */
export async function eventRoutes(app: FastifyInstance, options: { events: EventsService }): Promise<void> {
  const { events } = options

  app.get<{ Querystring: QueryParams }>('/changes', async (request) => {
    const tenantId = tenantOf(request)
    const after = textParam(request.query, 'after', 64)
    const from = textParam(request.query, 'from', 16)
    if (from !== undefined && from !== 'now') throw new ScimError(400, 'invalidValue', 'from must be now (the head of the log: read only what comes next)')
    // The credential kind is the gateway's header, believed only alongside the identity tenantOf checked.
    const kind = request.headers[ADMIN_CREDENTIAL_KIND_HEADER]
    const consumer = feedConsumerOf(request.identity?.tokenId ?? '', isAdminCredentialKind(kind) ? kind : undefined, textParam(request.query, 'consumer', 64))
    return events.changes(tenantId, {
      ...(after === undefined ? {} : { after }),
      ...(from === undefined ? {} : { from }),
      limit: integerParam(request.query, 'limit', 1, MAX_PAGE, 100),
      waitMs: integerParam(request.query, 'wait', 0, MAX_WAIT_SECONDS, 0) * 1000,
      ...(consumer === undefined ? {} : { consumer }),
    })
  })

  app.get<{ Querystring: QueryParams }>('/events', async (request) => {
    const q = request.query
    const type = textParam(q, 'type', 64)
    if (type !== undefined && !(EVENT_TYPES as readonly string[]).includes(type)) throw new ScimError(400, 'invalidValue', `type must be one of ${EVENT_TYPES.join(', ')}`)
    const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> => (value === undefined ? {} : ({ [key]: value } as Record<K, V>))
    return events.audit(tenantOf(request), {
      ...optional('cursor', textParam(q, 'cursor', 64)),
      ...optional('resourceId', textParam(q, 'resourceId', 200)),
      ...optional('type', type),
      ...optional('actor', textParam(q, 'actor', 200)),
      ...optional('since', timeParam(q, 'since')),
      ...optional('until', timeParam(q, 'until')),
      limit: integerParam(q, 'limit', 1, MAX_PAGE, 100),
    })
  })

  // The consumers tracked in this tenant (events/feed-consumer.ts), for admins: a decommissioned one is forgotten
  // here rather than left to fire the lag alert until it ages out.
  app.get('/feed-consumers', async (request) => ({ consumers: await events.consumers(tenantOf(request)) }))
  app.delete<{ Params: { consumer: string } }>('/feed-consumers/:consumer', async (request, reply) => {
    const { consumer } = request.params
    if (consumer.length === 0 || consumer.length > 200) throw new ScimError(404, undefined, 'no such feed consumer in this tenant')
    if (!(await events.forgetConsumer(tenantOf(request), consumer))) throw new ScimError(404, undefined, `feed consumer ${JSON.stringify(consumer)} is not tracked in this tenant`)
    // Bookkeeping, not a change to the tenant: logged (with the admin and the request id), not put on the feed.
    request.log.info({ tenantId: tenantOf(request), consumer, admin: request.identity?.tokenId }, 'change feed consumer forgotten by an admin')
    return reply.code(204).send()
  })

  // Token events happen in the gateway (Redis); it delivers them here, at least once, with stable ids.
  app.post('/internal/events', async (request) => {
    const parsed = externalEventsSchema.safeParse(request.body)
    if (!parsed.success) throw new ScimError(400, 'invalidValue', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '))
    const stored = await events.appendExternal(
      tenantOf(request),
      parsed.data.events.map((e) => ({
        sourceId: e.id,
        time: new Date(e.time),
        type: e.type as (typeof EVENT_TYPES)[number],
        resourceType: 'Token',
        resourceId: e.resourceId,
        ...(e.data === undefined ? {} : { data: e.data }),
        origin: { actor: e.actor, clientKind: e.clientKind, ...(e.requestId === undefined ? {} : { requestId: e.requestId }) },
      })),
    )
    return { received: parsed.data.events.length, stored }
  })
}
