import http from 'node:http'
import { latencyStats, type LatencyStats } from './stats.ts'

export interface BenchRequest {
  readonly method?: string
  readonly path: string
  readonly headers?: Record<string, string>
  readonly body?: unknown
}

export interface BenchResponse {
  readonly status: number
  readonly body: string
}

/** A keep-alive HTTP/1.1 client for one origin (it may set any Host header, which fetch may not). */
export class BenchClient {
  readonly #origin: URL
  readonly #agent: http.Agent

  constructor(origin: string, maxSockets = 1) {
    this.#origin = new URL(origin)
    this.#agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets })
  }

  request(request: BenchRequest): Promise<BenchResponse> {
    const body = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body)
    const headers: Record<string, string> = { ...request.headers }
    if (body !== undefined) {
      headers['content-type'] ??= 'application/scim+json'
      headers['content-length'] = String(Buffer.byteLength(body))
    }
    return new Promise((resolve, reject) => {
      const outgoing = http.request(
        { host: this.#origin.hostname, port: this.#origin.port, method: request.method ?? 'GET', path: request.path, headers, agent: this.#agent },
        (incoming) => {
          const chunks: Buffer[] = []
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
          incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
          incoming.on('error', reject)
        },
      )
      outgoing.on('error', reject)
      outgoing.end(body)
    })
  }

  /** Sends and checks the status; throws with the body otherwise. */
  async expect(request: BenchRequest, status: number | readonly number[]): Promise<BenchResponse> {
    const response = await this.request(request)
    const wanted = typeof status === 'number' ? [status] : status
    if (!wanted.includes(response.status)) {
      throw new Error(`${request.method ?? 'GET'} ${request.path} answered ${response.status}, expected ${wanted.join('/')}: ${response.body.slice(0, 300)}`)
    }
    return response
  }

  close(): void {
    this.#agent.destroy()
  }
}

export interface LatencyProbe {
  readonly client: BenchClient
  /** The request of sample `i` (lets probes rotate over keys). */
  readonly request: (i: number) => BenchRequest
  readonly status: number | readonly number[]
}

/**
 * Sequential requests over single keep-alive connections, timed with the
 * high-resolution clock. The probes take turns request by request, so drift of
 * the shared machine hits every probe alike.
 */
export async function compareLatency(probes: readonly LatencyProbe[], samples: number, warmup: number): Promise<LatencyStats[]> {
  const timings = probes.map(() => [] as number[])
  for (let i = 0; i < warmup + samples; i++) {
    for (const [index, probe] of probes.entries()) {
      const request = probe.request(i)
      const started = process.hrtime.bigint()
      await probe.client.expect(request, probe.status)
      const millis = Number(process.hrtime.bigint() - started) / 1e6
      if (i >= warmup) timings[index]!.push(millis)
    }
  }
  return timings.map(latencyStats)
}

/** Runs `work(i)` for i in [0, total) with `concurrency` in flight; reports progress every `every` items. */
export async function runConcurrently(total: number, concurrency: number, work: (i: number) => Promise<void>, onProgress?: (done: number) => void, every = 500): Promise<void> {
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++
      await work(i)
      done++
      if (onProgress !== undefined && (done % every === 0 || done === total)) onProgress(done)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
}
