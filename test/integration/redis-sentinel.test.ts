// Redis as operators run it with Sentinel: one primary, one replica, three
// sentinels (private processes on free ports). Two gateways in front of one
// region keep provisioning through a SENTINEL FAILOVER and a kill -9 of the
// primary: cached tokens always pass, unseen ones get 200 or 503 with
// Retry-After (never 401, never a hang); afterwards tokens, revocation on
// every gateway within a second, and the shared rate limit work.
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { RunningGateway } from '../../gateway/server.ts'
import { startSentinelGroup } from '../helpers/private-redis.ts'
import { startSystem, type TestSystem } from '../helpers/system.ts'

const EU1 = 'eu1.localhost'
const RATE_LIMIT = 60
/** Rate-limit windows are aligned to the clock: long ones, so a check rarely meets a window's end. */
const RATE_WINDOW_MS = 600_000
/** A request slower than this during the switch counts as a hang. */
const HANG_MS = 3_000
/** Consecutive unseen tokens verified that count as full service. */
const STEADY = 5
/** Requests with the cached token that make the observation meaningful. */
const MIN_CACHED = 5

interface Observed {
  cached: number[]
  unseen: number[]
  missingRetryAfter: number
  slowestMs: number
  /** From the end of the fault until an unseen token passed again. */
  recoveredAfterMs: number
}

/** While `fault` runs (and a moment after), a cached token and never-seen tokens are used in turn through the first gateway. */
async function provisionDuring(system: TestSystem, cachedToken: string, unseenTokens: string[], fault: () => Promise<unknown>): Promise<Observed> {
  const observed: Observed = { cached: [], unseen: [], missingRetryAfter: 0, slowestMs: 0, recoveredAfterMs: 0 }
  let running = true
  const timed = async (token: string): Promise<number> => {
    const started = Date.now()
    const response = await system.request(EU1, 'GET', '/scim/v2/Users?count=1', { token })
    observed.slowestMs = Math.max(observed.slowestMs, Date.now() - started)
    if (response.status === 503 && response.headers['retry-after'] === undefined) observed.missingRetryAfter++
    return response.status
  }
  const load = (async () => {
    while (running) {
      observed.cached.push(await timed(cachedToken))
      const unseen = unseenTokens.shift()
      if (unseen !== undefined) observed.unseen.push(await timed(unseen))
      await sleep(50)
    }
  })()
  await fault()
  // Until the gateway steadily verifies unseen tokens again (it reconnects by itself), for at most 15 s.
  const switched = Date.now()
  const steady = (): boolean => observed.unseen.length >= STEADY && observed.unseen.slice(-STEADY).every((status) => status === 200)
  const from = observed.unseen.length
  // (On a loaded machine a quick switch may leave few requests: go on until there are enough to judge.)
  while (!(steady() && observed.unseen.length - from >= STEADY && observed.cached.length > MIN_CACHED) && Date.now() - switched < 15_000) await sleep(50)
  observed.recoveredAfterMs = Date.now() - switched
  running = false
  await load
  return observed
}

function checkObserved(t: Test, observed: Observed): void {
  t.ok(observed.cached.length > MIN_CACHED, `${observed.cached.length} requests with the cached token`)
  // 429: its tenant used up the (small) rate limit of the test, which is past authentication too.
  t.same([...new Set(observed.cached)].filter((status) => status !== 200 && status !== 429), [], `the cached token always passed authentication (${summary(observed.cached)})`)
  t.same([...new Set(observed.unseen)].filter((status) => status !== 200 && status !== 503), [], `unseen tokens: only 200 or 503 (${summary(observed.unseen)})`)
  t.equal(observed.missingRetryAfter, 0, 'every 503 carries Retry-After')
  t.ok(observed.slowestMs < HANG_MS, `no hang (slowest ${observed.slowestMs} ms)`)
  t.same(observed.unseen.slice(-STEADY), Array(STEADY).fill(200), `full service again within ${observed.recoveredAfterMs} ms of the switch`)
}

const summary = (statuses: readonly number[]): string =>
  [...statuses.reduce((counts, status) => counts.set(status, (counts.get(status) ?? 0) + 1), new Map<number, number>())].map(([status, count]) => `${status}×${count}`).join(' ')

async function revocationReachesBoth(t: Test, system: TestSystem, second: RunningGateway): Promise<void> {
  const { token, tokenId } = await createTokenRetrying(system, 'acme')
  for (const gateway of [system.gateway, second]) t.equal(await statusOnceRecovered(system, token, gateway), 200, 'a new token works on both gateways')
  t.equal(await revokeRetrying(system, tokenId), 200, 'revoked')
  const started = Date.now()
  const refused = new Set<RunningGateway>()
  while (refused.size < 2 && Date.now() - started < 1_000) {
    for (const gateway of [system.gateway, second]) {
      if ((await system.request(EU1, 'GET', '/scim/v2/Users?count=1', { token, gateway })).status === 401) refused.add(gateway)
    }
  }
  t.equal(refused.size, 2, `the revocation reached both gateways within a second (${Date.now() - started} ms)`)
}

/** Tokens of a tenant each, straight into the store, all at once (as an admin script would). */
function createUnseenTokens(system: TestSystem, count: number): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, async (_, i) => (await system.gateway.tokenStore.create({ tenantId: `unseen-${i}`, region: 'EU1' })).token))
}

/** A token write right after a switch may get 503 with Retry-After (the gateway is reconnecting): retried, as an admin client would. */
async function createTokenRetrying(system: TestSystem, tenant: string): Promise<{ token: string; tokenId: string }> {
  const deadline = Date.now() + 15_000
  for (;;) {
    try {
      return await system.createToken(tenant, 'EU1')
    } catch (error) {
      if (Date.now() > deadline || !String(error).includes(' 503 ')) throw error
      await sleep(200)
    }
  }
}

async function revokeRetrying(system: TestSystem, tokenId: string): Promise<number> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const { status } = await system.admin('DELETE', `/admin/v1/tokens/${tokenId}`)
    if (status !== 503 || Date.now() > deadline) return status
    await sleep(200)
  }
}

/** A gateway that saw no traffic during the switch may still be reconnecting (503 meanwhile, for a few seconds at most). */
async function statusOnceRecovered(system: TestSystem, token: string, gateway: RunningGateway): Promise<number> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const { status } = await system.request(EU1, 'GET', '/scim/v2/Users?count=1', { token, gateway })
    if (status !== 503 || Date.now() > deadline) return status
    await sleep(100)
  }
}

/** Requests of one tenant spread over both gateways: the limit is shared, so together they are cut at RATE_LIMIT. */
async function sharedRateLimit(t: Test, system: TestSystem, second: RunningGateway, tenant: string): Promise<void> {
  const { token } = await createTokenRetrying(system, tenant)
  // A window ending halfway would split the count in two halves under the limit: start in a fresh one then.
  const windowLeftMs = RATE_WINDOW_MS - (Date.now() % RATE_WINDOW_MS)
  if (windowLeftMs < 30_000) await sleep(windowLeftMs + 100)
  const statuses: number[] = []
  for (const gateway of [system.gateway, second]) {
    // Paced over several 200 ms flushes, so each gateway learns the other's counts while it sends.
    for (let i = 0; i < RATE_LIMIT * 0.75; i++) {
      statuses.push((await system.request(EU1, 'GET', '/scim/v2/Users?count=1', { token, gateway })).status)
      await sleep(15)
    }
    // Both gateways add their counts to Redis every 200 ms.
    await sleep(500)
  }
  const accepted = statuses.filter((status) => status === 200).length
  t.ok(statuses.includes(429), `the shared limit cut in (${summary(statuses)})`)
  // Shared within a flush interval; a flush that failed during the switch is sent again later, and
  // counts on a primary killed before replicating are gone. Unshared, 90 would pass.
  t.ok(accepted < RATE_LIMIT * 1.5, `about ${RATE_LIMIT} accepted across both gateways (${accepted}; unshared would be ${RATE_LIMIT * 1.5})`)
}

t.test('Sentinel: failover and kill -9 of the primary under provisioning', async (t) => {
  const group = await startSentinelGroup(t)
  const system = await startSystem(t, { regions: ['EU1'], redisEnv: group.env, env: { RATE_LIMIT_PER_TENANT: String(RATE_LIMIT), RATE_LIMIT_WINDOW_MS: String(RATE_WINDOW_MS) } })
  const second = await system.startGateway()
  /** A token of a tenant of its own (so the rate limit stays out of the way), cached on both gateways. */
  const cachedToken = async (tenant: string): Promise<string> => {
    const { token } = await createTokenRetrying(system, tenant)
    for (const gateway of [system.gateway, second]) t.equal(await statusOnceRecovered(system, token, gateway), 200, 'cached on both gateways')
    return token
  }
  const unseen = await createUnseenTokens(system, 300)

  await t.test('SENTINEL FAILOVER', async (t) => {
    const before = await group.primaryPort()
    checkObserved(t, await provisionDuring(system, await cachedToken('cached-failover'), unseen, () => group.failover()))
    t.not(await group.primaryPort(), before, 'the replica is the primary now')
    await revocationReachesBoth(t, system, second)
    await sharedRateLimit(t, system, second, 'metered-after-failover')
  })

  await t.test('kill -9 of the primary', async (t) => {
    const before = await group.primaryPort()
    checkObserved(t, await provisionDuring(system, await cachedToken('cached-kill'), unseen, () => group.killPrimary()))
    t.not(await group.primaryPort(), before, 'the sentinels promoted the other server')
    await revocationReachesBoth(t, system, second)
    await sharedRateLimit(t, system, second, 'metered-after-kill')
  })
})
