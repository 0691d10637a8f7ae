import http from 'node:http'
import autocannon from 'autocannon'

export interface LoadTarget {
  readonly label: string
  readonly url: string
  readonly headers: Record<string, string>
}

export interface LoadResult {
  readonly requestsPerSecond: number
  readonly latencyP50: number
  readonly latencyP99: number
  readonly non2xx: number
  readonly errors: number
}

function probeOnce(target: LoadTarget): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(target.url, { headers: target.headers, agent: false, timeout: 10_000 }, (response) => {
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

/** One autocannon run (after a short warm-up at the same settings); refuses results with failures. */
export async function measureLoad(target: LoadTarget, settings: { connections: number; pipelining: number; durationS: number; warmupS: number }): Promise<LoadResult> {
  const base = { url: target.url, headers: target.headers, connections: settings.connections, pipelining: settings.pipelining, timeout: 30 }
  if (settings.warmupS > 0) {
    await autocannon({ ...base, duration: settings.warmupS })
    await waitUntilIdle(target)
  }
  const result = await autocannon({ ...base, duration: settings.durationS })
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
  }
}
