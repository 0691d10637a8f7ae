// A Sentinel-mode connection on private servers (1 primary, 1 replica, 3
// sentinels): it moves to the promoted primary when the sentinels announce
// the switch, not seconds later when Sentinel converts the old primary (whose
// writes meanwhile would be lost), and a kill -9 of the primary, whose switch
// is announced while the connection is reconnecting, never ends it.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { Redis } from 'ioredis'
import { parseRedisConfig } from '../../../config/redis-settings.ts'
import { closeRedisConnection, createRedisConnection, waitForRedisReady } from '../../../gateway/redis/redis-connection.ts'
import { redisCommand, startSentinelGroup } from '../../helpers/private-redis.ts'

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) return false
    await sleep(20)
  }
  return true
}

t.test('a Sentinel connection follows SENTINEL FAILOVER at once and survives a kill -9 of the primary', async (t) => {
  const group = await startSentinelGroup(t)
  const connection = createRedisConnection(parseRedisConfig(group.env), 'commands') as Redis
  t.teardown(() => closeRedisConnection(connection))
  let ended = false
  connection.on('end', () => (ended = true))
  await waitForRedisReady(connection, 5_000)
  const on = (port: number) => (): boolean => connection.status === 'ready' && connection.stream.remotePort === port

  await group.failover()
  const promoted = await group.primaryPort()
  t.ok(await until(on(promoted), 2_000), 'on the promoted primary within 2 s of the announcement')
  await connection.set('switch-watch', 'after-failover')
  t.equal(await redisCommand(promoted, 'GET switch-watch'), '$14', 'the write landed on the promoted primary')

  await group.killPrimary()
  const survivor = await group.primaryPort()
  t.ok(await until(on(survivor), 5_000), `on the surviving server after the kill (status ${connection.status})`)
  t.notOk(ended, 'the connection never ended')
  t.equal(await connection.set('switch-watch', 'after-kill'), 'OK')
})
