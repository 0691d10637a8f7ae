import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { startSystem } from '../helpers/system.ts'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'

const EU1 = 'eu1.localhost'

t.test('revocation takes effect on every gateway within one second', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'] })
  const second = await system.startGateway()
  const { token, tokenId } = await system.createToken('acme', 'EU1')
  // Warm both gateways' caches
  for (const gateway of [system.gateway, second]) t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token, gateway })).status, 200)

  const revoked = await system.admin('DELETE', `/admin/v1/tokens/${tokenId}`)
  t.equal(revoked.status, 200)
  t.equal((await revoked.json()).status, 'revoked')
  await sleep(1_000)
  for (const gateway of [system.gateway, second]) {
    const response = await system.request(EU1, 'GET', '/scim/v2/Users', { token, gateway })
    t.equal(response.status, 401, 'refused one second after revocation')
  }
})

t.test('rotation overlaps: old and new tokens both work until the old one is revoked', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'] })
  const { token: oldToken, tokenId } = await system.createToken('acme', 'EU1')
  const rotated = await system.admin('POST', `/admin/v1/tokens/${tokenId}/rotate`, {})
  t.equal(rotated.status, 201)
  const { token: newToken, tokenId: newId } = (await rotated.json()) as { token: string; tokenId: string }
  t.not(newToken, oldToken)
  for (const token of [oldToken, newToken]) t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token })).status, 200)
  await system.admin('DELETE', `/admin/v1/tokens/${tokenId}`)
  await sleep(1_000)
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token: oldToken })).status, 401)
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token: newToken })).status, 200)
  const list = (await (await system.admin('GET', '/admin/v1/tokens?tenant=acme&region=EU1')).json()) as { tokens: { tokenId: string; status: string }[] }
  t.same(new Map(list.tokens.map((x) => [x.tokenId, x.status])), new Map([[tokenId, 'revoked'], [newId, 'active']]))
})

t.test('Redis down: cached tokens keep working, uncached ones get 503 with Retry-After, and the gateway recovers', async (t) => {
  const proxy = await startTcpProxy('127.0.0.1', 6379)
  t.teardown(() => proxy.close())
  const system = await startSystem(t, { regions: ['EU1'], redisUrl: `redis://127.0.0.1:${proxy.port}` })
  const cached = await system.createToken('acme', 'EU1')
  const uncached = await system.createToken('acme', 'EU1')
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token: cached.token })).status, 200)

  proxy.cut()
  const started = Date.now()
  const refused = await system.request(EU1, 'GET', '/scim/v2/Users', { token: uncached.token })
  t.equal(refused.status, 503, 'uncached token while Redis is down')
  t.match(refused.headers['retry-after'], /^\d+$/)
  t.ok(Date.now() - started < 5_000, 'answered promptly, no hang')
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token: cached.token })).status, 200, 'cached token still works')
  // The region's prefix with a broken checksum: refused as not valid, with no look-up (which would be a 503 now).
  const broken = `${uncached.token.slice(0, -1)}${uncached.token.endsWith('0') ? '1' : '0'}`
  const malformed = await system.request(EU1, 'GET', '/scim/v2/Users', { token: broken })
  t.equal(malformed.status, 401, 'a malformed token of this region while Redis is down')
  t.match(malformed.body, /the provisioning token is not valid/)
  const readiness = await system.request(EU1, 'GET', '/readyz')
  t.equal(readiness.status, 200, 'still ready: cached tokens work, so the gateway stays in the load balancer')
  t.equal(readiness.json().redis, 'unavailable', 'and says Redis is unavailable')

  proxy.restore()
  let recovered = 0
  for (let attempt = 0; attempt < 50 && recovered !== 200; attempt++) {
    await sleep(200)
    recovered = (await system.request(EU1, 'GET', '/scim/v2/Users', { token: uncached.token })).status
  }
  t.equal(recovered, 200, 'uncached token works again once Redis is back')
})

t.test('per-tenant rate limit answers 429 with an integer Retry-After', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'], env: { RATE_LIMIT_PER_TENANT: '3', RATE_LIMIT_WINDOW_MS: '60000' } })
  const acme = await system.createToken('acme', 'EU1')
  const other = await system.createToken('other', 'EU1')
  const statuses = []
  for (let i = 0; i < 5; i++) statuses.push((await system.request(EU1, 'GET', '/scim/v2/Users', { token: acme.token })).status)
  t.same(statuses, [200, 200, 200, 429, 429])
  const limited = await system.request(EU1, 'GET', '/scim/v2/Users', { token: acme.token })
  t.match(limited.headers['retry-after'], /^\d+$/)
  t.match(limited.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' })
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token: other.token })).status, 200, 'another tenant has its own budget')
})

t.test('a credential that keeps failing from one address is slowed down before any token check', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'], env: { RATE_LIMIT_FAILED_AUTH_PER_ADDRESS: '3' } })
  const statuses = []
  for (let i = 0; i < 5; i++) statuses.push((await system.request(EU1, 'GET', '/scim/v2/Users', { token: 'scg_eu1_guess' })).status)
  t.same(statuses, [401, 401, 401, 429, 429])
})

t.test('no plaintext token in Redis, in logs or in error bodies', async (t) => {
  const logs: string[] = []
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => logs.push(chunk.toString()))
  const system = await startSystem(t, { regions: ['EU1', 'US1'], logStream: stream })
  const { token, tokenId } = await system.createToken('acme', 'EU1')
  const bodies = [
    await system.request(EU1, 'GET', '/scim/v2/Users', { token }),
    await system.request('us1.localhost', 'GET', '/scim/v2/Users', { token }),
    await system.request(EU1, 'GET', '/scim/v2/Users', { token: `${token}x` }),
    await system.request(EU1, 'POST', '/scim/v2/Users', { token, body: '{not json' }),
  ].map((r) => r.body)
  await system.admin('DELETE', `/admin/v1/tokens/${tokenId}`)
  await sleep(200)
  bodies.push((await system.request(EU1, 'GET', '/scim/v2/Users', { token })).body)

  const secret = token.slice(8) // the random part and checksum
  for (const body of bodies) t.notMatch(body, secret, 'error bodies')
  t.ok(logs.length > 0, 'the gateway logged')
  t.notMatch(logs.join(''), secret, 'logs')
  const keys = await system.redis.keys(`${system.redisPrefix}*`)
  t.ok(keys.length > 0, 'tokens are stored in Redis')
  for (const key of keys) {
    t.notMatch(key, secret, 'Redis keys')
    const type = await system.redis.type(key)
    const dump = type === 'string' ? await system.redis.get(key) : type === 'hash' ? JSON.stringify(await system.redis.hgetall(key)) : type === 'set' ? JSON.stringify(await system.redis.smembers(key)) : type === 'zset' ? JSON.stringify(await system.redis.zrange(key, '0', '-1')) : ''
    t.notMatch(dump ?? '', secret, `Redis value of ${key}`)
  }
})

t.test('the admin API sets a group’s roles and scope on the tenant’s region node', async (t) => {
  const system = await startSystem(t, { regions: ['EU1', 'US1'] })
  const { token } = await system.createToken('acme', 'EU1')
  const group = (await system.request(EU1, 'POST', '/scim/v2/Groups', { token, body: { displayName: 'ops' } })).json()
  const access = { roles: ['Admin', 'Read Only'], scope: { type: 'Exact', values: ['team-a'] } }
  const set = await system.admin('PUT', `/admin/v1/regions/EU1/tenants/acme/groups/${group.id}/access`, access)
  t.equal(set.status, 200, await set.clone().text())
  const read = (await system.request(EU1, 'GET', `/scim/v2/Groups/${group.id}`, { token })).json()
  t.match(read['urn:scimgate:params:scim:schemas:extension:access:2.0:Group'], { roles: [{ value: 'Admin' }, { value: 'Read Only' }], scope: { type: 'Exact', values: ['team-a'] } })
  const otherTenant = await system.admin('PUT', `/admin/v1/regions/EU1/tenants/globex/groups/${group.id}/access`, access)
  t.equal(otherTenant.status, 404, "another tenant's group is not found")
  const otherRegion = await system.admin('PUT', `/admin/v1/regions/US1/tenants/acme/groups/${group.id}/access`, access)
  t.equal(otherRegion.status, 404, 'the group lives only in its region')
  const unauthenticated = await fetch(`${system.gateway.adminUrl}/admin/v1/tokens?tenant=acme&region=EU1`)
  t.equal(unauthenticated.status, 401, 'the admin API needs the admin credential')
})

t.test('admin API: bad token requests are 400 invalidValue, and Redis being down is 503 with Retry-After', async (t) => {
  const proxy = await startTcpProxy('127.0.0.1', 6379)
  t.teardown(() => proxy.close())
  const system = await startSystem(t, { regions: ['EU1'], redisUrl: `redis://127.0.0.1:${proxy.port}` })
  const { tokenId } = await system.createToken('acme', 'EU1')
  t.equal((await system.admin('DELETE', `/admin/v1/tokens/${tokenId}`)).status, 200)
  const rotateRevoked = await system.admin('POST', `/admin/v1/tokens/${tokenId}/rotate`, {})
  t.equal(rotateRevoked.status, 400, 'a revoked token cannot be rotated')
  t.match(await rotateRevoked.json(), { status: '400', scimType: 'invalidValue', detail: /revoked/ })

  proxy.cut()
  const down = await system.admin('GET', '/admin/v1/tokens?tenant=acme&region=EU1')
  t.equal(down.status, 503)
  t.equal(down.headers.get('retry-after'), '2')
  t.match(down.headers.get('content-type'), /application\/scim\+json/)
  t.match(await down.json(), { status: '503', detail: /token store is unavailable/ })
  proxy.restore()
})

t.test('a revoked token’s identity, though still cached by the gateway, never reaches the node again', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'], ops: true })
  const { token, tokenId } = await system.createToken('acme', 'EU1')
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token })).status, 200, 'the identity is now cached')
  const nodeRequests = async (): Promise<number> => {
    const text = await (await fetch(`${system.nodes.get('EU1')!.opsUrl}/metrics`)).text()
    return [...text.matchAll(/^scimgate_http_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
  }
  await system.admin('DELETE', `/admin/v1/tokens/${tokenId}`)
  await sleep(1_000)
  const before = await nodeRequests()
  for (let i = 0; i < 3; i++) t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token })).status, 401)
  t.equal(await nodeRequests(), before, 'the token is refused before an identity is looked at')
})
