// Redis Cluster as operators run it (three primaries, private processes on
// free ports): tokens are created, verified and revoked through the admin API,
// revocation reaches two gateways through pub/sub, the rate limit is shared,
// and the keys one operation touches together live in one hash slot.
import { spawnSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { startRedisCluster } from '../helpers/private-redis.ts'
import { startSystem } from '../helpers/system.ts'

const EU1 = 'eu1.localhost'
const RATE_LIMIT = 20

/** Every key under `prefix` on every primary. */
function keysOnCluster(ports: readonly number[], prefix: string): string[] {
  return ports.flatMap((port) => spawnSync('redis-cli', ['-p', String(port), '--scan', '--pattern', `${prefix}*`], { encoding: 'utf8' }).stdout.split('\n').filter((key) => key !== ''))
}

t.test('Redis Cluster: tokens, revocation on every gateway, the shared rate limit, one slot per unit of work', async (t) => {
  const cluster = await startRedisCluster(t)
  const system = await startSystem(t, { regions: ['EU1'], redisEnv: cluster.env, env: { RATE_LIMIT_PER_TENANT: String(RATE_LIMIT), RATE_LIMIT_WINDOW_MS: '60000' } })
  const second = await system.startGateway()
  const users = '/scim/v2/Users?count=1'

  const { token, tokenId } = await system.createToken('acme', 'EU1')
  for (const gateway of [system.gateway, second]) t.equal((await system.request(EU1, 'GET', users, { token, gateway })).status, 200, 'a token created in the Cluster is verified by both gateways')
  const listed = (await (await system.admin('GET', '/admin/v1/tokens?tenant=acme&region=EU1')).json()) as { tokens: { tokenId: string }[] }
  t.ok(listed.tokens.some((entry) => entry.tokenId === tokenId), 'and listed')
  const rotated = (await (await system.admin('POST', `/admin/v1/tokens/${tokenId}/rotate`)).json()) as { token: string; tokenId: string }
  t.equal((await system.request(EU1, 'GET', users, { token: rotated.token })).status, 200, 'a rotated token works')

  t.equal((await system.admin('DELETE', `/admin/v1/tokens/${tokenId}`)).status, 200, 'revoked')
  const started = Date.now()
  const refusedBy = new Set<unknown>()
  while (refusedBy.size < 2 && Date.now() - started < 1_000) {
    for (const gateway of [system.gateway, second]) if ((await system.request(EU1, 'GET', users, { token, gateway })).status === 401) refusedBy.add(gateway)
  }
  t.equal(refusedBy.size, 2, `revocation reached both gateways through Cluster pub/sub in ${Date.now() - started} ms`)

  const metered = await system.createToken('metered', 'EU1')
  const statuses: number[] = []
  const ports = cluster.nodes.map((node) => node.port)
  /** What every gateway has added to the tenant's counter in Redis so far. */
  const counted = (): number =>
    keysOnCluster(ports, `${system.redisPrefix}rate:{EU1:metered}:`).reduce((sum, key) => sum + Number(spawnSync('redis-cli', ['-c', '-p', String(ports[0]), 'GET', key], { encoding: 'utf8' }).stdout.trim() || 0), 0)
  for (const gateway of [system.gateway, second]) {
    // Paced over several 200 ms flushes, so each gateway learns the other's counts while it sends.
    for (let i = 0; i < RATE_LIMIT * 0.75; i++) {
      statuses.push((await system.request(EU1, 'GET', users, { token: metered.token, gateway })).status)
      await sleep(15)
    }
    // Each gateway adds its counts to Redis every 200 ms (later when a flush fails): wait until they are there.
    for (let attempt = 0; attempt < 50 && counted() < statuses.length; attempt++) await sleep(100)
  }
  t.ok(statuses.includes(429), 'the per-tenant limit is shared by both gateways (each alone stayed under it)')
  // The second gateway learns the first one's counts at its first 200 ms flush: until then it may accept what it
  // sends in one flush interval (up to about 13 paced requests), never all of its 15 as an unshared limit would.
  const accepted = statuses.filter((status) => status === 200).length
  t.ok(accepted < RATE_LIMIT * 1.5, `about the limit was accepted (${accepted}; unshared, all ${statuses.length} would pass)`)
  // A second tenant's counter flushed in the same batch: Cluster pipelines stay within one slot each.
  t.equal((await system.request(EU1, 'GET', users, { token: rotated.token })).status, 200, 'another tenant is not limited')

  const tokenKeys = keysOnCluster(ports, `${system.redisPrefix}{tokens}:`)
  t.ok(tokenKeys.length >= 6, `${tokenKeys.length} token-store keys`)
  t.equal(new Set(tokenKeys.map((key) => cluster.keySlot(key))).size, 1, 'every token-store key in one slot (MULTI and MGET across them work)')
  const rateKeys = keysOnCluster(ports, `${system.redisPrefix}rate:`)
  const meteredKeys = rateKeys.filter((key) => key.includes('{EU1:metered}'))
  t.ok(meteredKeys.length >= 1, `the metered tenant's counters are tagged ${meteredKeys.join(', ')}`)
  t.equal(new Set(meteredKeys.map((key) => cluster.keySlot(key))).size, 1, "a tenant's counters share a slot")
  t.ok(rateKeys.every((key) => /\{EU1:[^}]+\}:\d+$/.test(key)), 'every counter carries its tenant as hash tag')
})
