// An admin creating many tokens at once, against a private Sentinel group
// (primary, replica, three sentinels) and connections built as the gateway
// builds them: every creation succeeds, even one issued while the write
// connection is still connecting, and every token reaches the replica. With
// Redis gone, a creation still answers 503 at once rather than hanging.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { Redis } from 'ioredis'
import type { RedisConfig } from '../../../config/redis-settings.ts'
import { closeRedisConnection, createRedisConnection, waitForRedisReady } from '../../../gateway/redis/redis-connection.ts'
import { createTokenHasher } from '../../../gateway/tokens/token-hasher.ts'
import { createTokenStore, WRITE_READY_WAIT_MS, type IssuedToken, type TokenStore } from '../../../gateway/tokens/token-store.ts'
import { DependencyUnavailableError } from '../../../lib/scim-error.ts'
import { startRedisServer, startSentinelGroup } from '../../helpers/private-redis.ts'

const hasher = createTokenHasher([{ version: 'v1', secret: 'pepper-one' }], 'v1')
const BURST = 80

const burst = (store: TokenStore, label: string): Promise<PromiseSettledResult<IssuedToken>[]> =>
  Promise.allSettled(Array.from({ length: BURST }, (_, i) => store.create({ tenantId: `${label}-${i}`, region: 'EU1' })))

const failures = (results: readonly PromiseSettledResult<unknown>[]): string[] => results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).cause ?? r.reason)] : []))

t.test('a burst of concurrent token creations against a healthy Sentinel group all succeed and are replicated', async (t) => {
  const group = await startSentinelGroup(t)
  const config: RedisConfig = { mode: 'sentinel', sentinels: group.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: group.masterName }
  const commands = createRedisConnection(config, 'commands')
  const writes = createRedisConnection(config, 'commands', { connectionName: 'scimgate-test-writes' }) as Redis
  t.teardown(() => Promise.all([commands, writes].map(closeRedisConnection)))
  const unconfirmed: string[] = []
  const store = createTokenStore(commands, { keyPrefix: 'burst:', hasher, replicatedWrites: { connection: writes, replicas: 1, timeoutMs: 250, onUnconfirmed: (c) => unconfirmed.push(c.tokenId) } })

  // At once, as a gateway that has just started: the write connection is still asking the sentinels.
  t.not(writes.status, 'ready', 'the write connection is not ready yet')
  const early = await burst(store, 'early')
  t.same(failures(early), [], `all ${BURST} creations issued while the write connection connected succeeded`)

  await waitForRedisReady(commands, 5_000)
  const started = Date.now()
  const steady = await burst(store, 'steady')
  t.same(failures(steady), [], `all ${BURST} creations of a burst on a ready connection succeeded (${Date.now() - started} ms)`)
  t.ok(unconfirmed.length < BURST, `the replica confirmed most of them (${unconfirmed.length} unconfirmed)`)

  const primaryPort = await group.primaryPort()
  const replica = group.servers.find((s) => s.port !== primaryPort)!
  const onReplica = createRedisConnection({ mode: 'single', url: replica.url }, 'commands')
  t.teardown(() => closeRedisConnection(onReplica))
  await waitForRedisReady(onReplica, 5_000)
  const replicaView = createTokenStore(onReplica, { keyPrefix: 'burst:', hasher })
  const issued = [...early, ...steady].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  // A WAIT that timed out on a loaded machine leaves the replica a moment behind: give it that moment.
  const deadline = Date.now() + 5_000
  let missing = issued
  while (missing.length > 0 && Date.now() < deadline) {
    const found = await Promise.all(missing.map(async (i) => (await replicaView.lookup(i.token))?.tokenId === i.record.tokenId))
    missing = missing.filter((_, n) => !found[n])
    if (missing.length > 0) await sleep(100)
  }
  t.equal(issued.length, 2 * BURST, 'every creation was acknowledged')
  t.same(missing.map((i) => i.record.tokenId), [], 'and every token is on the replica')
})

t.test('with Redis gone, a token creation answers 503 with Retry-After within the short ready wait', async (t) => {
  const server = await startRedisServer(t)
  const writes = createRedisConnection({ mode: 'single', url: server.url }, 'commands') as Redis
  const commands = createRedisConnection({ mode: 'single', url: server.url }, 'commands')
  t.teardown(() => Promise.all([commands, writes].map(closeRedisConnection)))
  await Promise.all([commands, writes].map((c) => waitForRedisReady(c, 5_000)))
  const store = createTokenStore(commands, { keyPrefix: 'gone:', hasher, replicatedWrites: { connection: writes, replicas: 1, timeoutMs: 250, onUnconfirmed: () => {} } })
  await server.kill()
  while (writes.status === 'ready' || commands.status === 'ready') await sleep(20)
  const started = Date.now()
  const results = await burst(store, 'gone')
  const elapsed = Date.now() - started
  t.ok(
    results.every((r) => r.status === 'rejected' && r.reason instanceof DependencyUnavailableError && r.reason.headers['retry-after'] !== undefined),
    'every creation is refused as unavailable, with Retry-After',
  )
  t.ok(elapsed < WRITE_READY_WAIT_MS + 1_500, `within the ready wait, not one wait per creation (${elapsed} ms)`)
  const direct = createTokenStore(commands, { keyPrefix: 'gone:', hasher })
  await t.rejects(direct.create({ tenantId: 'acme', region: 'EU1' }), DependencyUnavailableError, 'so is one without replicated writes')
})
