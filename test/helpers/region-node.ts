import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Registry } from 'prom-client'
import { DEFAULT_EVENT_LOG, DEFAULT_LIMITS, type DatabaseConfig, type EventLogConfig, type RegionNodeConfig, type ScimLimits } from '../../config/node-config.ts'
import type { CursorKeys } from '../../config/cursor-keys.ts'
import { loadRegionCatalog } from '../../config/region-catalog.ts'
import { IDENTITY_HEADER, generateIdentityKeyPair, signIdentity, type IdentityKeyPair, type IdentityScope } from '../../lib/internal-identity.ts'
import { buildRegionNode } from '../../region-node/app.ts'
import { createTestDatabase, TEST_DATABASE_SETTINGS, testCursorKeys } from './test-database.ts'

export interface TestNode {
  readonly app: FastifyInstance
  readonly config: RegionNodeConfig
  readonly keys: IdentityKeyPair
  /** A signed identity header for a tenant of this node's region. */
  identity(tenantId: string, scopes?: readonly IdentityScope[]): Promise<Record<string, string>>
  /** A SCIM call as the given tenant, through fastify's inject. */
  scim(tenantId: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>
}

interface Teardown {
  teardown(fn: () => unknown): void
}

export async function startTestNode(
  t: Teardown,
  options: {
    region?: string
    limits?: Partial<ScimLimits>
    database?: Partial<DatabaseConfig>
    cursorKeys?: CursorKeys
    databaseUrl?: string
    logger?: boolean
    events?: Partial<EventLogConfig>
    /** Where the node's metrics go (default: a registry of its own). */
    metricsRegistry?: Registry
  } = {},
): Promise<TestNode> {
  const catalog = loadRegionCatalog()
  const region = catalog.byCode(options.region ?? 'EU1')
  if (region === undefined) throw new Error(`no region ${options.region}`)
  let databaseUrl = options.databaseUrl
  // The feed's LISTEN needs a session of its own: straight to PostgreSQL, also when requests go through PgBouncer.
  let listenUrl: string | undefined
  if (databaseUrl === undefined) {
    const db = await createTestDatabase(region.code)
    databaseUrl = db.url
    listenUrl = db.directUrl
    t.teardown(db.drop)
  }
  const keys = await generateIdentityKeyPair()
  const config: RegionNodeConfig = {
    region,
    host: '127.0.0.1',
    port: 0,
    database: { url: databaseUrl, poolSize: 20, rowSecurityRole: 'scimgate_app', statementTimeoutMs: 30_000, connectionTimeoutMs: 2_000, ...TEST_DATABASE_SETTINGS, ...options.database },
    identityKeySet: { keys: [keys.publicJwk] },
    cursorKeys: options.cursorKeys ?? testCursorKeys(),
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    logLevel: 'silent',
    events: { ...DEFAULT_EVENT_LOG, listenUrl, ...options.events },
  }
  const app = await buildRegionNode(config, { logger: options.logger === true ? { level: 'info' } : false, ...(options.metricsRegistry === undefined ? {} : { metricsRegistry: options.metricsRegistry }) })
  // Registered after the database teardown, so tap runs it first (teardowns run in reverse).
  t.teardown(() => app.close())
  const identity = async (tenantId: string, scopes: readonly IdentityScope[] = ['scim']): Promise<Record<string, string>> => ({
    [IDENTITY_HEADER]: await signIdentity(keys.signingKey, { tenantId, tokenId: 'tok-test', region: region.code, scopes }, 300),
  })
  return {
    app,
    config,
    keys,
    identity,
    async scim(tenantId, method, path, body, headers = {}) {
      return app.inject({
        method: method as 'GET',
        url: path.startsWith('/') ? path : `/scim/v2/${path}`,
        headers: { ...(await identity(tenantId)), ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }), ...headers },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      })
    },
  }
}
