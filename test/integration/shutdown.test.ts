// Graceful shutdown drains: a request in flight when close() starts completes;
// one arriving meanwhile on an open connection gets 503; new connections are
// refused; readiness turns 503 first. Gateway (in front of a slow stand-in
// node) and region node (a slow route added for the test).
import { randomBytes } from 'node:crypto'
import net, { type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t from 'tap'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadRegionCatalog, parseRegionCatalog } from '../../config/region-catalog.ts'
import { startGateway } from '../../gateway/server.ts'
import { generateIdentityKeyPair } from '../../lib/internal-identity.ts'
import { httpRequest } from '../helpers/http-request.ts'
import { startTestNode } from '../helpers/region-node.ts'
import { answerAfter, answerWith, startStandInUpstream } from '../helpers/stand-in-upstream.ts'
import { deleteKeysUnderPrefix } from '../helpers/redis-keys.ts'
import { gatewaySecretsEnv } from '../helpers/test-secrets.ts'

const SLOW_MS = 800

/** A connection that has sent part of a request's headers: busy, so close() does not reap it as idle. */
async function halfSentRequest(port: number, head: string): Promise<{ finish(): Promise<string> }> {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  let received = ''
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
  socket.on('error', () => undefined)
  socket.write(head)
  return {
    async finish() {
      socket.write('\r\n')
      await new Promise<void>((resolve) => socket.once('close', resolve))
      return received
    },
  }
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}

t.test('gateway: an in-flight proxied request completes, a late one gets 503, readiness says shutting down', async (t) => {
  const upstream = await startStandInUpstream(t, { respond: answerWith(200) })
  const defaults = loadRegionCatalog()
  const catalog = parseRegionCatalog(
    { regions: defaults.regions.filter((r) => r.code === 'EU1').map((r) => ({ ...r, hostnames: [...r.hostnames], upstreams: [upstream.url] })) },
    'shutdown catalog',
  )
  const redisPrefix = `scimgate-test:shutdown:${randomBytes(6).toString('hex')}:`
  const redis = new Redis('redis://127.0.0.1:6379')
  t.teardown(async () => {
    await deleteKeysUnderPrefix(redis, redisPrefix)
    redis.disconnect()
  })
  const keys = await generateIdentityKeyPair()
  const config = loadGatewayConfig({ HOST: '127.0.0.1', PORT: '0', REDIS_URL: 'redis://127.0.0.1:6379', SCIMGATE_REDIS_PREFIX: redisPrefix, LOG_LEVEL: 'silent', ...gatewaySecretsEnv(keys) }, catalog)
  const gateway = await startGateway(config, { signingKey: keys.signingKey, logger: false, ops: { host: '127.0.0.1', port: 0 } })
  let closed = false
  t.teardown(() => (closed ? undefined : gateway.close()))
  const port = Number(new URL(gateway.url).port)
  const { token } = await gateway.tokenStore.create({ tenantId: 'acme', region: 'EU1' })
  const headers = { host: 'eu1.localhost', authorization: `Bearer ${token}` }
  t.equal((await httpRequest(`${gateway.url}/scim/v2/Users`, { headers })).status, 200, 'warm: token cached')

  upstream.respond = answerAfter(SLOW_MS)
  const late = await halfSentRequest(port, `GET /scim/v2/Users HTTP/1.1\r\nHost: eu1.localhost\r\nAuthorization: Bearer ${token}\r\n`)
  const inFlight = httpRequest(`${gateway.url}/scim/v2/Users`, { headers })
  while (upstream.requests.length < 2) await sleep(10)

  const started = Date.now()
  const closing = gateway.close().then(() => {
    closed = true
    return Date.now() - started
  })
  await sleep(50)
  const readiness = await fetch(`${gateway.opsUrl}/readyz`)
  t.equal(readiness.status, 503, 'not ready while draining')
  t.same(await readiness.json(), { status: 'unavailable', reason: 'shutting down' })
  const lateAnswer = await late.finish()
  t.match(lateAnswer, /^HTTP\/1\.1 503 /, 'a request arriving during shutdown gets 503')
  t.match(lateAnswer, /content-type: application\/scim\+json/i, 'as a SCIM error')
  t.match(lateAnswer, /"schemas":\["urn:ietf:params:scim:api:messages:2\.0:Error"\]/)
  t.ok(await connectionRefused(port), 'new connections are refused')
  t.equal((await inFlight).status, 200, 'the in-flight request completes')
  t.equal(upstream.requests.length, 2, 'the late request never reached the node')
  t.ok((await closing) >= SLOW_MS - 150, 'close() waited for the in-flight request')
})

t.test('region node: an in-flight request completes, a late one gets 503', async (t) => {
  const node = await startTestNode(t)
  node.app.get('/slow', async () => {
    await sleep(SLOW_MS)
    return { status: 'done' }
  })
  await node.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (node.app.server.address() as AddressInfo).port
  const late = await halfSentRequest(port, 'GET /livez HTTP/1.1\r\nHost: localhost\r\n')
  const inFlight = httpRequest(`http://127.0.0.1:${port}/slow`)
  await sleep(100)

  const started = Date.now()
  const closing = node.app.close().then(() => Date.now() - started)
  await sleep(50)
  const lateAnswer = await late.finish()
  t.match(lateAnswer, /^HTTP\/1\.1 503 /, 'a request arriving during shutdown gets 503')
  t.match(lateAnswer, /content-type: application\/scim\+json/i, 'as a SCIM error')
  t.ok(await connectionRefused(port), 'new connections are refused')
  const done = await inFlight
  t.equal(done.status, 200, 'the in-flight request completes')
  t.same(done.json(), { status: 'done' })
  t.ok((await closing) >= SLOW_MS - 250, 'close() waited for the in-flight request')
})
