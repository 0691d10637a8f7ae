// Issue 9.10: the admin API sent group access updates to upstreams[0] of a
// region instead of routing like the proxy, dropped If-Match, let admin
// credential guesses go unlimited, and made tokens for regions this gateway
// does not serve.
import t from 'tap'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadRegionCatalog } from '../../config/region-catalog.ts'
import type { RunningGateway } from '../../gateway/server.ts'
import { answerWith, startStandInUpstream } from '../helpers/stand-in-upstream.ts'
import { ADMIN_TOKEN, type Teardown } from '../helpers/system.ts'
import { startGatewayForUpstreams } from '../helpers/catalog-gateway.ts'

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'
const GROUP_ID = '5f0c6d1e-8a51-4c61-9d35-0c4b1d6b2f10'

/** A gateway whose catalog sends each named region to the given nodes. */
async function startAdminGateway(t: Teardown, upstreams: Readonly<Record<string, readonly string[]>>, env: Record<string, string> = {}): Promise<RunningGateway> {
  return (await startGatewayForUpstreams(t, upstreams, 'admin', env)).running
}

const admin = (gateway: RunningGateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, credential = ADMIN_TOKEN) =>
  fetch(`${gateway.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${credential}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

t.test('group access updates are spread over the region\'s nodes like proxied traffic, with If-Match forwarded', async (t) => {
  const answer = answerWith(200, { etag: 'W/"3"' }, JSON.stringify({ id: GROUP_ID }))
  const nodes = [await startStandInUpstream(t, { respond: answer }), await startStandInUpstream(t, { respond: answer })]
  const gateway = await startAdminGateway(t, { EU1: nodes.map((n) => n.url) })
  for (let i = 0; i < 24; i++) {
    const response = await admin(gateway, 'PUT', `/admin/v1/regions/EU1/tenants/acme/groups/${GROUP_ID}/access`, { roles: ['admin'] }, { 'if-match': 'W/"2"' })
    t.equal(response.status, 200)
    if (i === 0) t.equal(response.headers.get('etag'), 'W/"3"', "the node's ETag comes back")
  }
  t.ok(nodes.every((n) => n.requests.length > 0), `every node of the region gets updates (${nodes.map((n) => n.requests.length).join(' / ')}), not only the first`)
  t.ok(
    nodes.flatMap((n) => n.requests).every((r) => r.headers['if-match'] === 'W/"2"'),
    'If-Match reaches the node',
  )
})

t.test('admin credential guesses are limited per address: 429 with Retry-After, even for the right credential while blocked', async (t) => {
  const node = await startStandInUpstream(t)
  const gateway = await startAdminGateway(t, { EU1: [node.url] }, { ADMIN_FAILED_AUTH_PER_ADDRESS: '5' })
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) statuses.push((await admin(gateway, 'GET', '/admin/v1/tokens?tenant=acme&region=EU1', undefined, {}, `guess-${i}`)).status)
  t.same(statuses, [401, 401, 401, 401, 401, 429, 429, 429])
  const blocked = await admin(gateway, 'GET', '/admin/v1/tokens?tenant=acme&region=EU1')
  t.equal(blocked.status, 429, 'a blocked address learns nothing about a guess, right or wrong')
  t.match(blocked.headers.get('retry-after'), /^\d+$/)
  t.match(await blocked.json(), { schemas: [ERROR_SCHEMA], status: '429' })
})

t.test('tokens and group access only for the regions this gateway serves', async (t) => {
  const eu1 = await startStandInUpstream(t, { respond: answerWith(200, {}, '{}') })
  const us1 = await startStandInUpstream(t, { respond: answerWith(200, {}, '{}') })
  const gateway = await startAdminGateway(t, { EU1: [eu1.url], US1: [us1.url] }, { SCIMGATE_REGION: 'EU1' })
  const served = await admin(gateway, 'POST', '/admin/v1/tokens', { tenantId: 'acme', region: 'EU1' })
  t.equal(served.status, 201)
  const other = await admin(gateway, 'POST', '/admin/v1/tokens', { tenantId: 'acme', region: 'US1' })
  t.equal(other.status, 400, 'no token for a region this gateway does not serve')
  t.match(await other.json(), { schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidValue' })
  t.same(await gateway.tokenStore.list('acme', 'US1'), [], 'nothing was stored')
  const access = await admin(gateway, 'PUT', `/admin/v1/regions/US1/tenants/acme/groups/${GROUP_ID}/access`, { roles: ['admin'] })
  t.equal(access.status, 400)
  t.equal(us1.requests.length, 0, "the other region's node was not called")
})

t.test('SCIMGATE_REGION must name regions of the catalog', async (t) => {
  t.throws(() => loadGatewayConfig({ SCIMGATE_REGION: 'MARS1' }, loadRegionCatalog()), /SCIMGATE_REGION: unknown region MARS1/)
  t.same(loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1' }, loadRegionCatalog()).servedRegions, loadRegionCatalog().regions.map((r) => r.code), 'unset: every region (one local gateway)')
})
