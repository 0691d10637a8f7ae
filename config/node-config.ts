import { readFileSync } from 'node:fs'
import type { JSONWebKeySet } from 'jose'
import { z } from 'zod'
import { collectProblems, ConfigError, describeIssues } from './config-error.ts'
import { resolveCursorKeys, type CursorKeys } from './cursor-keys.ts'
import { devSecretsProblems, devSecretsRequested, missingSecret } from './dev-secrets.ts'
import { readJsonSetting } from './json-setting.ts'
import { DEFAULT_CLIENT_TIMEOUTS, defaultNodeOpsPort, opsListenFromEnv, shutdownGraceMsFromEnv, type ClientTimeouts, type OpsListen } from './process-settings.ts'
import type { Region, RegionCatalog } from './region-catalog.ts'

export interface DatabaseConfig {
  readonly url: string
  readonly poolSize: number
  /** Role every connection switches to so row-level security applies (superusers bypass it); null = the login role is already unprivileged. */
  readonly rowSecurityRole: string | null
  readonly statementTimeoutMs: number
  readonly connectionTimeoutMs: number
  /** Connections one tenant may hold at once (default: half the pool), so one tenant's slow filters cannot starve the others. */
  readonly connectionsPerTenant?: number
  /** How long a request of a tenant over its share waits for a connection before a 503 with Retry-After. */
  readonly tenantQueueTimeoutMs?: number
  /** Statement timeout of list queries (client-chosen filters and sorts); shorter than statementTimeoutMs. */
  readonly listStatementTimeoutMs?: number
  /** Named prepared statements, parsed once per connection (default true); false behind PgBouncer before 1.21. */
  readonly preparedStatements?: boolean
}

/** Per-tenant concurrency and the list statement timeout, with the defaults for hand-built configs (tests). */
export function tenantConcurrencyOf(database: DatabaseConfig): { connectionsPerTenant: number; queueTimeoutMs: number; statementTimeoutMs: number; listStatementTimeoutMs: number } {
  return {
    connectionsPerTenant: database.connectionsPerTenant ?? Math.max(1, Math.ceil(database.poolSize / 2)),
    queueTimeoutMs: database.tenantQueueTimeoutMs ?? 5_000,
    statementTimeoutMs: database.statementTimeoutMs,
    listStatementTimeoutMs: Math.min(database.listStatementTimeoutMs ?? 10_000, database.statementTimeoutMs),
  }
}

export interface ScimLimits {
  readonly defaultPageSize: number
  readonly maxPageSize: number
  readonly bulkMaxOperations: number
  readonly bulkMaxPayloadBytes: number
  readonly bodyLimitBytes: number
  readonly cursorTtlSeconds: number
  /** The most group members one response carries; see region-node/services/member-budget.ts. */
  readonly maxMembersInResponse: number
  /** How long a client may take to send its headers / its whole request. */
  readonly clientTimeouts: ClientTimeouts
}

/** The node's certificate and private key (PEM): with them it serves HTTPS only. */
export interface NodeTlsConfig {
  readonly certFile: string
  readonly keyFile: string
  readonly cert: string
  readonly key: string
  /** How often the files are read again, so a renewed certificate (cert-manager) is served without a restart; 0 = never. */
  readonly reloadIntervalMs: number
}

export interface EventLogConfig {
  /** Off only in the benchmark that measures what the log costs (SCIMGATE_EVENT_LOG=off). */
  readonly enabled: boolean
  readonly retentionDays: number
  readonly purgeIntervalMs: number
  readonly purgeBatchSize: number
  /** How many change feed consumers the region tracks for the lag metrics (docs/runbook.md). */
  readonly maxFeedConsumers: number
  /** The feed's LISTEN connection: a session of its own, so never through PgBouncer in transaction mode. */
  readonly listenUrl: string | undefined
}

export const DEFAULT_EVENT_LOG: EventLogConfig = Object.freeze({ enabled: true, retentionDays: 90, purgeIntervalMs: 600_000, purgeBatchSize: 500, maxFeedConsumers: 100, listenUrl: undefined })

export interface RegionNodeConfig {
  readonly region: Region
  readonly host: string
  readonly port: number
  /** undefined = plain HTTP (local runs); in a cluster the gateway→node hop carries bearer identities and is encrypted. */
  readonly tls?: NodeTlsConfig | undefined
  readonly database: DatabaseConfig
  readonly identityKeySet: JSONWebKeySet
  /** Keys of the RFC 9865 cursors (config/cursor-keys.ts). */
  readonly cursorKeys: CursorKeys
  readonly limits: ScimLimits
  readonly logLevel: string
  /** Default: DEFAULT_EVENT_LOG with the feed listening on the database URL. */
  readonly events?: EventLogConfig
  /** The ops listener (/metrics, /livez, /readyz) of the process's command; undefined = off. */
  readonly ops?: OpsListen | undefined
  /** How long in-flight requests may take to finish on SIGTERM (the process's command; default 10 s). */
  readonly shutdownGraceMs?: number
}

export const DEFAULT_LIMITS: ScimLimits = Object.freeze({
  defaultPageSize: 100,
  maxPageSize: 1000,
  bulkMaxOperations: 1000,
  bulkMaxPayloadBytes: 1_048_576,
  bodyLimitBytes: 1_048_576,
  cursorTtlSeconds: 3600,
  maxMembersInResponse: 10_000,
  clientTimeouts: DEFAULT_CLIENT_TIMEOUTS,
})

export function defaultDatabaseUrl(regionCode: string): string {
  return `postgres://postgres@127.0.0.1:5432/scimgate_${regionCode.toLowerCase()}`
}

/** The database `scimgate migrate` works on when no --database-url is given: DATABASE_URL, else the region's local default. */
export function migrationDatabaseUrl(env: Readonly<Record<string, string | undefined>>, regionCode: string): string {
  const url = env.DATABASE_URL?.trim()
  if (url === undefined || url === '') return defaultDatabaseUrl(regionCode)
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('environment', ['DATABASE_URL: must be a postgres:// URL'])
  return url
}

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max)

const envSchema = z.object({
  SCIMGATE_REGION: z.string().min(1, 'is required (a region code of the catalog, e.g. EU1)'),
  HOST: z.string().default('127.0.0.1'),
  PORT: integer(0, 65535).optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  DATABASE_POOL_SIZE: integer(1, 200).default(10),
  // Interpolated into SET ROLE (which takes no parameters), so only plain identifiers.
  DATABASE_ROW_SECURITY_ROLE: z.string().regex(/^([a-z_][a-z0-9_]{0,62})?$/, 'must be a plain lower-case role name or empty').default('scimgate_app'),
  DATABASE_STATEMENT_TIMEOUT_MS: integer(100, 600_000).default(30_000),
  DATABASE_CONNECT_TIMEOUT_MS: integer(100, 60_000).default(5_000),
  DATABASE_CONNECTIONS_PER_TENANT: integer(1, 200).optional(),
  DATABASE_TENANT_QUEUE_TIMEOUT_MS: integer(0, 59_000).default(5_000),
  DATABASE_LIST_STATEMENT_TIMEOUT_MS: integer(100, 600_000).default(10_000),
  DATABASE_PREPARED_STATEMENTS: z.enum(['on', 'off']).default('on'),
  IDENTITY_JWKS: z.string().optional(),
  IDENTITY_JWKS_FILE: z.string().optional(),
  SCIM_MAX_PAGE_SIZE: integer(1, 10_000).default(DEFAULT_LIMITS.maxPageSize),
  SCIM_DEFAULT_PAGE_SIZE: integer(1, 10_000).default(DEFAULT_LIMITS.defaultPageSize),
  SCIM_BULK_MAX_OPERATIONS: integer(1, 10_000).default(DEFAULT_LIMITS.bulkMaxOperations),
  SCIM_BODY_LIMIT_BYTES: integer(1024, 64 * 1_048_576).default(DEFAULT_LIMITS.bodyLimitBytes),
  SCIM_CURSOR_TTL_SECONDS: integer(1, 86_400).default(DEFAULT_LIMITS.cursorTtlSeconds),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  TLS_RELOAD_INTERVAL_SECONDS: integer(0, 86_400).default(60),
  SCIM_MAX_MEMBERS_IN_RESPONSE: integer(1, 1_000_000).default(DEFAULT_LIMITS.maxMembersInResponse),
  HTTP_HEADERS_TIMEOUT_MS: integer(100, 59_000).default(DEFAULT_CLIENT_TIMEOUTS.headersMs),
  HTTP_REQUEST_TIMEOUT_MS: integer(100, 59_000).default(DEFAULT_CLIENT_TIMEOUTS.requestMs),
  EVENT_RETENTION_DAYS: integer(1, 36_500).default(DEFAULT_EVENT_LOG.retentionDays),
  EVENT_FEED_MAX_CONSUMERS: integer(1, 10_000).default(DEFAULT_EVENT_LOG.maxFeedConsumers),
  DATABASE_LISTEN_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  SCIMGATE_EVENT_LOG: z.enum(['on', 'off']).default('on'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})

function readPem(name: string, file: string, marker: RegExp, what: string, problems: string[]): string {
  try {
    const text = readFileSync(file, 'utf8')
    if (!marker.test(text)) problems.push(`${name}: ${file} holds no PEM ${what}`)
    return text
  } catch (error) {
    problems.push(`${name}: cannot read ${file}: ${(error as Error).message}`)
    return ''
  }
}

/** TLS_CERT_FILE and TLS_KEY_FILE, both or neither (a cert-manager Secret mounts them as tls.crt and tls.key). */
function readTls(env: Readonly<Record<string, string | undefined>>, reloadIntervalSeconds: number, problems: string[]): NodeTlsConfig | undefined {
  const certFile = env.TLS_CERT_FILE?.trim() || undefined
  const keyFile = env.TLS_KEY_FILE?.trim() || undefined
  if (certFile === undefined && keyFile === undefined) return undefined
  if (certFile === undefined || keyFile === undefined) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE: set both (HTTPS) or neither (plain HTTP)')
    return undefined
  }
  const cert = readPem('TLS_CERT_FILE', certFile, /-----BEGIN CERTIFICATE-----/, 'certificate', problems)
  const key = readPem('TLS_KEY_FILE', keyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key', problems)
  return Object.freeze({ certFile, keyFile, cert, key, reloadIntervalMs: reloadIntervalSeconds * 1000 })
}

function readKeySet(env: Readonly<Record<string, string | undefined>>, problems: string[], devKeySet: JSONWebKeySet | undefined): JSONWebKeySet {
  const { given, value } = readJsonSetting(env, 'IDENTITY_JWKS', problems)
  if (!given) {
    if (devKeySet !== undefined && devSecretsRequested(env)) return devKeySet
    problems.push(missingSecret('IDENTITY_JWKS or IDENTITY_JWKS_FILE', "the gateway's public signing keys, a JWKS"))
  } else if (value !== undefined) {
    if (typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys) && (value as JSONWebKeySet).keys.length > 0) {
      return value as JSONWebKeySet
    }
    problems.push('IDENTITY_JWKS: must be a JSON Web Key Set with at least one key')
  }
  return { keys: [] }
}

/**
 * Reads a region node's settings from the environment; throws one ConfigError
 * listing every bad setting. `devKeySet` (the local development keys) stands in
 * for IDENTITY_JWKS only when SCIMGATE_DEV_SECRETS=1.
 */
export function loadNodeConfig(env: Readonly<Record<string, string | undefined>>, catalog: RegionCatalog, options: { devKeySet?: JSONWebKeySet } = {}): RegionNodeConfig {
  const parsed = envSchema.safeParse(env)
  const problems = parsed.success ? [] : describeIssues(parsed.error.issues)
  const region = env.SCIMGATE_REGION === undefined ? undefined : catalog.byCode(env.SCIMGATE_REGION)
  if (env.SCIMGATE_REGION !== undefined && region === undefined) {
    problems.push(`SCIMGATE_REGION: unknown region ${env.SCIMGATE_REGION}; the catalog has ${catalog.regions.map((r) => r.code).join(', ')}`)
  }
  problems.push(...devSecretsProblems(env))
  const identityKeySet = readKeySet(env, problems, options.devKeySet)
  const tls = readTls(env, parsed.success ? parsed.data.TLS_RELOAD_INTERVAL_SECONDS : 0, problems)
  const cursorKeys = resolveCursorKeys(env, problems)
  const ops = collectProblems(problems, () => opsListenFromEnv(env, defaultNodeOpsPort(Math.max(0, catalog.regions.findIndex((r) => r.code === region?.code)))))
  const shutdownGraceMs = collectProblems(problems, () => shutdownGraceMsFromEnv(env))
  // Checked on their own so these rules are listed even when other settings are bad.
  const pages = envSchema.pick({ SCIM_DEFAULT_PAGE_SIZE: true, SCIM_MAX_PAGE_SIZE: true }).safeParse(env)
  if (pages.success && pages.data.SCIM_DEFAULT_PAGE_SIZE > pages.data.SCIM_MAX_PAGE_SIZE) problems.push('SCIM_DEFAULT_PAGE_SIZE: must not exceed SCIM_MAX_PAGE_SIZE')
  const timeouts = envSchema.pick({ HTTP_HEADERS_TIMEOUT_MS: true, HTTP_REQUEST_TIMEOUT_MS: true }).safeParse(env)
  if (timeouts.success && timeouts.data.HTTP_HEADERS_TIMEOUT_MS > timeouts.data.HTTP_REQUEST_TIMEOUT_MS) problems.push('HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS')
  if (!parsed.success || region === undefined || shutdownGraceMs === undefined || problems.length > 0) throw new ConfigError('environment', problems)
  const e = parsed.data
  return Object.freeze({
    region,
    host: e.HOST,
    port: e.PORT ?? region.nodePort,
    tls,
    database: Object.freeze({
      url: e.DATABASE_URL ?? defaultDatabaseUrl(region.code),
      poolSize: e.DATABASE_POOL_SIZE,
      rowSecurityRole: e.DATABASE_ROW_SECURITY_ROLE === '' ? null : e.DATABASE_ROW_SECURITY_ROLE,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      connectionTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      connectionsPerTenant: Math.min(e.DATABASE_CONNECTIONS_PER_TENANT ?? Math.max(1, Math.ceil(e.DATABASE_POOL_SIZE / 2)), e.DATABASE_POOL_SIZE),
      tenantQueueTimeoutMs: e.DATABASE_TENANT_QUEUE_TIMEOUT_MS,
      listStatementTimeoutMs: Math.min(e.DATABASE_LIST_STATEMENT_TIMEOUT_MS, e.DATABASE_STATEMENT_TIMEOUT_MS),
      preparedStatements: e.DATABASE_PREPARED_STATEMENTS === 'on',
    }),
    identityKeySet,
    cursorKeys,
    limits: Object.freeze({
      ...DEFAULT_LIMITS,
      defaultPageSize: e.SCIM_DEFAULT_PAGE_SIZE,
      maxPageSize: e.SCIM_MAX_PAGE_SIZE,
      bulkMaxOperations: e.SCIM_BULK_MAX_OPERATIONS,
      bodyLimitBytes: e.SCIM_BODY_LIMIT_BYTES,
      bulkMaxPayloadBytes: e.SCIM_BODY_LIMIT_BYTES,
      cursorTtlSeconds: e.SCIM_CURSOR_TTL_SECONDS,
      maxMembersInResponse: e.SCIM_MAX_MEMBERS_IN_RESPONSE,
      clientTimeouts: Object.freeze({ headersMs: e.HTTP_HEADERS_TIMEOUT_MS, requestMs: e.HTTP_REQUEST_TIMEOUT_MS }),
    }),
    logLevel: e.LOG_LEVEL,
    events: Object.freeze({
      ...DEFAULT_EVENT_LOG,
      enabled: e.SCIMGATE_EVENT_LOG === 'on',
      retentionDays: e.EVENT_RETENTION_DAYS,
      maxFeedConsumers: e.EVENT_FEED_MAX_CONSUMERS,
      listenUrl: e.DATABASE_LISTEN_URL,
    }),
    ops,
    shutdownGraceMs,
  })
}
