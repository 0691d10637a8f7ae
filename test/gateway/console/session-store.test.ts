import { createHash, randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { createMemorySessionStore, createRedisSessionStore, type SessionStore } from '../../../gateway/console/session-store.ts'
import { deleteKeysUnderPrefix } from '../../helpers/redis-keys.ts'

const principal = { kind: 'admin', tenantId: 'acme', region: 'EU1', credentialId: 'tok_aaaaaaaaaaaaaaaaaaaa' } as const
const prefix = `scimgate-test:${randomBytes(6).toString('hex')}:`
const redis = new Redis('redis://127.0.0.1:6379')
t.teardown(async () => {
  await deleteKeysUnderPrefix(redis, prefix)
  redis.disconnect()
})

async function behaves(t: Test, store: SessionStore, expire: () => Promise<void>) {
  const { id, session } = await store.create(principal)
  t.match(id, /^[A-Za-z0-9_-]{43}$/, '256 random bits')
  t.same((await store.touch(id))?.principal, principal)
  t.equal((await store.touch(id))?.csrfToken, session.csrfToken)
  t.equal(await store.touch('A'.repeat(43)), undefined, 'unknown ids are no session')
  t.equal(await store.touch('not an id'), undefined)
  await store.delete(id)
  t.equal(await store.touch(id), undefined, 'deleted')
  const idle = await store.create(principal)
  await expire()
  t.equal(await store.touch(idle.id), undefined, 'ends when idle')
}

t.test('Redis: keyed by the SHA-256 of the id, idle timeout as the key’s TTL, every use extends it', async (t) => {
  const store = createRedisSessionStore(redis, prefix, { idleTimeoutMs: 400, maxLifetimeMs: 60_000 })
  const { id } = await store.create(principal)
  t.equal(await redis.exists(`${prefix}console-session:${createHash('sha256').update(id).digest('hex')}`), 1)
  t.equal((await redis.keys(`${prefix}*${id}*`)).length, 0, 'the id itself is stored nowhere')
  for (let i = 0; i < 4; i++) {
    await sleep(200)
    t.ok(await store.touch(id), 'still alive while used')
  }
  await behaves(t, store, () => sleep(600))
})

t.test('memory (embedded mode): same rules, and an absolute lifetime', async (t) => {
  let now = 1_000_000
  const store = createMemorySessionStore({ idleTimeoutMs: 1_000, maxLifetimeMs: 5_000, now: () => now })
  const { id } = await store.create(principal)
  for (let i = 0; i < 4; i++) {
    now += 900
    t.ok(await store.touch(id))
  }
  now += 1_500
  t.equal(await store.touch(id), undefined, 'past the absolute lifetime even though used')
  await behaves(t, store, async () => void (now += 1_001))
})
