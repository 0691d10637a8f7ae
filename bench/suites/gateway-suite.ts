// Gateway cost: throughput and added latency against the same request straight
// to the node, through a default @fastify/http-proxy, through nginx
// proxy_pass (issue 12's baseline) and through the least Node proxy (node:http +
// an undici Pool: what Node itself reaches as a hop on this machine), with CPU
// per request beside each, and Redis commands per request once the token is cached.
import { Cleanup } from '../lib/cleanup.ts'
import { BenchClient, compareLatency, type LatencyProbe } from '../lib/http-client.ts'
import { withChildren, type CpuScope } from '../lib/cpu.ts'
import { measureLoad, medianCpu, type LoadResult, type LoadTarget } from '../lib/load.ts'
import { nginxAvailable, NGINX_BINARY, NGINX_INSTALL_HINT, startNginx } from '../lib/nginx.ts'
import type { Progress } from '../lib/progress.ts'
import { commandCalls, commandDelta } from '../lib/redis-stats.ts'
import { atLeast, info, notMeasured, round, withCpu, type BenchResult } from '../lib/result.ts'
import { seedUsers, userIds } from '../lib/seed.ts'
import { createBenchDatabase, createBenchKeys, REGION_HOST, startBenchRedis, startGatewayProcess, startNodeProcess, startMinimalProxyProcess, startPlainProxyProcess } from '../lib/services.ts'
import type { BenchSizes } from '../lib/sizes.ts'
import { median, roundOrder } from '../lib/stats.ts'

const TENANT = 'bench-gateway'
const THROUGHPUT_TARGET = 0.45
const NGINX_THROUGHPUT_TARGET = 0.85
const TARGET_KEYS = ['direct', 'gateway', 'plain', 'minimal', 'nginx'] as const
type TargetKey = (typeof TARGET_KEYS)[number]
const ADDED_P50_TARGET_MS = 0.25

const LOAD_SETTINGS = [
  { label: '-c100 -p10', connections: 100, pipelining: 10 },
  { label: '-c50', connections: 50, pipelining: 1 },
] as const

export async function runGatewaySuite(sizes: BenchSizes, progress: Progress): Promise<BenchResult[]> {
  const cleanup = new Cleanup()
  try {
    progress.step('gateway: starting PostgreSQL database, Redis, node, gateway and a plain proxy')
    const database = await createBenchDatabase(cleanup, 'gateway')
    await seedUsers(database.admin, TENANT, 1000, progress)
    const [userId] = await userIds(database.admin, TENANT, 500, 500)
    const keys = await createBenchKeys()
    const redis = await startBenchRedis(cleanup)
    const node = await startNodeProcess(cleanup, 'node-gateway-suite', database, keys)
    const gateway = await startGatewayProcess(cleanup, node.url, keys, redis)
    const plain = await startPlainProxyProcess(cleanup, node.url)
    const minimal = await startMinimalProxyProcess(cleanup, node.url)
    const nginx = nginxAvailable() ? await startNginx(cleanup, node.url) : undefined
    if (nginx === undefined) progress.step(`gateway: no nginx at ${NGINX_BINARY}: the nginx rows are not measured; ${NGINX_INSTALL_HINT}`)
    const token = await gateway.createToken(TENANT)
    const identity = await keys.identityHeaders(TENANT)
    const path = `/scim/v2/Users/${userId}`
    // CPU of the processes a request passes through: the proxy (if any) and the node.
    const cpu = (...pids: (() => number[])[]): CpuScope => ({ pids: () => [node.child.pid, ...pids.flatMap((p) => p())], database: database.admin })
    const targets: Record<TargetKey, LoadTarget | undefined> = {
      direct: { label: 'direct', url: `${node.url}${path}`, headers: identity, cpu: cpu() },
      gateway: { label: 'gateway', url: `${gateway.url}${path}`, headers: { host: REGION_HOST, authorization: `Bearer ${token}` }, cpu: cpu(() => [gateway.child.pid]) },
      plain: { label: '@fastify/http-proxy', url: `${plain.url}${path}`, headers: identity, cpu: cpu(() => [plain.child.pid]) },
      minimal: { label: 'minimal Node proxy', url: `${minimal.url}${path}`, headers: identity, cpu: cpu(() => [minimal.child.pid]) },
      nginx: nginx === undefined ? undefined : { label: 'nginx proxy_pass', url: `${nginx.url}${path}`, headers: identity, cpu: cpu(() => withChildren(nginx.pid)) },
    }
    const measured = TARGET_KEYS.filter((key) => targets[key] !== undefined)

    const results: BenchResult[] = []
    for (const setting of LOAD_SETTINGS) {
      const runs: Record<TargetKey, LoadResult[]> = { direct: [], gateway: [], plain: [], minimal: [], nginx: [] }
      for (let round = 1; round <= sizes.load.rounds; round++) {
        for (const key of roundOrder(measured, round)) {
          progress.step(`gateway: load ${setting.label} → ${targets[key]!.label} (round ${round}/${sizes.load.rounds}, ${sizes.load.durationS}s)`)
          runs[key].push(await measureLoad(targets[key]!, { ...setting, durationS: sizes.load.durationS, warmupS: sizes.load.warmupS }))
        }
      }
      const rps = (key: TargetKey): number => median(runs[key].map((r) => r.requestsPerSecond))
      const context = {
        directRps: Math.round(rps('direct')),
        gatewayRps: Math.round(rps('gateway')),
        plainProxyRps: Math.round(rps('plain')),
        minimalNodeProxyRps: Math.round(rps('minimal')),
        ...(nginx === undefined ? { nginx: `not measured: ${NGINX_INSTALL_HINT}` } : { nginxRps: Math.round(rps('nginx')) }),
        gatewayLatencyP99Ms: median(runs.gateway.map((r) => r.latencyP99)),
        directLatencyP99Ms: median(runs.direct.map((r) => r.latencyP99)),
      }
      results.push(withCpu(atLeast(`gateway throughput GET /Users/{id} ${setting.label}`, rps('gateway'), rps('direct'), THROUGHPUT_TARGET, 'req/s', 'direct', context), medianCpu(runs.gateway), medianCpu(runs.direct)))
      results.push(withCpu(info(`  baseline: @fastify/http-proxy (default) ${setting.label}`, rps('plain'), rps('direct'), 'req/s', { note: 'ratio = plain proxy / direct' }), medianCpu(runs.plain), medianCpu(runs.direct)))
      results.push(
        withCpu(info(`  reach: gateway vs the minimal Node proxy ${setting.label}`, rps('gateway'), rps('minimal'), 'req/s', { note: 'ratio = gateway / minimal Node proxy (node:http + undici Pool, no fastify, no auth): the share of what Node itself does that the gateway reaches' }), medianCpu(runs.gateway), medianCpu(runs.minimal)),
      )
      const versusNginx = `gateway throughput ${setting.label} vs nginx proxy_pass (keep-alive upstream) in front of the same node`
      if (nginx === undefined) {
        results.push(notMeasured(versusNginx, `≥ ${NGINX_THROUGHPUT_TARGET} × nginx`, 'req/s', `no nginx at ${NGINX_BINARY}: ${NGINX_INSTALL_HINT}`))
      } else {
        results.push(withCpu(atLeast(versusNginx, rps('gateway'), rps('nginx'), NGINX_THROUGHPUT_TARGET, 'req/s', 'nginx', context), medianCpu(runs.gateway), medianCpu(runs.nginx)))
        results.push(withCpu(info(`  baseline: nginx proxy_pass ${setting.label} vs direct`, rps('nginx'), rps('direct'), 'req/s', { note: 'ratio = nginx / direct; one nginx worker, upstream keepalive 64' }), medianCpu(runs.nginx), medianCpu(runs.direct)))
        results.push(
          withCpu(info(`  reach: minimal Node proxy vs nginx proxy_pass ${setting.label}`, rps('minimal'), rps('nginx'), 'req/s', { note: 'ratio = minimal Node proxy / nginx: what Node itself reaches of nginx on this machine (the ceiling of any Node gateway)' }), medianCpu(runs.minimal), medianCpu(runs.nginx)),
        )
      }
    }

    progress.step(`gateway: latency probes (${sizes.latency.samples} sequential requests each, one keep-alive connection)`)
    const probe = (target: LoadTarget): LatencyProbe => {
      const url = new URL(target.url)
      return { client: new BenchClient(url.origin), request: () => ({ path: url.pathname, headers: target.headers }), status: 200 }
    }
    const probes = measured.map((key) => probe(targets[key]!))
    const latencies = await compareLatency(probes, sizes.latency.samples, sizes.latency.warmup)
    for (const p of probes) p.client.close()
    const latency = (key: TargetKey) => latencies[measured.indexOf(key)]
    const direct = latency('direct')!
    const viaGateway = latency('gateway')!
    const viaPlain = latency('plain')!
    const viaMinimal = latency('minimal')!
    const added = viaGateway.p50 - direct.p50
    results.push({
      name: 'added p50 latency, gateway hop (warm token cache)',
      value: round(viaGateway.p50),
      baseline: round(direct.p50),
      ratio: round(viaGateway.p50 / direct.p50),
      target: `≤ +${ADDED_P50_TARGET_MS} ms over direct`,
      met: added <= ADDED_P50_TARGET_MS,
      unit: 'ms p50',
      context: { addedMs: round(added), gatewayP90Ms: round(viaGateway.p90), directP90Ms: round(direct.p90), gatewayP99Ms: round(viaGateway.p99), directP99Ms: round(direct.p99) },
    })
    results.push(info('  baseline: added p50, @fastify/http-proxy hop', viaPlain.p50, direct.p50, 'ms p50', { addedMs: round(viaPlain.p50 - direct.p50) }))
    results.push(info('  baseline: added p50, minimal Node proxy hop', viaMinimal.p50, direct.p50, 'ms p50', { addedMs: round(viaMinimal.p50 - direct.p50) }))
    const hopName = 'added p50 of the gateway hop vs nginx\'s added p50'
    const hopTarget = `≤ nginx's + ${ADDED_P50_TARGET_MS} ms`
    const viaNginx = latency('nginx')
    if (viaNginx === undefined) {
      results.push(notMeasured(hopName, hopTarget, 'ms', `no nginx at ${NGINX_BINARY}: ${NGINX_INSTALL_HINT}`))
    } else {
      const nginxAdded = viaNginx.p50 - direct.p50
      results.push({
        name: hopName,
        value: round(added),
        baseline: round(nginxAdded),
        ratio: null,
        target: hopTarget,
        met: added <= nginxAdded + ADDED_P50_TARGET_MS,
        unit: 'ms',
        context: { gatewayP50Ms: round(viaGateway.p50), nginxP50Ms: round(viaNginx.p50), minimalNodeProxyP50Ms: round(viaMinimal.p50), directP50Ms: round(direct.p50), nginxP90Ms: round(viaNginx.p90) },
      })
    }

    progress.step(`gateway: Redis commands over ${sizes.redisRequests} requests with a warm token cache`)
    const client = new BenchClient(gateway.url)
    const request = { path, headers: targets.gateway!.headers }
    await client.expect(request, 200)
    const before = await commandCalls(redis.client)
    for (let i = 0; i < sizes.redisRequests; i++) await client.expect(request, 200)
    const delta = commandDelta(before, await commandCalls(redis.client))
    client.close()
    const total = [...delta.values()].reduce((sum, v) => sum + v, 0)
    const perRequest = total / sizes.redisRequests
    results.push({
      name: 'Redis commands per request (warm token cache)',
      value: round(perRequest),
      baseline: null,
      ratio: null,
      target: '0',
      met: total === 0,
      unit: 'commands/req',
      context: { byCommand: Object.fromEntries(delta), requests: sizes.redisRequests, redis: redis.private ? 'private redis-server (exact)' : 'shared Redis (other clients may add commands)' },
    })
    return results
  } finally {
    progress.step('gateway: cleaning up')
    await cleanup.run()
  }
}
