import type { FastifyReply, FastifyRequest } from 'fastify'
import type { GatewayConfig } from '../../config/gateway-config.ts'
import { IDENTITY_HEADER, signIdentity, type SigningKey } from '../../lib/internal-identity.ts'
import { ScimError } from '../../lib/scim-error.ts'
import { pickUpstream } from '../routing/pick-upstream.ts'
import { TENANT_ID_PATTERN } from '../tokens/token-input.ts'

export interface TenantPathParams {
  readonly region: string
  readonly tenant: string
}

export interface ForwardOptions {
  /** The node's path under /admin/v1, e.g. `/access`. */
  readonly path: string
  /** Default: the gateway's upstream headers timeout. */
  readonly timeoutMs?: number
}

/**
 * Sends an admin request for `/admin/v1/regions/:region/tenants/:tenant/…` to
 * that region's node with an admin identity for that tenant (the node trusts
 * nothing else), and answers with the node's status and body as they are.
 */
export function createNodeForwarder(config: GatewayConfig, signingKey: SigningKey) {
  return async function forward(request: FastifyRequest<{ Params: TenantPathParams }>, reply: FastifyReply, options: ForwardOptions): Promise<FastifyReply> {
    const region = config.catalog.byCode(request.params.region)
    if (region === undefined) throw new ScimError(400, 'invalidValue', `unknown region ${request.params.region}; the catalog has ${config.catalog.regions.map((r) => r.code).join(', ')}`)
    if (!config.servedRegions.includes(region.code)) {
      throw new ScimError(400, 'invalidValue', `this gateway serves ${config.servedRegions.join(', ')}, not ${region.code}; use the admin API of ${region.code}'s gateway`)
    }
    if (!TENANT_ID_PATTERN.test(request.params.tenant)) throw new ScimError(400, 'invalidValue', 'invalid tenant id')
    const identity = await signIdentity(signingKey, { tenantId: request.params.tenant, tokenId: 'admin-api', region: region.code, scopes: ['admin'] }, 60)
    const upstream = pickUpstream(region)
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : ''
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
    let response: Response
    try {
      response = await fetch(`${upstream}/admin/v1${options.path}${query}`, {
        method: request.method,
        headers: { [IDENTITY_HEADER]: identity, 'x-request-id': String(request.id), ...(hasBody ? { 'content-type': 'application/json' } : {}) },
        ...(hasBody ? { body: JSON.stringify(request.body ?? {}) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? config.upstreamTimeouts.headersMs),
      })
    } catch {
      throw new ScimError(503, undefined, `region ${region.code} is unavailable; retry later`, { 'retry-after': '5' })
    }
    return reply.code(response.status).type(response.headers.get('content-type') ?? 'application/json').send(await response.text())
  }
}
