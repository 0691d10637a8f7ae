// The floor: what fastify 5 + pg 8 can do on the node's own database with the
// node's role, row-level security and SQL, and nothing else. It is not part of
// the product and serves only the requests the floor benchmarks send; the bench
// checks that its answers are byte-identical to the node's before it measures.
// Per request: the identity verified once and cached, one connection, one round
// trip (one-round-trip.ts), named statements, the body built in the node's order.
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { JSONWebKeySet } from 'jose'
import pg from 'pg'
import { createIdentityVerifier, IDENTITY_HEADER, type VerifiedIdentity } from '../../lib/internal-identity.ts'
import { BULK_RESPONSE_SCHEMA, ENTERPRISE_USER_SCHEMA, LIST_RESPONSE_SCHEMA, USER_SCHEMA } from '../../region-node/scim/schema/urns.ts'
import * as sql from './floor-sql.ts'
import { runOneRoundTrip, type Row, type Step } from './one-round-trip.ts'

export interface FloorConfig {
  readonly databaseUrl: string
  readonly region: string
  readonly keySet: JSONWebKeySet
  readonly poolSize: number
  /** The unprivileged role every transaction switches to (the node's DATABASE_ROW_SECURITY_ROLE). */
  readonly rowSecurityRole: string
  readonly statementTimeoutMs: number
  /** The event log written with each change, as the node writes it (default on). */
  readonly eventLog: boolean
  /** The node's SCIM_MAX_MEMBERS_IN_RESPONSE. */
  readonly maxMembersInResponse: number
}

const CONTENT_TYPE = 'application/scim+json; charset=utf-8'
const CLIENT_KIND_HEADER = 'x-scimgate-client-kind'
const CLIENT_KINDS = new Set(['okta', 'entra', 'onelogin', 'other'])
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const USER_NAME_EQ = /^userName eq "((?:[^"\\]|\\.)*)"$/i


class FloorError extends Error {
  readonly status: number

  constructor(status: number, detail: string) {
    super(detail)
    this.status = status
  }
}

interface UserRow extends Row {
  id: string
  version: number
  created: Date
  last_modified: Date
  attributes: Record<string, unknown>
  groups?: { value: string; display: string }[]
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value
  return first?.split(',')[0]?.trim() || undefined
}

/** request-helpers.ts publicBaseUrl: locations point where the client came from. */
function baseUrl(request: FastifyRequest): string {
  const host = firstHeader(request.headers['x-forwarded-host']) ?? request.host
  const proto = firstHeader(request.headers['x-forwarded-proto']) ?? request.protocol
  const safeHost = /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? host : 'localhost'
  return `${proto === 'https' ? 'https' : 'http'}://${safeHost}/scim/v2`
}

/** The node's serializeResource for a User: schemas, id, the stored attributes, groups, meta. */
function userWire(row: UserRow, base: string, groups: readonly { value: string; display: string }[] | undefined): Record<string, unknown> {
  const schemas = row.attributes[ENTERPRISE_USER_SCHEMA] === undefined ? [USER_SCHEMA] : [USER_SCHEMA, ENTERPRISE_USER_SCHEMA]
  const wire: Record<string, unknown> = { schemas, id: row.id, ...row.attributes }
  if (groups !== undefined && groups.length > 0) wire.groups = groups.map((g) => ({ value: g.value, $ref: `${base}/Groups/${g.value}`, display: g.display, type: 'direct' }))
  wire.meta = { resourceType: 'User', created: row.created.toISOString(), lastModified: row.last_modified.toISOString(), location: `${base}/Users/${row.id}`, version: `W/"${row.version}"` }
  return wire
}

/** The least a POST /Users must do to store what the node stores for the benchmark's bodies. */
function newUser(body: unknown): { attributes: Record<string, unknown>; userName: string; externalId: string | null; displayName: string | null; active: boolean } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FloorError(400, 'a user must be a JSON object')
  const { schemas: _schemas, id: _id, meta: _meta, groups: _groups, password: _password, ...attributes } = body as Record<string, unknown>
  if (typeof attributes.userName !== 'string' || attributes.userName === '') throw new FloorError(400, 'userName is required')
  // The node drops null attributes (Entra's `title: null`) and reads Entra's "True"/"False" as booleans.
  for (const key of Object.keys(attributes)) if (attributes[key] === null) delete attributes[key]
  const active = typeof attributes.active === 'string' ? attributes.active.trim().toLowerCase() : attributes.active
  attributes.active = active === false || active === 'false' ? false : true
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null)
  return { attributes, userName: attributes.userName, externalId: text(attributes.externalId), displayName: text(attributes.displayName), active: attributes.active !== false }
}

export async function buildFloorApp(config: FloorConfig): Promise<FastifyInstance> {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.poolSize, application_name: 'scimgate-bench-floor' })
  pool.on('error', () => undefined)
  const verifySignature = createIdentityVerifier(config.keySet, config.region)
  const identities = new Map<string, VerifiedIdentity>()
  const groupsLimit = config.maxMembersInResponse + 1

  async function identityOf(request: FastifyRequest): Promise<VerifiedIdentity> {
    const header = request.headers[IDENTITY_HEADER]
    if (typeof header !== 'string') throw new FloorError(401, 'authentication required')
    let identity = identities.get(header)
    if (identity === undefined || identity.expiresAt <= Date.now()) {
      identity = await verifySignature(header).catch(() => {
        throw new FloorError(401, 'authentication required')
      })
      identities.set(header, identity)
    }
    if (!identity.scopes.includes('scim')) throw new FloorError(403, 'this credential may not do that')
    return identity
  }

  /**
   * One transaction in one round trip, settings first (after `begin`, when the transaction needs more
   * than the implicit one: a snapshot for several reads); a failed batch discards its connection.
   */
  async function transaction(tenantId: string, steps: readonly Step[], begin?: Step): Promise<Row[][]> {
    const client = await pool.connect()
    const settings: Step = { ...sql.SETTINGS, values: sql.settingsValues(tenantId, config.statementTimeoutMs, config.rowSecurityRole), rows: false }
    try {
      const rows = await runOneRoundTrip(client, begin === undefined ? [settings, ...steps] : [begin, settings, ...steps])
      client.release()
      return rows.slice(begin === undefined ? 1 : 2)
    } catch (error) {
      client.release(true)
      throw error
    }
  }

  const originOf = (request: FastifyRequest, identity: VerifiedIdentity): sql.EventOrigin => {
    const kind = request.headers[CLIENT_KIND_HEADER]
    return { actorId: identity.tokenId, actorLabel: identity.label ?? null, clientKind: typeof kind === 'string' && CLIENT_KINDS.has(kind) ? kind : 'other', requestId: String(request.id) }
  }

  const send = (reply: FastifyReply, status: number, body: unknown, version?: number): FastifyReply => {
    if (version !== undefined) reply.header('etag', `W/"${version}"`)
    return reply.code(status).type(CONTENT_TYPE).send(JSON.stringify(body))
  }

  const app = Fastify({ logger: false, bodyLimit: 4 * 1_048_576, requestIdHeader: 'x-request-id' })
  app.addContentTypeParser(['application/scim+json'], { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))
  app.addHook('onClose', () => pool.end())
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status = error instanceof FloorError ? error.status : (error as { code?: string }).code === '23505' ? 409 : (error.statusCode ?? 500)
    return send(reply, status, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail: error.message })
  })

  app.get<{ Params: { id: string } }>('/scim/v2/Users/:id', async (request, reply) => {
    const identity = await identityOf(request)
    if (!UUID.test(request.params.id)) throw new FloorError(404, `User ${request.params.id} not found`)
    const [rows] = await transaction(identity.tenantId, [{ ...sql.FIND_USER_WITH_GROUPS, values: [identity.tenantId, request.params.id, groupsLimit] }])
    const row = rows![0] as UserRow | undefined
    if (row === undefined) throw new FloorError(404, `User ${request.params.id} not found`)
    const groups = row.groups!.length > config.maxMembersInResponse ? undefined : row.groups
    return send(reply, 200, userWire(row, baseUrl(request), groups), row.version)
  })

  app.get<{ Querystring: { filter?: string } }>('/scim/v2/Users', async (request, reply) => {
    const identity = await identityOf(request)
    const match = USER_NAME_EQ.exec(request.query.filter ?? '')
    if (match === null) throw new FloorError(400, 'the floor answers only filter=userName eq "…"')
    const userName = match[1]!.replace(/\\(.)/g, '$1')
    const [counted, page] = await transaction(
      identity.tenantId,
      [
        { ...sql.COUNT_USER_NAME_EQ, values: [identity.tenantId, userName] },
        { ...sql.PAGE_USER_NAME_EQ_WITH_GROUPS, values: [identity.tenantId, userName, 100, 0, groupsLimit] },
        { ...sql.COMMIT, values: [], rows: false },
      ],
      { ...sql.BEGIN_READ, values: [], rows: false },
    )
    const base = baseUrl(request)
    const resources = (page as UserRow[]).map((row) => userWire(row, base, row.groups!.length > config.maxMembersInResponse ? undefined : row.groups))
    return send(reply, 200, { schemas: [LIST_RESPONSE_SCHEMA], totalResults: Number(counted![0]!.total), itemsPerPage: resources.length, startIndex: 1, Resources: resources })
  })

  app.post('/scim/v2/Users', async (request, reply) => {
    const identity = await identityOf(request)
    const user = newUser(request.body)
    const id = randomUUID()
    const values = [identity.tenantId, id, user.userName, user.externalId, user.displayName, user.active, user.attributes]
    const statement = config.eventLog ? { ...sql.INSERT_USER_LOGGED, values: [...values, ...sql.userCreatedEventValues(identity.tenantId, id, originOf(request, identity))] } : { ...sql.INSERT_USER_BARE, values }
    const [[row]] = (await transaction(identity.tenantId, [statement])) as [[UserRow]]
    const wire = userWire(row, baseUrl(request), [])
    reply.header('location', (wire.meta as { location: string }).location)
    return send(reply, 201, wire, row.version)
  })

  app.patch<{ Params: { id: string } }>('/scim/v2/Groups/:id', async (request, reply) => {
    const identity = await identityOf(request)
    const groupId = request.params.id.toLowerCase()
    if (!UUID.test(groupId)) throw new FloorError(404, `Group ${groupId} not found`)
    const operations = (request.body as { Operations?: { op?: string; path?: string; value?: { value?: string }[] }[] } | null)?.Operations
    if (!Array.isArray(operations)) throw new FloorError(400, 'Operations is required')
    const ids: string[] = []
    for (const operation of operations) {
      if (operation.op?.toLowerCase() !== 'add' || operation.path !== 'members' || !Array.isArray(operation.value)) throw new FloorError(400, 'the floor answers only add members')
      for (const member of operation.value) if (typeof member.value === 'string' && UUID.test(member.value) && member.value.toLowerCase() !== groupId) ids.push(member.value.toLowerCase())
    }
    const values = [identity.tenantId, groupId, ids]
    const statement = config.eventLog ? { ...sql.ADD_MEMBERS_LOGGED, values: [...values, ...sql.membershipEventValues(identity.tenantId, groupId, originOf(request, identity))] } : { ...sql.ADD_MEMBERS_BARE, values }
    const [[row]] = (await transaction(identity.tenantId, [statement])) as [[{ current_version: number | null; new_version: number | null }]]
    if (row.current_version === null) throw new FloorError(404, `Group ${groupId} not found`)
    return reply.code(204).header('etag', `W/"${row.new_version ?? row.current_version}"`).send()
  })

  app.post('/scim/v2/Bulk', async (request, reply) => {
    const identity = await identityOf(request)
    const operations = (request.body as { Operations?: { method?: string; path?: string; bulkId?: string; data?: unknown }[] } | null)?.Operations
    if (!Array.isArray(operations)) throw new FloorError(400, 'Operations is required')
    const users = operations.map((operation) => {
      if (operation.method !== 'POST' || operation.path !== '/Users') throw new FloorError(400, 'the floor answers only POST /Users operations')
      return { id: randomUUID(), bulkId: operation.bulkId, ...newUser(operation.data) }
    })
    const values = [
      identity.tenantId,
      users.map((u) => u.id),
      users.map((u) => u.userName),
      users.map((u) => u.externalId),
      users.map((u) => u.displayName),
      users.map((u) => u.active),
      users.map((u) => JSON.stringify(u.attributes)),
    ]
    const origin = originOf(request, identity)
    const statement = config.eventLog ? { ...sql.INSERT_USERS_LOGGED, values: [...values, origin.actorId, origin.actorLabel, origin.clientKind, origin.requestId] } : { ...sql.INSERT_USERS_BARE, values }
    const [rows] = (await transaction(identity.tenantId, [statement])) as [{ id: string; version: number }[]]
    const inserted = new Map(rows.map((r) => [r.id, r.version]))
    const base = baseUrl(request)
    const results = users.map((user) => {
      const version = inserted.get(user.id)
      const result: Record<string, unknown> = { method: 'POST', status: '' }
      if (user.bulkId !== undefined) result.bulkId = user.bulkId
      if (version === undefined) return { ...result, status: '409', response: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness', detail: `userName ${user.userName} is taken` } }
      return { ...result, status: '201', location: `${base}/Users/${user.id}`, version: `W/"${version}"` }
    })
    return send(reply, 200, { schemas: [BULK_RESPONSE_SCHEMA], Operations: results })
  })

  return app
}
