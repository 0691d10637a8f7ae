import t from 'tap'
import { ConfigError } from '../../../config/config-error.ts'
import { parseRedisConfig } from '../../../config/redis-settings.ts'
import { closeRedisConnection, createRedisConnection, reconnectDelay, waitForRedisReady } from '../../../gateway/redis/redis-connection.ts'

t.test('parseRedisConfig', async (t) => {
  const good: [string, Record<string, string>, unknown][] = [
    ['default', {}, { mode: 'single', url: 'redis://127.0.0.1:6379' }],
    ['url', { REDIS_URL: 'rediss://:pw@cache:6380/2' }, { mode: 'single', url: 'rediss://:pw@cache:6380/2' }],
    [
      'sentinel',
      { REDIS_SENTINELS: 'a:26379, b:26380', REDIS_SENTINEL_NAME: 'mymaster', REDIS_PASSWORD: 'pw' },
      { mode: 'sentinel', sentinels: [{ host: 'a', port: 26379 }, { host: 'b', port: 26380 }], name: 'mymaster', password: 'pw' },
    ],
    ['cluster', { REDIS_CLUSTER_NODES: '10.0.0.1:7000,[::1]:7001' }, { mode: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '::1', port: 7001 }] }],
  ]
  for (const [name, env, expected] of good) t.same(parseRedisConfig(env), expected, name)

  const bad: [string, Record<string, string>, RegExp[]][] = [
    ['not a url', { REDIS_URL: 'not a url' }, [/REDIS_URL is not a valid URL/]],
    ['wrong scheme', { REDIS_URL: 'http://x' }, [/redis:\/\//]],
    ['two modes', { REDIS_URL: 'redis://x', REDIS_CLUSTER_NODES: 'a:1' }, [/only one of/]],
    ['sentinel without name, bad host', { REDIS_SENTINELS: 'a:1,b' }, [/REDIS_SENTINEL_NAME is required/, /"b" is not host:port/]],
    ['port out of range', { REDIS_CLUSTER_NODES: 'a:70000' }, [/not host:port/]],
    ['stray name', { REDIS_SENTINEL_NAME: 'm' }, [/REDIS_SENTINELS is not/]],
    ['password in single mode', { REDIS_PASSWORD: 'pw' }, [/REDIS_URL instead/]],
  ]
  for (const [name, env, messages] of bad) {
    try {
      parseRedisConfig(env)
      t.fail(`${name}: accepted`)
    } catch (error) {
      t.ok(error instanceof ConfigError, name)
      for (const m of messages) t.match((error as ConfigError).message, m, name)
      t.equal((error as ConfigError).problems.length, messages.length, `${name}: every problem listed`)
    }
  }
  try {
    parseRedisConfig({ REDIS_URL: 'redis://user:s3cret@:bad' })
  } catch (error) {
    t.notMatch((error as Error).message, /s3cret/, 'no password in messages')
  }
})

t.test('reconnectDelay grows, is capped, never gives up', async (t) => {
  t.ok(reconnectDelay(1) < 150)
  for (const attempt of [10, 100, 10_000]) {
    const delay = reconnectDelay(attempt)
    t.ok(delay > 0 && delay <= 2_400, `attempt ${attempt}: ${delay} ms`)
  }
})

t.test('a connection to a dead server fails fast and does not crash the process', async (t) => {
  const errors: Error[] = []
  const connection = createRedisConnection({ mode: 'single', url: 'redis://127.0.0.1:1' }, 'commands', { onError: (e) => errors.push(e) })
  const started = Date.now()
  await t.rejects(connection.get('x'))
  t.ok(Date.now() - started < 100, 'no offline queue')
  await t.rejects(waitForRedisReady(connection, 300), /not reachable/)
  t.ok(errors.length > 0, 'errors reach the listener')
  t.ok(['reconnecting', 'connecting', 'connect'].includes(connection.status), `still trying (${connection.status})`)
  await closeRedisConnection(connection)
  let attempts = 0
  connection.on('reconnecting', () => attempts++)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(attempts, 0, 'no more reconnection attempts after close')
})

t.test('a live connection becomes ready and closes', async (t) => {
  const connection = createRedisConnection({ mode: 'single', url: 'redis://127.0.0.1:6379' }, 'commands')
  await waitForRedisReady(connection, 5_000)
  t.equal(await connection.ping(), 'PONG')
  await closeRedisConnection(connection)
  t.equal(connection.status, 'end')
})
