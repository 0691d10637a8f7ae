import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { createRedisConnection, waitForRedisReady } from '../../../gateway/redis/redis-connection.ts'
import { createTokenHasher } from '../../../gateway/tokens/token-hasher.ts'
import { TokenInputError } from '../../../gateway/tokens/token-input.ts'
import { isUsable } from '../../../gateway/tokens/token-record.ts'
import { RETENTION_MS, createTokenStore } from '../../../gateway/tokens/token-store.ts'
import { deleteKeysUnderPrefix, keysUnderPrefix as keysUnder } from '../../helpers/redis-keys.ts'

const REDIS = { mode: 'single', url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' } as const
const prefix = `test:tokens:${randomBytes(6).toString('hex')}:`
const hasher = createTokenHasher([{ version: 'v1', secret: 'pepper-one' }], 'v1')

const redis = createRedisConnection(REDIS, 'commands') as Redis
await waitForRedisReady(redis, 5_000)

const keysUnderPrefix = (): Promise<string[]> => keysUnder(redis, prefix)

t.teardown(async () => {
  await deleteKeysUnderPrefix(redis, prefix)
  await redis.quit()
})

t.test('create, get, list, lookup', async (t) => {
  const store = createTokenStore(redis, { keyPrefix: prefix, hasher })
  const before = Date.now()
  const { token, record } = await store.create({ tenantId: 'acme', region: 'eu1', label: 'Okta production' })
  t.match(token, /^scg_eu1_/)
  t.match(record, { tenantId: 'acme', region: 'EU1', label: 'Okta production', scopes: ['scim'], expiresAt: null, status: 'active', pepperVersion: 'v1' })
  t.match(record.tokenId, /^tok_[0-9A-Za-z]{20}$/)
  t.ok(record.createdAt >= before && record.createdAt <= Date.now())
  t.same(await store.get(record.tokenId), record)
  t.same(await store.lookup(token), record)
  t.same(await store.list('acme', 'EU1'), [record])
  t.same(await store.list('acme', 'US1'), [], 'other region')
  t.same(await store.list('acme2', 'EU1'), [], 'other tenant')
  t.equal(await store.get('tok_AAAAAAAAAAAAAAAAAAAA'), undefined)
  t.equal(await store.get('not an id'), undefined)
  t.equal(await store.lookup(token.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'))), undefined, 'malformed')
  const admin = await store.create({ tenantId: 'acme', region: 'EU1', scopes: ['admin', 'scim', 'admin'] })
  t.same(admin.record.scopes, ['scim', 'admin'], 'scopes deduplicated')
  t.same((await store.list('acme', 'EU1')).map((r) => r.tokenId), [record.tokenId, admin.record.tokenId])
})

t.test('no plaintext token anywhere in Redis', async (t) => {
  const store = createTokenStore(redis, { keyPrefix: prefix, hasher })
  const tokens = [
    (await store.create({ tenantId: 'plain', region: 'US1' })).token,
    (await store.create({ tenantId: 'plain', region: 'US1', expiresAt: Date.now() + 60_000 })).token,
  ]
  const first = (await store.list('plain', 'US1'))[0]
  if (first === undefined) throw new Error('missing record')
  const rotated = await store.rotate(first.tokenId)
  tokens.push(rotated?.token ?? '')
  await store.revoke(first.tokenId)
  const secrets = tokens.map((tok) => tok.slice(8, 40))
  const keys = await keysUnderPrefix()
  t.ok(keys.length >= 4)
  for (const key of keys) {
    const type = await redis.type(key)
    const values = type === 'set' ? await redis.smembers(key) : type === 'zset' ? await redis.zrange(key, '0', '-1') : type === 'hash' ? await redis.hvals(key) : [(await redis.get(key)) ?? '']
    for (const text of [key, ...values]) {
      for (const secret of secrets) t.notOk(text.includes(secret), `${key} holds no token`)
    }
  }
  t.ok(keys.every((k) => k.startsWith(`${prefix}{tokens}:`)), 'every key shares the hash tag')
})

t.test('rotate keeps both tokens valid until the old one is revoked', async (t) => {
  let clock = Date.now()
  const store = createTokenStore(redis, { keyPrefix: prefix, hasher, now: () => clock })
  const old = await store.create({ tenantId: 'rot', region: 'AP1', label: 'old', scopes: ['scim', 'admin'], expiresAt: clock + 90 * 86_400_000 })
  clock += 86_400_000
  const next = await store.rotate(old.record.tokenId)
  if (next === undefined) throw new Error('rotate returned nothing')
  t.not(next.token, old.token)
  t.not(next.record.tokenId, old.record.tokenId)
  t.match(next.record, { tenantId: 'rot', region: 'AP1', label: 'old', scopes: ['scim', 'admin'], expiresAt: clock + 90 * 86_400_000 })
  t.equal((await store.lookup(old.token))?.status, 'active', 'old still valid')
  t.equal((await store.lookup(next.token))?.status, 'active')
  const relabeled = await store.rotate(old.record.tokenId, { label: 'new', expiresAt: null })
  t.match(relabeled?.record, { label: 'new', expiresAt: null })

  const messages: string[] = []
  const subscriber = createRedisConnection(REDIS, 'subscriber') as Redis
  t.teardown(() => subscriber.disconnect())
  await waitForRedisReady(subscriber, 5_000)
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === store.invalidationChannel) messages.push(message)
  })
  await subscriber.subscribe(store.invalidationChannel)
  t.equal(store.invalidationChannel, `${prefix}token-invalidations`)

  const revoked = await store.revoke(old.record.tokenId)
  t.equal(revoked?.status, 'revoked')
  t.equal((await store.lookup(old.token))?.status, 'revoked')
  t.equal((await store.lookup(next.token))?.status, 'active', 'new one unaffected')
  t.equal((await store.get(old.record.tokenId))?.status, 'revoked', 'kept for listing')
  t.equal((await store.list('rot', 'AP1')).length, 3)
  const deadline = Date.now() + 1_000
  while (messages.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  t.same(messages, [hasher.digest(old.token, 'v1')], 'the digest is published, not the token')
  t.notOk(messages.some((m) => m.includes(old.token)))
  await t.rejects(store.rotate(old.record.tokenId), TokenInputError, 'a revoked token cannot be rotated')
  t.equal(await store.rotate('tok_AAAAAAAAAAAAAAAAAAAA'), undefined)
  t.equal(await store.revoke('tok_AAAAAAAAAAAAAAAAAAAA'), undefined)
})

t.test('expiry: Redis keeps the record RETENTION_MS past expiresAt; lookup reports it expired', async (t) => {
  let clock = Date.now()
  const store = createTokenStore(redis, { keyPrefix: prefix, hasher, now: () => clock })
  const expiresAt = clock + 60_000
  const { token, record } = await store.create({ tenantId: 'exp', region: 'EU2', expiresAt })
  const pttl = await redis.pttl(`${prefix}{tokens}:record:${hasher.digest(token, 'v1')}`)
  t.ok(Math.abs(pttl - (expiresAt + RETENTION_MS - Date.now())) < 5_000, 'TTL = expiry + retention')
  t.equal(await redis.pttl(`${prefix}{tokens}:id:${record.tokenId}`) > 0, true)
  const forever = await store.create({ tenantId: 'exp', region: 'EU2' })
  t.equal(await redis.pttl(`${prefix}{tokens}:record:${hasher.digest(forever.token, 'v1')}`), -1, 'no TTL while active without expiry')
  await store.revoke(forever.record.tokenId)
  const revokedTtl = await redis.pttl(`${prefix}{tokens}:record:${hasher.digest(forever.token, 'v1')}`)
  t.ok(revokedTtl > RETENTION_MS - 60_000 && revokedTtl <= RETENTION_MS, 'revoked: kept 30 days')

  clock = expiresAt + 1
  const found = await store.lookup(token)
  t.ok(found && !isUsable(found, clock), 'expired')
  t.ok(found && isUsable(found, expiresAt - 1))

  // Once Redis forgets a record, list prunes its id from the tenant set.
  await redis.del(`${prefix}{tokens}:id:${record.tokenId}`)
  t.same((await store.list('exp', 'EU2')).map((r) => r.tokenId), [forever.record.tokenId])
  t.same(await redis.smembers(`${prefix}{tokens}:tenant:EU2:exp`), [forever.record.tokenId])
})

t.test('pepper rotation: old tokens still found, new ones use the current pepper', async (t) => {
  const before = createTokenStore(redis, { keyPrefix: prefix, hasher })
  const old = await before.create({ tenantId: 'pep', region: 'EU1' })
  const rotatedHasher = createTokenHasher([{ version: 'v1', secret: 'pepper-one' }, { version: 'v2', secret: 'pepper-two' }], 'v2')
  const after = createTokenStore(redis, { keyPrefix: prefix, hasher: rotatedHasher })
  t.equal((await after.lookup(old.token))?.tokenId, old.record.tokenId)
  const fresh = await after.create({ tenantId: 'pep', region: 'EU1' })
  t.equal(fresh.record.pepperVersion, 'v2')
  t.equal((await after.lookup(fresh.token))?.tokenId, fresh.record.tokenId)
  t.equal(await before.lookup(fresh.token), undefined, 'a store without v2 cannot find it')
})

t.test('input validation lists every problem', async (t) => {
  const store = createTokenStore(redis, { keyPrefix: prefix, hasher })
  const cases: [string, Parameters<typeof store.create>[0], RegExp][] = [
    ['bad tenant', { tenantId: '-acme', region: 'EU1' }, /tenant id/],
    ['tenant with colon', { tenantId: 'a:b', region: 'EU1' }, /tenant id/],
    ['long tenant', { tenantId: 'a'.repeat(129), region: 'EU1' }, /tenant id/],
    ['bad region', { tenantId: 'acme', region: 'E' }, /region/],
    ['long label', { tenantId: 'acme', region: 'EU1', label: 'x'.repeat(201) }, /at most 200/],
    ['label with tab', { tenantId: 'acme', region: 'EU1', label: 'a\tb' }, /control/],
    ['unknown scope', { tenantId: 'acme', region: 'EU1', scopes: ['root' as 'scim'] }, /unknown scope/],
    ['no scope', { tenantId: 'acme', region: 'EU1', scopes: [] }, /non-empty/],
    ['past expiry', { tenantId: 'acme', region: 'EU1', expiresAt: Date.now() - 1 }, /not in the future/],
    ['fractional expiry', { tenantId: 'acme', region: 'EU1', expiresAt: 1.5 }, /milliseconds/],
  ]
  for (const [name, input, message] of cases) await t.rejects(store.create(input), message, name)
  const all = await store.create({ tenantId: '', region: '', label: 'x'.repeat(300) }).catch((error: unknown) => error)
  t.ok(all instanceof TokenInputError && all.problems.length === 3, 'three problems at once')
  await t.rejects(store.list('a b', 'EU1'), TokenInputError)
  t.ok((await store.create({ tenantId: 'a'.repeat(128), region: 'EU1', label: 'x'.repeat(200) })).token)
})

t.test('lookup throws when Redis fails (the caller decides)', async (t) => {
  const broken = createRedisConnection({ mode: 'single', url: 'redis://127.0.0.1:1' }, 'commands')
  t.teardown(() => broken.disconnect())
  const store = createTokenStore(broken, { keyPrefix: prefix, hasher })
  const started = Date.now()
  const { token } = await createTokenStore(redis, { keyPrefix: prefix, hasher }).create({ tenantId: 'down', region: 'EU1' })
  await t.rejects(store.lookup(token))
  t.ok(Date.now() - started < 1_000, 'fails fast')
})

t.test('token events wait in an outbox written with the change; usage keeps the newest observation', async (t) => {
  const keyPrefix = `${prefix}events:`
  const store = createTokenStore(redis, { keyPrefix, hasher })
  const { record } = await store.create({ tenantId: 'ev', region: 'EU1', label: 'okta' }, { actor: { type: 'admin', id: 'admin-api' }, requestId: 'r1' })
  const rotated = await store.rotate(record.tokenId)
  await store.revoke(record.tokenId)
  await store.noteExpiredUse(record, { actor: { type: 'token', id: record.tokenId }, clientKind: 'okta' })
  await store.noteExpiredUse(record, { actor: { type: 'token', id: record.tokenId }, clientKind: 'okta' })
  const pending = await store.pendingEvents('EU1', 10)
  t.same(
    pending.map((e) => [e.type, e.resourceId, e.region, e.tenantId]),
    [
      ['token.created', record.tokenId, 'EU1', 'ev'],
      ['token.rotated', rotated!.record.tokenId, 'EU1', 'ev'],
      ['token.revoked', record.tokenId, 'EU1', 'ev'],
      ['token.expired', record.tokenId, 'EU1', 'ev'],
    ],
    'in order; the expiry once however often it is noted',
  )
  t.match(pending[0], { actor: { type: 'admin', id: 'admin-api' }, requestId: 'r1', data: { label: 'okta' } })
  t.match(pending[1], { actor: { type: 'admin', id: 'cli' }, data: { rotatedFrom: record.tokenId } })
  await store.acknowledgeEvents('EU1', pending.slice(0, 2))
  t.same((await store.pendingEvents('EU1', 10)).map((e) => e.type), ['token.revoked', 'token.expired'], 'acknowledged events leave the outbox')

  await store.recordUsage(new Map([[record.tokenId, { lastUsedAt: 2_000, clientKind: 'entra' as const }]]))
  await store.recordUsage(new Map([[record.tokenId, { lastUsedAt: 1_000, clientKind: 'okta' as const }]]))
  t.same([...(await store.usage([record.tokenId, 'tok_AAAAAAAAAAAAAAAAAAAA']))], [[record.tokenId, { lastUsedAt: 2_000, clientKind: 'entra' }]], 'a late flush of an older use does not win')
})
