import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { connect, createServer } from 'node:net'
import { Redis } from 'ioredis'
import pg from 'pg'
import { DEFAULT_LIMITS } from '../../config/node-config.ts'
import { sha256Hex } from '../../gateway/admin/admin-credential.ts'
import { generateIdentityKeyPair, signIdentity, IDENTITY_HEADER, type IdentityKeyPair } from '../../lib/internal-identity.ts'
import { dropDatabase, ensureDatabase } from '../../region-node/ensure-database.ts'
import { migrateDatabase } from '../../region-node/migrations/migrate.ts'
import type { Cleanup } from './cleanup.ts'
import { startChild, type BenchChild } from './child-process.ts'

export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const SHARED_REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
export const REGION = 'EU1'
export const REGION_HOST = 'eu1.localhost'
const ADMIN_CREDENTIAL = `bench-admin-${randomBytes(8).toString('hex')}`
export const RUN_ID = randomBytes(4).toString('hex')

export interface BenchDatabase {
  readonly url: string
  /** A superuser pool (bypasses row-level security) for seeding and inspection. */
  readonly admin: pg.Pool
}

/** A fresh migrated database `scimgate_bench_<label>_<run>`, dropped at cleanup. */
export async function createBenchDatabase(cleanup: Cleanup, label: string): Promise<BenchDatabase> {
  const url = new URL(POSTGRES_URL)
  url.pathname = `/scimgate_bench_${label}_${process.pid}_${RUN_ID}`
  await ensureDatabase(url.toString())
  cleanup.teardown(() => dropDatabase(url.toString(), 5_000))
  await migrateDatabase({ databaseUrl: url.toString() })
  const admin = new pg.Pool({ connectionString: url.toString(), max: 4, application_name: 'scimgate-bench' })
  // An idle session ended by the server (the database being dropped at cleanup) is no failure of the benchmark.
  admin.on('error', () => {})
  cleanup.teardown(() => admin.end())
  return { url: url.toString(), admin }
}

export interface BenchRedis {
  readonly url: string
  /** True when the bench runs its own redis-server, so INFO commandstats counts only the gateway. */
  readonly private: boolean
  readonly client: Redis
}

function canListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(undefined))
    server.listen(port, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : undefined))
    })
  })
}

let nextPort: number | undefined

/**
 * A free TCP port for a process the bench starts with a fixed port (redis-server, nginx): from
 * BENCH_PORTS (`36000-36999`) when set, so shared machines can give the bench a range; any free port otherwise.
 */
export async function freePort(): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env.BENCH_PORTS ?? '')
  if (range === null) {
    const port = await canListen(0)
    if (port === undefined) throw new Error('no free port')
    return port
  }
  const [low, high] = [Number(range[1]), Number(range[2])]
  for (let tries = 0; tries <= high - low; tries++) {
    const port = nextPort === undefined || nextPort > high || nextPort < low ? low : nextPort
    nextPort = port + 1
    if ((await canListen(port)) !== undefined) return port
  }
  throw new Error(`no free port in BENCH_PORTS ${process.env.BENCH_PORTS}`)
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A private redis-server when the binary is installed (BENCH_REDIS_URL forces a given server); the shared one otherwise. */
export async function startBenchRedis(cleanup: Cleanup): Promise<BenchRedis> {
  if (process.env.BENCH_REDIS_URL === undefined) {
    const port = await freePort()
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    const started = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.once('spawn', () => resolve(true))
    })
    if (started) {
      cleanup.teardown(() => {
        server.kill('SIGTERM')
      })
      const url = `redis://127.0.0.1:${port}`
      await waitForPort(port, 10_000)
      const client = new Redis(url, { maxRetriesPerRequest: 2 })
      client.on('error', () => undefined)
      cleanup.teardown(() => client.disconnect())
      return { url, private: true, client }
    }
  }
  const client = new Redis(SHARED_REDIS_URL)
  client.on('error', () => undefined)
  cleanup.teardown(() => client.disconnect())
  return { url: SHARED_REDIS_URL, private: false, client }
}

export interface BenchKeys extends IdentityKeyPair {
  /** The node-side header of a tenant, signed for an hour (for driving the node directly). */
  identityHeaders(tenantId: string): Promise<Record<string, string>>
}

export async function createBenchKeys(): Promise<BenchKeys> {
  const keys = await generateIdentityKeyPair()
  return {
    ...keys,
    async identityHeaders(tenantId) {
      return { [IDENTITY_HEADER]: await signIdentity(keys.signingKey, { tenantId, tokenId: 'tok-bench', region: REGION, scopes: ['scim'] }, 3600) }
    },
  }
}

export async function startNodeProcess(cleanup: Cleanup, name: string, database: BenchDatabase, keys: BenchKeys, poolSize = 10, eventLog = true): Promise<{ url: string; child: BenchChild }> {
  const child = await startChild(name, 'region-node.ts', { region: REGION, databaseUrl: database.url, publicJwk: keys.publicJwk, poolSize, eventLog })
  cleanup.teardown(() => child.stop())
  return { url: String(child.details.url), child }
}

export interface GatewayProcess {
  readonly url: string
  readonly adminUrl: string
  readonly redisPrefix: string
  readonly child: BenchChild
  createToken(tenantId: string): Promise<string>
}

/**
 * The gateway in front of one node. The per-tenant rate limit is raised far
 * above what a benchmark sends (the default, 12,000 a minute, would turn load into 429s).
 */
export async function startGatewayProcess(cleanup: Cleanup, upstream: string, keys: BenchKeys, redis: BenchRedis, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const redisPrefix = `scimgate-bench:${RUN_ID}:${randomBytes(3).toString('hex')}:`
  cleanup.teardown(async () => {
    const left = await redis.client.keys(`${redisPrefix}*`)
    if (left.length > 0) await redis.client.del(...left)
  })
  const child = await startChild('gateway', 'gateway.ts', {
    region: REGION,
    upstream,
    privateJwk: keys.privateJwk,
    env: {
      REDIS_URL: redis.url,
      SCIMGATE_REDIS_PREFIX: redisPrefix,
      ADMIN_TOKEN_SHA256: sha256Hex(ADMIN_CREDENTIAL),
      RATE_LIMIT_PER_TENANT: '10000000',
      // Real secrets, as a deployment has them: the gateway refuses to start without.
      TOKEN_PEPPERS: JSON.stringify([{ version: 'bench', secret: randomBytes(32).toString('base64') }]),
      IDENTITY_SIGNING_KEY: JSON.stringify(keys.privateJwk),
      ...env,
    },
  })
  cleanup.teardown(() => child.stop())
  const adminUrl = String(child.details.adminUrl)
  return {
    url: String(child.details.url),
    adminUrl,
    redisPrefix,
    child,
    async createToken(tenantId) {
      const response = await fetch(`${adminUrl}/admin/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_CREDENTIAL}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenantId, region: REGION }),
      })
      if (response.status !== 201) throw new Error(`token create failed: ${response.status} ${await response.text()}`)
      return ((await response.json()) as { token: string }).token
    },
  }
}

export async function startFloorProcess(cleanup: Cleanup, database: BenchDatabase, keys: BenchKeys, poolSize = 10, eventLog = true): Promise<{ url: string; child: BenchChild }> {
  const child = await startChild('floor', 'floor.ts', { region: REGION, databaseUrl: database.url, publicJwk: keys.publicJwk, poolSize, eventLog, maxMembersInResponse: DEFAULT_LIMITS.maxMembersInResponse })
  cleanup.teardown(() => child.stop())
  return { url: String(child.details.url), child }
}

export async function startPlainProxyProcess(cleanup: Cleanup, upstream: string): Promise<{ url: string; child: BenchChild }> {
  const child = await startChild('plain-proxy', 'plain-proxy.ts', { upstream })
  cleanup.teardown(() => child.stop())
  return { url: String(child.details.url), child }
}

/** The least Node proxy (node:http + an undici Pool, no fastify): what Node itself reaches as a hop. */
export async function startMinimalProxyProcess(cleanup: Cleanup, upstream: string): Promise<{ url: string; child: BenchChild }> {
  const child = await startChild('minimal-proxy', 'minimal-proxy.ts', { upstream })
  cleanup.teardown(() => child.stop())
  return { url: String(child.details.url), child }
}
