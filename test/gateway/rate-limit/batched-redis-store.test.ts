import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { createBatchedRedisStore } from '../../../gateway/rate-limit/batched-redis-store.ts'
import { startTcpProxy } from '../../helpers/tcp-proxy.ts'
import { deleteKeysUnderPrefix } from '../../helpers/redis-keys.ts'

function incr(store: ReturnType<typeof createBatchedRedisStore>, key: string, window = 60_000): { current: number; ttl: number } {
  let result: { current: number; ttl: number } | undefined
  store.incr(key, (error, value) => {
    if (error !== null) throw error
    result = value
  }, window, 100)
  return result!
}

async function withRedis(t: Tap, url = 'redis://127.0.0.1:6379'): Promise<{ redis: Redis; direct: Redis; prefix: string }> {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500 })
  redis.on('error', () => undefined)
  await new Promise((resolve) => redis.once('ready', resolve))
  const direct = new Redis()
  const prefix = `scimgate-test:${randomBytes(6).toString('hex')}:rate:`
  t.teardown(async () => {
    await deleteKeysUnderPrefix(direct, prefix)
    direct.disconnect()
    redis.disconnect()
  })
  return { redis, direct, prefix }
}
type Tap = { teardown(fn: () => unknown): void }

t.test('counting makes no Redis call; flushes share the count between gateways', async (t) => {
  const { redis, prefix } = await withRedis(t)
  let now = 1_000_000
  // The store reaches Redis only through pipeline(): count those.
  let redisCalls = 0
  const counted = new Proxy(redis, { get: (target, name, receiver) => (name === 'pipeline' ? () => (redisCalls++, target.pipeline()) : Reflect.get(target, name, receiver)) })
  const gatewayA = createBatchedRedisStore({ redis: counted, keyPrefix: prefix, flushMs: 10_000, now: () => now })
  const gatewayB = createBatchedRedisStore({ redis: counted, keyPrefix: prefix, flushMs: 10_000, now: () => now })

  for (let i = 0; i < 5; i++) incr(gatewayA, 'EU1:acme')
  t.equal(incr(gatewayA, 'EU1:acme').current, 6, 'counted locally')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(redisCalls, 0, 'no Redis command while counting')

  await gatewayA.flush()
  for (let i = 0; i < 3; i++) incr(gatewayB, 'EU1:acme')
  await gatewayB.flush()
  t.equal(incr(gatewayB, 'EU1:acme').current, 10, "gateway B sees A's six after one flush, plus its own four")
  incr(gatewayA, 'EU1:acme')
  await gatewayA.flush()
  t.equal(incr(gatewayA, 'EU1:acme').current, 11, "gateway A learns B's flushed requests with its next flush (6 + 3 + 1, then this one)")
  t.equal(incr(gatewayA, 'EU1:other').current, 1, 'keys are counted apart')

  now += 60_000
  t.equal(incr(gatewayA, 'EU1:acme').current, 1, 'a new window starts from zero')
  t.ok(incr(gatewayA, 'EU1:acme').ttl <= 60_000)
})

t.test('while Redis is down, counting goes on locally and is sent when it returns', async (t) => {
  const proxy = await startTcpProxy('127.0.0.1', 6379)
  t.teardown(() => proxy.close())
  const { redis, direct, prefix } = await withRedis(t, `redis://127.0.0.1:${proxy.port}`)
  const store = createBatchedRedisStore({ redis, keyPrefix: prefix, flushMs: 10_000 })
  proxy.cut()
  for (let i = 0; i < 4; i++) incr(store, 'k')
  await store.flush()
  t.equal(incr(store, 'k').current, 5, 'nothing lost while Redis is down')
  proxy.restore()
  for (let attempt = 0; attempt < 50 && redis.status !== 'ready'; attempt++) await new Promise((resolve) => setTimeout(resolve, 100))
  await store.flush()
  const keys = await direct.keys(`${prefix}{k}:*`)
  const total = keys.length === 1 ? await direct.get(keys[0]!) : null
  t.equal(total, '5', 'the count reached Redis once it was back')
})
