import t from 'tap'
import type { Test } from 'tap'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import type { Redis } from 'ioredis'
import type { RedisConfig } from '../../../config/redis-settings.ts'
import { createRedisConnection, waitForRedisReady } from '../../../gateway/redis/redis-connection.ts'
import { generateToken } from '../../../gateway/tokens/token-format.ts'
import { createTokenHasher } from '../../../gateway/tokens/token-hasher.ts'
import { createTokenAuthenticator, type TokenAuthenticatorOptions } from '../../../gateway/tokens/token-authenticator.ts'
import { createTokenStore, type TokenStore } from '../../../gateway/tokens/token-store.ts'
import { startTcpProxy } from '../../helpers/tcp-proxy.ts'
import { deleteKeysUnderPrefix } from '../../helpers/redis-keys.ts'

const REDIS: RedisConfig = { mode: 'single', url: 'redis://127.0.0.1:6379' }
const prefix = `test:auth:${randomBytes(6).toString('hex')}:`
const hasher = createTokenHasher([{ version: 'v1', secret: 'pepper-one' }], 'v1')

const redis = createRedisConnection(REDIS, 'commands') as Redis
await waitForRedisReady(redis, 5_000)
const admin = createTokenStore(redis, { keyPrefix: prefix, hasher })

t.teardown(async () => {
  await deleteKeysUnderPrefix(redis, prefix)
  await redis.quit()
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(5)
  }
  return Date.now() - started
}

/** A store whose lookups are counted. */
function counting(store: TokenStore): TokenStore & { calls: number } {
  const wrapped = {
    ...store,
    calls: 0,
    lookup(token: string) {
      wrapped.calls++
      return store.lookup(token)
    },
  }
  return wrapped
}

async function setUp(t: Test, options: Partial<TokenAuthenticatorOptions> & { config?: RedisConfig } = {}) {
  const config = options.config ?? REDIS
  const commands = createRedisConnection(config, 'commands') as Redis
  const subscriber = createRedisConnection(options.config ?? REDIS, 'subscriber') as Redis
  const store = counting(options.store ?? createTokenStore(commands, { keyPrefix: prefix, hasher }))
  const authenticator = createTokenAuthenticator({ hasher, ...options, store, subscriber })
  t.teardown(async () => {
    await authenticator.close()
    commands.disconnect()
    subscriber.disconnect()
  })
  await waitForRedisReady(commands, 5_000)
  await authenticator.ready
  return { authenticator, store, commands, subscriber }
}

t.test('outcomes, and a cache hit makes no Redis call', async (t) => {
  const { authenticator, store } = await setUp(t)
  const { token, record } = await admin.create({ tenantId: 'acme', region: 'EU1', label: 'okta' })

  t.same(await authenticator.authenticate('scg_eu1_nope'), { kind: 'invalid', reason: 'malformed' })
  t.same(await authenticator.authenticate(`${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`), { kind: 'invalid', reason: 'malformed' })
  t.equal(store.calls, 0, 'malformed tokens never reach Redis')

  const seen: string[] = []
  const monitorClient = createRedisConnection(REDIS, 'commands') as Redis
  await waitForRedisReady(monitorClient, 5_000)
  const monitor = await monitorClient.monitor()
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args.some((a) => a.startsWith(prefix))) seen.push(args.join(' '))
  })
  t.teardown(() => {
    monitor.disconnect()
    monitorClient.disconnect()
  })

  const first = await authenticator.authenticate(token)
  t.same(first, { kind: 'ok', record, cacheKey: hasher.digest(token, 'v1') })
  for (let i = 0; i < 100; i++) t.equal((await authenticator.authenticate(token)).kind, 'ok')
  await sleep(100)
  t.equal(store.calls, 1, 'one lookup for 101 checks')
  t.equal(seen.filter((line) => line.toLowerCase().startsWith('mget')).length, 1, 'Redis saw one MGET')
  t.same(authenticator.stats(), { hits: 100, misses: 1, size: 1, flushes: 1 }, 'flushed once, at the first subscription')
})

t.test('one HMAC per token per positive TTL, not per request', async (t) => {
  let digests = 0
  const countingHasher = { ...hasher, digest: (token: string, version: string) => (digests++, hasher.digest(token, version)) }
  const { authenticator } = await setUp(t, { hasher: countingHasher, positiveTtlMs: 300 })
  const { token } = await admin.create({ tenantId: 'acme', region: 'EU1', label: 'okta' })
  t.equal((await authenticator.authenticate(token)).kind, 'ok')
  const afterFirst = digests
  t.ok(afterFirst >= 1, 'the first check hashes the token')
  for (let i = 0; i < 100; i++) t.equal((await authenticator.authenticate(token)).kind, 'ok')
  t.equal(digests, afterFirst, 'no HMAC for 100 cached checks')
  await sleep(400)
  t.equal((await authenticator.authenticate(token)).kind, 'ok')
  t.ok(digests > afterFirst, 'after the TTL the token is hashed again (the raw token is not kept longer)')
  const other = await admin.create({ tenantId: 'globex', region: 'EU1', label: 'entra' })
  const outcome = await authenticator.authenticate(other.token)
  t.match(outcome, { kind: 'ok', record: { tenantId: 'globex' } }, 'another token never shares an entry')
})

t.test('negative cache, positive TTL and expiry with an injected clock', async (t) => {
  let clock = Date.now()
  const { authenticator, store } = await setUp(t, { now: () => clock, positiveTtlMs: 10_000, negativeTtlMs: 2_000 })
  const unknown = generateToken('EU1')
  t.same(await authenticator.authenticate(unknown), { kind: 'invalid', reason: 'unknown' })
  t.same(await authenticator.authenticate(unknown), { kind: 'invalid', reason: 'unknown' })
  t.equal(store.calls, 1, 'unknown answer cached')
  clock += 2_001
  await authenticator.authenticate(unknown)
  t.equal(store.calls, 2, 'negative entry expires after negativeTtlMs')

  const { token } = await admin.create({ tenantId: 'acme', region: 'EU1', expiresAt: Date.now() + 5_000 })
  t.equal((await authenticator.authenticate(token)).kind, 'ok')
  clock += 5_000
  t.match(await authenticator.authenticate(token), { kind: 'invalid', reason: 'expired', record: { status: 'active' } }, 'expiry checked on cache hits too')
  t.equal(store.calls, 3)
  clock += 10_000
  t.match(await authenticator.authenticate(token), { kind: 'invalid', reason: 'expired', record: { status: 'active' } })
  t.equal(store.calls, 4, 'positive entry expires after positiveTtlMs')
})

t.test('concurrent checks of one uncached token share one lookup', async (t) => {
  const { authenticator, store } = await setUp(t)
  const { token } = await admin.create({ tenantId: 'acme', region: 'EU1' })
  const outcomes = await Promise.all(Array.from({ length: 50 }, () => authenticator.authenticate(token)))
  t.ok(outcomes.every((o) => o.kind === 'ok'))
  t.equal(store.calls, 1)
})

t.test('revocation reaches two gateways within one second', async (t) => {
  const a = await setUp(t)
  const b = await setUp(t)
  const { token, record } = await admin.create({ tenantId: 'acme', region: 'EU1' })
  const other = await admin.create({ tenantId: 'acme', region: 'EU1' })
  for (const { authenticator } of [a, b]) {
    t.equal((await authenticator.authenticate(token)).kind, 'ok')
    t.equal((await authenticator.authenticate(other.token)).kind, 'ok')
  }
  await admin.revoke(record.tokenId)
  for (const [name, { authenticator }] of [['a', a], ['b', b]] as const) {
    const elapsed = await until(async () => (await authenticator.authenticate(token)).kind === 'invalid', 1_000)
    t.ok(elapsed < 1_000, `gateway ${name} refuses the token after ${elapsed} ms`)
    t.same(await authenticator.authenticate(token), { kind: 'invalid', reason: 'revoked' })
  }
  t.equal(a.store.calls, 3, 'the other cached token was not disturbed')
})

t.test('revocation of a token hashed with an older pepper', async (t) => {
  const rotated = createTokenHasher([{ version: 'v1', secret: 'pepper-one' }, { version: 'v2', secret: 'pepper-two' }], 'v2')
  const commands = createRedisConnection(REDIS, 'commands') as Redis
  const subscriber = createRedisConnection(REDIS, 'subscriber') as Redis
  t.teardown(() => {
    commands.disconnect()
    subscriber.disconnect()
  })
  await waitForRedisReady(commands, 5_000)
  const authenticator = createTokenAuthenticator({ store: createTokenStore(commands, { keyPrefix: prefix, hasher: rotated }), subscriber, hasher: rotated })
  t.teardown(() => authenticator.close())
  await authenticator.ready
  const { token, record } = await admin.create({ tenantId: 'acme', region: 'EU1' })
  const ok = await authenticator.authenticate(token)
  t.equal(ok.kind, 'ok')
  t.equal(ok.kind === 'ok' && ok.cacheKey, rotated.digest(token, 'v2'), 'cache key uses the current pepper')
  await admin.revoke(record.tokenId)
  await until(() => authenticator.stats().size === 0, 1_000)
  t.same(await authenticator.authenticate(token), { kind: 'invalid', reason: 'revoked' })
})

t.test('Redis outage: cached tokens work, uncached ones are unavailable at once, then recovery', async (t) => {
  const proxy = await startTcpProxy('127.0.0.1', 6379)
  t.teardown(() => proxy.close())
  const { authenticator, commands, subscriber, store } = await setUp(t, { config: { mode: 'single', url: `redis://127.0.0.1:${proxy.port}` } })
  const cached = await admin.create({ tenantId: 'acme', region: 'EU1' })
  const uncached = await admin.create({ tenantId: 'acme', region: 'EU1' })
  t.equal((await authenticator.authenticate(cached.token)).kind, 'ok')

  proxy.cut()
  await until(() => commands.status !== 'ready', 1_000)
  t.equal((await authenticator.authenticate(cached.token)).kind, 'ok', 'cached token keeps working')
  const started = Date.now()
  t.same(await authenticator.authenticate(uncached.token), { kind: 'unavailable' })
  t.ok(Date.now() - started < 300, `unavailable after ${Date.now() - started} ms`)
  t.same(await authenticator.authenticate(generateToken('EU1')), { kind: 'unavailable' }, 'unknown tokens too: fail closed, not cached')
  t.same(await authenticator.authenticate('garbage'), { kind: 'invalid', reason: 'malformed' })

  proxy.restore()
  await waitForRedisReady(commands, 5_000)
  await until(() => subscriber.status === 'ready', 5_000)
  const recovered = await until(async () => (await authenticator.authenticate(uncached.token)).kind === 'ok', 5_000)
  t.pass(`recovered ${recovered} ms after the connection came back`)
  t.ok(store.calls >= 3)
})

t.test('Redis outage: a token verified before it keeps working for the grace period, then not; revocations made meanwhile apply on return', async (t) => {
  const proxy = await startTcpProxy('127.0.0.1', 6379)
  t.teardown(() => proxy.close())
  let clock = Date.now()
  const { authenticator, commands, subscriber } = await setUp(t, {
    config: { mode: 'single', url: `redis://127.0.0.1:${proxy.port}` },
    now: () => clock,
    positiveTtlMs: 10_000,
    outageGraceMs: 60_000,
  })
  const kept = await admin.create({ tenantId: 'acme', region: 'EU1' })
  const revokedMeanwhile = await admin.create({ tenantId: 'acme', region: 'EU1' })
  t.equal((await authenticator.authenticate(kept.token)).kind, 'ok')
  t.equal((await authenticator.authenticate(revokedMeanwhile.token)).kind, 'ok')

  proxy.cut()
  await until(() => commands.status !== 'ready', 1_000)
  clock += 30_000
  t.equal((await authenticator.authenticate(kept.token)).kind, 'ok', 'past its cache entry, within the grace period: still works')
  t.same(await authenticator.authenticate(generateToken('EU1')), { kind: 'unavailable' }, 'an unknown token: unavailable, never invalid')
  // Another gateway, still connected, revokes one meanwhile.
  await admin.revoke(revokedMeanwhile.record.tokenId)
  clock += 31_000
  t.same(await authenticator.authenticate(kept.token), { kind: 'unavailable' }, 'past the grace period: unavailable')

  proxy.restore()
  await waitForRedisReady(commands, 5_000)
  await until(() => subscriber.status === 'ready', 5_000)
  await until(async () => (await authenticator.authenticate(revokedMeanwhile.token)).kind !== 'unavailable', 5_000)
  t.same(await authenticator.authenticate(revokedMeanwhile.token), { kind: 'invalid', reason: 'revoked' }, 'the revocation applies once Redis is back')
  t.equal((await authenticator.authenticate(kept.token)).kind, 'ok', 'the other token is verified again')
})

t.test('the cache is flushed when the subscriber reconnects', async (t) => {
  const proxy = await startTcpProxy('127.0.0.1', 6379)
  t.teardown(() => proxy.close())
  const commands = createRedisConnection(REDIS, 'commands') as Redis
  const subscriber = createRedisConnection({ mode: 'single', url: `redis://127.0.0.1:${proxy.port}` }, 'subscriber') as Redis
  t.teardown(() => {
    commands.disconnect()
    subscriber.disconnect()
  })
  await waitForRedisReady(commands, 5_000)
  const store = counting(createTokenStore(commands, { keyPrefix: prefix, hasher }))
  const authenticator = createTokenAuthenticator({ store, subscriber, hasher })
  t.teardown(() => authenticator.close())
  await authenticator.ready
  const { token, record } = await admin.create({ tenantId: 'acme', region: 'EU1' })
  t.equal((await authenticator.authenticate(token)).kind, 'ok')
  t.equal(authenticator.stats().size, 1)
  const flushes = authenticator.stats().flushes

  proxy.cut()
  await until(() => subscriber.status !== 'ready', 1_000)
  // Missed while the subscriber was away:
  await admin.revoke(record.tokenId)
  await sleep(100)
  t.equal((await authenticator.authenticate(token)).kind, 'ok', 'still cached: the message was lost')
  proxy.restore()
  await until(() => authenticator.stats().flushes > flushes, 5_000)
  t.same(await authenticator.authenticate(token), { kind: 'invalid', reason: 'revoked' }, 'looked up again after the flush')

  // And invalidations flow again after the reconnect.
  const next = await admin.create({ tenantId: 'acme', region: 'EU1' })
  t.equal((await authenticator.authenticate(next.token)).kind, 'ok')
  await admin.revoke(next.record.tokenId)
  await until(async () => (await authenticator.authenticate(next.token)).kind === 'invalid', 1_000)
  t.pass('revocation seen after the reconnect')
})

t.test('close unsubscribes and empties the cache', async (t) => {
  const { authenticator, subscriber } = await setUp(t)
  const { token } = await admin.create({ tenantId: 'acme', region: 'EU1' })
  await authenticator.authenticate(token)
  await authenticator.close()
  t.equal(authenticator.stats().size, 0)
  t.equal(subscriber.listenerCount('message'), 0)
})

/** A proxy that can go silent without closing anything: a half-open connection, where only timeouts help. */
async function startFreezableProxy(): Promise<{ port: number; freeze(): void; thaw(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  let frozen = false
  const server = net.createServer((client) => {
    const upstream = net.connect(6379, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.on('data', (chunk) => void (frozen || upstream.write(chunk)))
    upstream.on('data', (chunk) => void (frozen || client.write(chunk)))
    const end = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => void (frozen = true),
    thaw: () => void (frozen = false),
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

t.test('a silent Redis (half-open connection) gives unavailable after the command timeout, no hang', async (t) => {
  const proxy = await startFreezableProxy()
  t.teardown(() => proxy.close())
  const config: RedisConfig = { mode: 'single', url: `redis://127.0.0.1:${proxy.port}` }
  const { authenticator } = await setUp(t, { config })
  const cached = await admin.create({ tenantId: 'acme', region: 'EU1' })
  const uncached = await admin.create({ tenantId: 'acme', region: 'EU1' })
  t.equal((await authenticator.authenticate(cached.token)).kind, 'ok')
  proxy.freeze()
  const started = Date.now()
  const outcomes = await Promise.all([authenticator.authenticate(uncached.token), authenticator.authenticate(cached.token)])
  const elapsed = Date.now() - started
  t.same(outcomes.map((o) => o.kind), ['unavailable', 'ok'])
  t.ok(elapsed < 900, `unavailable after ${elapsed} ms`)
})

t.test('a silent subscriber is detected by its liveness ping, reconnected and the cache flushed', async (t) => {
  const proxy = await startFreezableProxy()
  t.teardown(() => proxy.close())
  const commands = createRedisConnection(REDIS, 'commands') as Redis
  const subscriber = createRedisConnection({ mode: 'single', url: `redis://127.0.0.1:${proxy.port}` }, 'subscriber', { livenessIntervalMs: 200 }) as Redis
  t.teardown(() => {
    commands.disconnect()
    subscriber.disconnect()
  })
  await waitForRedisReady(commands, 5_000)
  const authenticator = createTokenAuthenticator({ store: createTokenStore(commands, { keyPrefix: prefix, hasher }), subscriber, hasher })
  t.teardown(() => authenticator.close())
  await authenticator.ready
  const { token } = await admin.create({ tenantId: 'acme', region: 'EU1' })
  t.equal((await authenticator.authenticate(token)).kind, 'ok')
  const flushes = authenticator.stats().flushes
  let reconnects = 0
  subscriber.on('reconnecting', () => reconnects++)
  proxy.freeze()
  await until(() => reconnects > 0, 2_000)
  proxy.thaw()
  await until(() => authenticator.stats().flushes > flushes, 3_000)
  t.pass('reconnected and flushed')
})
