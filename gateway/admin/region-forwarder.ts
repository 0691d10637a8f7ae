import type { FastifyReply } from 'fastify'
import { fetch, type Dispatcher } from 'undici'
import type { UpstreamTimeouts } from '../../config/gateway-config.ts'
import { ADMIN_CREDENTIAL_KIND_HEADER } from '../../lib/admin-credential-kind.ts'
import { IDENTITY_HEADER, signIdentity, type SigningKey } from '../../lib/internal-identity.ts'
import { DependencyUnavailableError, ScimError } from '../../lib/scim-error.ts'
import { TENANT_ID_PATTERN } from '../tokens/token-input.ts'
import { pickUpstream } from '../routing/pick-upstream.ts'
import { adminActorId, servedRegionOf, type AdminRegions } from './token-routes.ts'

export interface ForwardRequest {
  readonly region: string
  readonly tenantId: string
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  /** Path on the node under /admin/v1, e.g. `/users`; segments already encoded. */
  readonly path: string
  /** The raw query string (without `?`), passed on as is. */
  readonly query?: string
  readonly body?: unknown
  readonly ifMatch?: string
  /** Default: the gateway's upstream headers timeout (the change feed's long poll waits longer). */
  readonly timeoutMs?: number
}

function isCertificateError(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)
}

export type RegionForwarder = (reply: FastifyReply, request: ForwardRequest) => Promise<FastifyReply>

/**
 * Sends an admin request to the tenant's region node with a short-lived admin
 * identity for that tenant, naming the credential that asked (the node checks
 * audience = its region, and row security scopes every query to the tenant),
 * and relays the answer: status, body, content type and ETag. Only regions this gateway serves; an unreachable node is a 503 with Retry-After, one whose certificate does not verify a 502.
 */
export function createRegionForwarder(options: {
  regions: AdminRegions
  signingKey: SigningKey
  timeouts: UpstreamTimeouts
  /** Connections to the nodes, verifying them as the proxy does (UPSTREAM_TLS_CA_FILE). */
  dispatcher: Dispatcher
}): RegionForwarder {
  return async (reply, request) => {
    const region = servedRegionOf(options.regions, request.region)
    if (!TENANT_ID_PATTERN.test(request.tenantId)) throw new ScimError(400, 'invalidValue', 'invalid tenant id')
    // The node records the identity's token id as the actor of the events a change writes.
    const identity = await signIdentity(options.signingKey, { tenantId: request.tenantId, tokenId: adminActorId(reply.request), region: region.code, scopes: ['admin'] }, 60)
    // The node records the gateway's request id on the events the change writes.
    const headers: Record<string, string> = { [IDENTITY_HEADER]: identity, 'x-request-id': String(reply.request.id) }
    // The change feed tracks product services (access credentials) as consumers by default.
    const principal = reply.request.principal
    if (principal !== null) headers[ADMIN_CREDENTIAL_KIND_HEADER] = principal.kind
    if (request.body !== undefined) headers['content-type'] = 'application/json'
    if (request.ifMatch !== undefined) headers['if-match'] = request.ifMatch
    // Routed like the proxy routes SCIM traffic.
    const upstream = pickUpstream(region)
    let response: Awaited<ReturnType<typeof fetch>>
    try {
      response = await fetch(`${upstream}/admin/v1${request.path}${request.query ? `?${request.query}` : ''}`, {
        dispatcher: options.dispatcher,
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(request.timeoutMs ?? options.timeouts.headersMs),
      })
    } catch (error) {
      // A node whose certificate does not verify answered, but not as itself (RFC 9110 §15.6.3).
      if (isCertificateError(error)) throw new ScimError(502, undefined, `region ${region.code} answered with an invalid response`)
      throw new DependencyUnavailableError(`region ${region.code} is unavailable; retry later`, 5, { cause: error })
    }
    const etag = response.headers.get('etag')
    if (etag !== null) reply.header('etag', etag)
    return reply.code(response.status).type(response.headers.get('content-type') ?? 'application/scim+json').send(await response.text())
  }
}
