import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { loadGatewayConfig, type GatewayConfig } from '../../config/gateway-config.ts'
import { DEFAULT_LIMITS, type RegionNodeConfig } from '../../config/node-config.ts'
import { loadRegionCatalog, parseRegionCatalog, type RegionCatalog } from '../../config/region-catalog.ts'
import { sha256Hex } from '../../gateway/admin/admin-credential.ts'
import { startGateway, type RunningGateway } from '../../gateway/server.ts'
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../lib/internal-identity.ts'
import { loggerOptions } from '../../lib/logger-options.ts'
import { createMetricsRegistry } from '../../lib/metrics/request-metrics.ts'
import { startOpsServer } from '../../lib/ops-server.ts'
import { buildRegionNode } from '../../region-node/app.ts'
import { httpRequest, type HttpResponse } from './http-request.ts'
import { createTestDatabase, testCursorKeys } from './test-database.ts'
import { deleteKeysUnderPrefix } from './redis-keys.ts'
import { gatewaySecretsEnv } from './test-secrets.ts'

export const ADMIN_TOKEN = 'test-admin-credential'

export interface Teardown {
  teardown(fn: () => unknown): void
}

export interface RunningNode {
  readonly region: string
  readonly app: FastifyInstance
  readonly url: string
  readonly databaseUrl: string
  /** The node's ops listener (/metrics, /livez, /readyz), with `ops: true`. */
  readonly opsUrl?: string
}

export interface TestSystem {
  readonly catalog: RegionCatalog
  readonly nodes: ReadonlyMap<string, RunningNode>
  readonly gateway: RunningGateway
  readonly gatewayConfig: GatewayConfig
  readonly keys: IdentityKeyPair
  readonly redisPrefix: string
  /** A Redis connection for inspecting the test's keys. */
  readonly redis: Redis
  /** Starts another gateway on the same catalog, Redis and keys (e.g. to test revocation across instances). */
  startGateway(env?: Record<string, string>): Promise<RunningGateway>
  /** A SCIM request through the gateway, as an identity provider sends it. */
  request(host: string, method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string>; gateway?: RunningGateway }): Promise<HttpResponse>
  createToken(tenantId: string, region: string, gateway?: RunningGateway): Promise<{ token: string; tokenId: string }>
  admin(method: string, path: string, body?: unknown, gateway?: RunningGateway): Promise<Response>
}

/**
 * The whole system over real sockets: a node per region (own database each,
 * listening on a free port), a gateway (and admin API) in front, Redis under
 * a key prefix of the test's own.
 */
export async function startSystem(
  t: Teardown,
  options: {
    regions?: readonly string[]
    env?: Record<string, string>
    redisUrl?: string
    logStream?: NodeJS.WritableStream
    /** The nodes' logs (pino JSON lines at info), for tests that read them. */
    nodeLogStream?: NodeJS.WritableStream
    /** Ops listeners (metrics, health) on free ports for the gateway (RunningGateway.opsUrl) and every node (RunningNode.opsUrl). */
    ops?: boolean
  } = {},
): Promise<TestSystem> {
  const defaults = loadRegionCatalog()
  const wanted = options.regions ?? defaults.regions.map((r) => r.code)
  const keys = await generateIdentityKeyPair()
  const nodes = new Map<string, RunningNode>()
  const upstreams = new Map<string, string>()
  await Promise.all(
    wanted.map(async (code) => {
      const region = defaults.byCode(code)
      if (region === undefined) throw new Error(`unknown region ${code}`)
      const db = await createTestDatabase(code)
      t.teardown(db.drop)
      const config: RegionNodeConfig = {
        region,
        host: '127.0.0.1',
        port: 0,
        database: { url: db.url, poolSize: 10, rowSecurityRole: 'scimgate_app', statementTimeoutMs: 30_000, connectionTimeoutMs: 2_000 },
        identityKeySet: { keys: [keys.publicJwk] },
        cursorKeys: testCursorKeys(),
        limits: DEFAULT_LIMITS,
        logLevel: 'silent',
      }
      const metricsRegistry = createMetricsRegistry()
      const logger = options.nodeLogStream === undefined ? false : { ...(loggerOptions('info', `region-node-${code}`, { region: code }) as object), stream: options.nodeLogStream }
      const app = await buildRegionNode(config, { logger, metricsRegistry })
      await app.listen({ host: '127.0.0.1', port: 0 })
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
      t.teardown(() => app.close())
      const ops = options.ops === true ? await startOpsServer({ host: '127.0.0.1', port: 0, registry: metricsRegistry, readiness: () => app.database.ping().then(() => undefined, () => 'database') }) : undefined
      if (ops !== undefined) t.teardown(() => ops.close())
      nodes.set(code, { region: code, app, url, databaseUrl: db.url, ...(ops === undefined ? {} : { opsUrl: ops.url }) })
      upstreams.set(code, url)
    }),
  )
  const catalog = parseRegionCatalog(
    {
      regions: defaults.regions
        .filter((r) => upstreams.has(r.code))
        .map((r, index) => ({ ...r, hostnames: [...r.hostnames], upstreams: [upstreams.get(r.code)!], nodePort: 20_000 + index })),
    },
    'test catalog',
  )
  const redisPrefix = `scimgate-test:${randomBytes(6).toString('hex')}:`
  const redis = new Redis(options.redisUrl ?? 'redis://127.0.0.1:6379')
  t.teardown(async () => {
    await deleteKeysUnderPrefix(redis, redisPrefix)
    redis.disconnect()
  })
  const baseEnv = {
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_HOST: '127.0.0.1',
    ADMIN_PORT: '0',
    REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
    SCIMGATE_REDIS_PREFIX: redisPrefix,
    ADMIN_TOKEN_SHA256: sha256Hex(ADMIN_TOKEN),
    LOG_LEVEL: 'silent',
    ...gatewaySecretsEnv(keys),
    ...options.env,
  }
  const launch = async (env: Record<string, string> = {}): Promise<RunningGateway> => {
    const config = loadGatewayConfig({ ...baseEnv, ...env }, catalog)
    const logger = options.logStream === undefined ? false : { ...(loggerOptions('trace', 'gateway') as object), stream: options.logStream }
    const running = await startGateway(config, { signingKey: keys.signingKey, logger, ...(options.ops === true ? { ops: { host: '127.0.0.1', port: 0 } } : {}) })
    t.teardown(() => running.close())
    return running
  }
  const gatewayConfig = loadGatewayConfig(baseEnv, catalog)
  const gateway = await launch()

  const admin = async (method: string, path: string, body?: unknown, via: RunningGateway = gateway): Promise<Response> =>
    fetch(`${via.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })

  return {
    catalog,
    nodes,
    gateway,
    gatewayConfig,
    keys,
    redisPrefix,
    redis,
    startGateway: launch,
    admin,
    async createToken(tenantId, region, via = gateway) {
      const response = await admin('POST', '/admin/v1/tokens', { tenantId, region }, via)
      if (response.status !== 201) throw new Error(`token create failed: ${response.status} ${await response.text()}`)
      const body = (await response.json()) as { token: string; tokenId: string }
      return { token: body.token, tokenId: body.tokenId }
    },
    async request(host, method, path, requestOptions = {}) {
      const via = requestOptions.gateway ?? gateway
      const headers: Record<string, string> = { host, ...requestOptions.headers }
      if (requestOptions.token !== undefined) headers.authorization = `Bearer ${requestOptions.token}`
      if (requestOptions.body !== undefined) headers['content-type'] ??= 'application/scim+json'
      const body = requestOptions.body === undefined ? undefined : typeof requestOptions.body === 'string' ? requestOptions.body : JSON.stringify(requestOptions.body)
      return httpRequest(`${via.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })
    },
  }
}
