import type { FastifyReply, FastifyRequest } from 'fastify'
import { ScimError } from '../../lib/scim-error.ts'
import { parseVersionCondition, type VersionCondition } from '../scim/etag.ts'
import { formatVersion } from '../scim/etag.ts'
import { tenantOf } from '../plugins/internal-auth.ts'
import { SCIM_CONTENT_TYPE } from '../../lib/scim-reply.ts'
import type { RequestScope } from '../services/service-context.ts'
import { CLIENT_KIND_HEADER, isClientKind } from '../../lib/client-kind.ts'
import type { EventOrigin } from '../events/event-types.ts'

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value
  return first?.split(',')[0]?.trim() || undefined
}

/**
 * The public base URL the client used: the gateway forwards the original host
 * and scheme; a direct call (tests, local debugging) uses its own Host.
 */
export function publicBaseUrl(request: FastifyRequest): string {
  const host = firstHeader(request.headers['x-forwarded-host']) ?? request.host
  const proto = firstHeader(request.headers['x-forwarded-proto']) ?? request.protocol
  const safeHost = /^[A-Za-z0-9.\-:[\]]+$/.test(host) ? host : 'localhost'
  return `${proto === 'https' ? 'https' : 'http'}://${safeHost}/scim/v2`
}

/**
 * Who caused a request's changes. The client kind and request id are headers the gateway sets; they reach
 * this point only on requests that carry a valid gateway identity (every route checks it first).
 */
export function originOf(request: FastifyRequest, actorType: 'token' | 'admin'): EventOrigin {
  const identity = request.identity
  if (identity === null) throw new ScimError(401, undefined, 'authentication required')
  const kind = request.headers[CLIENT_KIND_HEADER]
  const actor = actorType === 'token' ? { type: 'token' as const, id: identity.tokenId, ...(identity.label === undefined ? {} : { label: identity.label }) } : { type: 'admin' as const, id: identity.tokenId }
  return { actor, clientKind: isClientKind(kind) ? kind : 'other', requestId: String(request.id) }
}

export function scopeOf(request: FastifyRequest): RequestScope {
  const scopes = request.identity?.scopes ?? []
  let origin: EventOrigin | undefined
  return {
    tenantId: tenantOf(request),
    baseUrl: publicBaseUrl(request),
    mayWriteGroupAccess: scopes.includes('groups:access:write') || scopes.includes('admin'),
    // Only a change records its origin: a read never works it out.
    get origin() {
      return (origin ??= originOf(request, 'token'))
    },
  }
}

/** A request on the admin routes: its changes are the admin's. */
export function adminScopeOf(request: FastifyRequest): RequestScope {
  return { tenantId: tenantOf(request), baseUrl: publicBaseUrl(request), mayWriteGroupAccess: true, origin: originOf(request, 'admin') }
}

export function ifMatchOf(request: FastifyRequest): VersionCondition | undefined {
  const header = request.headers['if-match']
  return parseVersionCondition(Array.isArray(header) ? header.join(',') : header)
}

export function ifNoneMatchOf(request: FastifyRequest): VersionCondition | undefined {
  const header = request.headers['if-none-match']
  return parseVersionCondition(Array.isArray(header) ? header.join(',') : header)
}

export function sendScim(reply: FastifyReply, status: number, body: unknown, version?: number): FastifyReply {
  if (version !== undefined) reply.header('etag', formatVersion(version))
  return reply.code(status).type(SCIM_CONTENT_TYPE).send(body)
}

export type QueryParams = Record<string, string | string[] | undefined>

/** RFC 7644 §3.4.3: a SearchRequest body as list-request input (attribute lists arrive as JSON arrays, the parser reads comma-separated text). */
export function searchRequestInput(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ScimError(400, 'invalidSyntax', 'a SearchRequest must be a JSON object')
  const { schemas: _schemas, ...input } = body as Record<string, unknown>
  for (const key of ['attributes', 'excludedAttributes']) {
    const value = input[key]
    if (Array.isArray(value)) input[key] = value.map(String).join(',')
  }
  return input
}
