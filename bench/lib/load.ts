import http from 'node:http'
import autocannon, { type AutocannonRequest } from 'autocannon'
import { startCpu, type CpuPerRequest, type CpuScope } from './cpu.ts'

export interface LoadTarget {
  readonly label: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly method?: string
  readonly body?: string
  /** Rewrites each request before it is sent (rotating ids, fresh userNames). */
  readonly setupRequest?: (request: AutocannonRequest) => AutocannonRequest
  /** A GET answered 200 that tells when the server is idle again (default: `url` itself). */
  readonly idleProbe?: { readonly url: string; readonly headers: Record<string, string> }
  /** Whose CPU counts for this target (omitted: no CPU figures). */
  readonly cpu?: CpuScope
}

export interface LoadResult {
  readonly requestsPerSecond: number
  readonly latencyP50: number
  readonly latencyP99: number
  readonly non2xx: number
  readonly errors: number
  readonly cpu?: CpuPerRequest
}

function probeOnce(target: LoadTarget): Promise<boolean> {
  const probe = target.idleProbe ?? target
  return new Promise((resolve) => {
    const request = http.get(probe.url, { headers: probe.headers, agent: false, timeout: 10_000 }, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode === 200))
    })
    request.on('error', () => resolve(false))
    request.on('timeout', () => request.destroy())
  })
}

/**
 * autocannon stops sending at the deadline, but the server still works through
 * what is queued on the closed sockets: wait until one request is answered
 * quickly again, so the next run does not start on a busy server.
 */
async function waitUntilIdle(target: LoadTarget, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const started = performance.now()
    const ok = await probeOnce(target)
    if (ok && performance.now() - started < 200) return
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/**
 * One autocannon run (after a short warm-up at the same settings); refuses results with failures. CPU
 * is read from /proc right before and right after the measured run and divided by the responses it
 * received (what is still in flight at the deadline is a few hundred requests of tens of thousands).
 */
export async function measureLoad(target: LoadTarget, settings: { connections: number; pipelining: number; durationS: number; warmupS: number }): Promise<LoadResult> {
  const request: AutocannonRequest = {
    method: target.method ?? 'GET',
    headers: target.headers,
    ...(target.body === undefined ? {} : { body: target.body }),
    ...(target.setupRequest === undefined ? {} : { setupRequest: target.setupRequest }),
  }
  const base = { url: target.url, connections: settings.connections, pipelining: settings.pipelining, timeout: 30, requests: [request] }
  if (settings.warmupS > 0) {
    await autocannon({ ...base, duration: settings.warmupS })
    await waitUntilIdle(target)
  }
  const cpu = target.cpu === undefined ? undefined : await startCpu(target.cpu)
  const result = await autocannon({ ...base, duration: settings.durationS })
  const cpuPerRequest = await cpu?.stop(result.requests.total)
  await waitUntilIdle(target)
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${target.label}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts under load`)
  }
  return {
    requestsPerSecond: result.requests.total / result.duration,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    ...(cpuPerRequest === undefined ? {} : { cpu: cpuPerRequest }),
  }
}

/** The median of each CPU figure over runs (null PostgreSQL figures stay null). */
export function medianCpu(runs: readonly LoadResult[]): CpuPerRequest | undefined {
  const cpus = runs.flatMap((r) => (r.cpu === undefined ? [] : [r.cpu]))
  if (cpus.length === 0) return undefined
  const mid = (values: number[]): number => values.sort((a, b) => a - b)[Math.ceil(values.length / 2) - 1]!
  const postgres = cpus.map((c) => c.postgresMs)
  return { processMs: mid(cpus.map((c) => c.processMs)), postgresMs: postgres.includes(null) ? null : mid(postgres as number[]) }
}
