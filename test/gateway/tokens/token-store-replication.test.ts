// Token changes with replicatedWrites, on private servers (a primary and its
// replica): confirmed by the replica while it is there; once it is gone a
// change still stands after the short WAIT and is reported as unconfirmed,
// and look-ups on the store's other connection are never held up by it.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { Redis } from 'ioredis'
import { closeRedisConnection, createRedisConnection, waitForRedisReady } from '../../../gateway/redis/redis-connection.ts'
import { createTokenHasher } from '../../../gateway/tokens/token-hasher.ts'
import { createTokenStore, type ReplicatedWrites } from '../../../gateway/tokens/token-store.ts'
import { startRedisServer } from '../../helpers/private-redis.ts'

const hasher = createTokenHasher([{ version: 'v1', secret: 'pepper-one' }], 'v1')
const WAIT_MS = 250

t.test('token changes wait briefly for the replica, report what it did not confirm, and block no look-up', async (t) => {
  const primary = await startRedisServer(t)
  const replica = await startRedisServer(t, { extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] })
  const connect = async (url: string): Promise<Redis> => {
    const connection = createRedisConnection({ mode: 'single', url }, 'commands') as Redis
    t.teardown(() => closeRedisConnection(connection))
    await waitForRedisReady(connection, 5_000)
    return connection
  }
  const [commands, writes, onReplica] = await Promise.all([connect(primary.url), connect(primary.url), connect(replica.url)])
  while (!(await onReplica.info('replication')).includes('master_link_status:up')) await sleep(50)

  const reports: Parameters<ReplicatedWrites['onUnconfirmed']>[0][] = []
  const store = createTokenStore(commands, { keyPrefix: 'repl:', hasher, replicatedWrites: { connection: writes, replicas: 1, timeoutMs: WAIT_MS, onUnconfirmed: (c) => reports.push(c) } })
  const replicaView = createTokenStore(onReplica, { keyPrefix: 'repl:', hasher })

  const confirmed = await store.create({ tenantId: 'acme', region: 'EU1' })
  t.same(reports, [], 'the replica confirmed the creation')
  t.equal((await replicaView.lookup(confirmed.token))?.tokenId, confirmed.record.tokenId, 'and holds the token once it is acknowledged')

  await replica.stop()
  while ((await commands.info('replication')).includes('connected_slaves:1')) await sleep(50)
  const started = Date.now()
  const creating = Promise.all([1, 2, 3].map(() => store.create({ tenantId: 'acme', region: 'EU1' })))
  await sleep(20)
  const lookupStarted = Date.now()
  t.equal((await store.lookup(confirmed.token))?.tokenId, confirmed.record.tokenId, 'a look-up meanwhile')
  const lookupMs = Date.now() - lookupStarted
  t.ok(lookupMs < WAIT_MS, `is not held up by the pending WAITs (${lookupMs} ms)`)
  const created = await creating
  const elapsed = Date.now() - started
  // The first is sent alone; the two that arrive during its WAIT share the next one.
  t.ok(elapsed >= 2 * WAIT_MS && elapsed < 3 * WAIT_MS + 1_500, `three creations waited ${WAIT_MS} ms for the replica, twice in all (${elapsed} ms), none timed out`)
  for (const { token, record } of created) t.equal((await store.lookup(token))?.tokenId, record.tokenId, 'an unconfirmed creation still stands')
  await store.revoke(confirmed.record.tokenId)
  t.same(
    reports.map((r) => [r.type, r.acknowledged]),
    [['create', 0], ['create', 0], ['create', 0], ['revoke', 0]],
    'every unconfirmed change is reported',
  )
  t.same(reports.map((r) => r.tokenId), [...created.map((c) => c.record.tokenId), confirmed.record.tokenId], 'by token id')
})
