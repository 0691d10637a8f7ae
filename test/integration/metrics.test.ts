// The ops listeners of both tiers: Prometheus metrics after real traffic,
// liveness and readiness.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { describeScimRequest } from '../../lib/metrics/scim-operation.ts'
import { opsListenFromEnv } from '../../config/process-settings.ts'
import { startSystem } from '../helpers/system.ts'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'

const EU1 = 'eu1.localhost'
const US1 = 'us1.localhost'

interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) continue
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return samples
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when there is none. */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return found[0]?.value
}

async function scrape(opsUrl: string | undefined): Promise<Sample[]> {
  const response = await fetch(`${opsUrl}/metrics`)
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`)
  if (!response.headers.get('content-type')?.startsWith('text/plain')) throw new Error('not the Prometheus text format')
  return parseMetrics(await response.text())
}

t.test('classifying SCIM requests (bounded label values)', async (t) => {
  const cases: [string, string, string, string][] = [
    ['GET', '/scim/v2/Users?filter=userName%20eq%20%22x%22', 'Users', 'list'],
    ['GET', '/scim/Users', 'Users', 'list'],
    ['POST', '/scim/v2/Users', 'Users', 'create'],
    ['GET', '/scim/v2/Users/2819c223-7f76-453a-919d-413861904646', 'Users', 'get'],
    ['PUT', '/scim/v2/Groups/abc', 'Groups', 'replace'],
    ['PATCH', '/scim/v2/groups/abc', 'Groups', 'patch'],
    ['DELETE', '/scim/v2/Users/abc', 'Users', 'delete'],
    ['POST', '/scim/v2/Users/.search', 'Users', 'search'],
    ['POST', '/scim/v2/.search', '', 'search'],
    ['POST', '/scim/v2/Bulk', 'Bulk', 'bulk'],
    ['GET', '/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User', 'Schemas', 'get'],
    ['GET', '/scim/v2/ServiceProviderConfig', 'ServiceProviderConfig', 'list'],
    ['GET', '/scim/v2/Whatever/abc', 'other', 'other'],
    ['GET', '/livez', 'other', 'other'],
    ['GET', '/scim/v2/Users/abc/extra', 'Users', 'other'],
  ]
  for (const [method, url, resourceType, operation] of cases) t.same(describeScimRequest(method, url), { resourceType, operation }, `${method} ${url}`)
})

t.test('OPS_PORT and OPS_HOST', async (t) => {
  t.same(opsListenFromEnv({}, 9464), { host: '127.0.0.1', port: 9464 })
  t.same(opsListenFromEnv({ HOST: '0.0.0.0' }, 9464), { host: '0.0.0.0', port: 9464 }, 'HOST by default')
  t.same(opsListenFromEnv({ OPS_PORT: '9999', OPS_HOST: '10.0.0.1' }, 9464), { host: '10.0.0.1', port: 9999 })
  t.equal(opsListenFromEnv({ OPS_PORT: 'off' }, 9464), undefined)
  t.throws(() => opsListenFromEnv({ OPS_PORT: 'abc' }, 9464), /OPS_PORT/)
})

t.test('gateway and node metrics after real traffic', async (t) => {
  const system = await startSystem(t, { regions: ['EU1', 'US1'], ops: true, env: { RATE_LIMIT_PER_TENANT: '4' } })
  const acme = await system.createToken('acme', 'EU1')
  const flood = await system.createToken('flood', 'EU1')
  const us1 = await system.createToken('acme', 'US1')

  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token: acme.token })).status, 200)
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users?filter=userName%20eq%20%22kim%22', { token: acme.token })).status, 200)
  t.equal((await system.request(EU1, 'POST', '/scim/v2/Users', { token: acme.token, body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'kim' } })).status, 201)
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token: 'scg_eu1_not-a-token' })).status, 401)
  const floodStatuses: number[] = []
  for (let i = 0; i < 6; i++) floodStatuses.push((await system.request(EU1, 'GET', '/scim/v2/Groups', { token: flood.token })).status)
  t.same(floodStatuses, [200, 200, 200, 200, 429, 429], 'the per-tenant limit')
  await system.nodes.get('US1')!.app.close()
  t.equal((await system.request(US1, 'GET', '/scim/v2/Users', { token: us1.token })).status, 503, 'US1 node is gone')
  await sleep(50)

  const gateway = await scrape(system.gateway.opsUrl)
  const requests = 'scimgate_http_requests_total'
  t.equal(valueOf(gateway, requests, { region: 'EU1', status: '200', operation: 'list', resource_type: 'Users' }), 2, 'lists by region, status and operation')
  t.equal(valueOf(gateway, requests, { region: 'EU1', status: '201', operation: 'create', resource_type: 'Users' }), 1)
  t.equal(valueOf(gateway, requests, { region: 'EU1', status: '401', operation: 'list', resource_type: 'Users' }), 1, 'a refused token still counts for its region')
  t.equal(valueOf(gateway, requests, { region: 'EU1', status: '429', operation: 'list', resource_type: 'Groups' }), 2)
  t.equal(valueOf(gateway, requests, { region: 'US1', status: '503' }), 1)
  t.equal(valueOf(gateway, 'scimgate_http_request_duration_seconds_count', { region: 'EU1', operation: 'list', resource_type: 'Users', status_class: '2xx' }), 2, 'latency histogram')
  t.equal(valueOf(gateway, 'scimgate_http_request_duration_seconds_bucket', { region: 'EU1', operation: 'list', resource_type: 'Users', status_class: '2xx', le: '+Inf' }), 2)
  t.equal(valueOf(gateway, 'scimgate_token_cache_misses_total'), 3, 'one Redis look-up per token')
  t.ok((valueOf(gateway, 'scimgate_token_cache_hits_total') ?? 0) >= 7, 'later requests hit the cache')
  t.equal(valueOf(gateway, 'scimgate_redis_connection_up', { connection: 'commands' }), 1)
  t.equal(valueOf(gateway, 'scimgate_redis_connection_up', { connection: 'subscriber' }), 1)
  t.equal(valueOf(gateway, 'scimgate_rate_limited_total', { region: 'EU1', reason: 'tenant' }), 2, 'rate-limit rejections')
  t.equal(valueOf(gateway, 'scimgate_upstream_errors_total', { region: 'US1', kind: 'unavailable' }), 1, 'upstream errors by kind')
  t.notOk(gateway.some((s) => Object.values(s.labels).some((v) => v.includes('kim') || v.includes('acme'))), 'no filter value nor tenant in any label')

  const node = await scrape(system.nodes.get('EU1')!.opsUrl)
  t.equal(valueOf(node, requests, { region: 'EU1', status: '200', operation: 'list', resource_type: 'Users' }), 2, 'node: requests')
  t.equal(valueOf(node, requests, { region: 'EU1', status: '200', operation: 'list', resource_type: 'Groups' }), 4)
  t.ok((valueOf(node, 'scimgate_pg_pool_connections', { region: 'EU1', state: 'total' }) ?? 0) >= 1, 'pool: open connections')
  t.type(valueOf(node, 'scimgate_pg_pool_connections', { region: 'EU1', state: 'idle' }), 'number', 'pool: idle connections')
  t.equal(valueOf(node, 'scimgate_pg_pool_connections', { region: 'EU1', state: 'waiting' }), 0, 'pool: waiting')
  t.equal(valueOf(node, 'scimgate_pg_pool_max_connections', { region: 'EU1' }), 10)

  for (const opsUrl of [system.gateway.opsUrl, system.nodes.get('EU1')!.opsUrl]) {
    t.equal((await fetch(`${opsUrl}/livez`)).status, 200, `${opsUrl}/livez`)
    t.equal((await fetch(`${opsUrl}/readyz`)).status, 200, `${opsUrl}/readyz`)
    t.equal((await fetch(`${opsUrl}/nothing`)).status, 404)
    t.equal((await fetch(`${opsUrl}/metrics`, { method: 'POST' })).status, 405)
  }
})

t.test('gateway readiness and the Redis gauge follow Redis', async (t) => {
  const proxy = await startTcpProxy('127.0.0.1', 6379)
  t.teardown(() => proxy.close())
  const system = await startSystem(t, { regions: ['EU1'], ops: true, redisUrl: `redis://127.0.0.1:${proxy.port}` })
  t.equal((await fetch(`${system.gateway.opsUrl}/readyz`)).status, 200)
  proxy.cut()
  const refused = await fetch(`${system.gateway.opsUrl}/readyz`)
  t.equal(refused.status, 503)
  t.same(await refused.json(), { status: 'unavailable', reason: 'redis' })
  let gauge: number | undefined
  for (let attempt = 0; attempt < 40 && gauge !== 0; attempt++) {
    gauge = valueOf(await scrape(system.gateway.opsUrl), 'scimgate_redis_connection_up', { connection: 'commands' })
    if (gauge !== 0) await sleep(50)
  }
  t.equal(gauge, 0, 'the Redis gauge drops')
  proxy.restore()
  let status = 0
  for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
    status = (await fetch(`${system.gateway.opsUrl}/readyz`)).status
    if (status !== 200) await sleep(100)
  }
  t.equal(status, 200, 'ready again once Redis is back')
})
