import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { JWK } from 'jose'
import { z } from 'zod'
import { collectProblems, ConfigError, describeIssues } from './config-error.ts'
import { devSecretsProblems, devSecretsRequested, missingSecret } from './dev-secrets.ts'
import { readJsonSetting } from './json-setting.ts'
import { DEFAULT_CLIENT_TIMEOUTS, DEFAULT_GATEWAY_OPS_PORT, opsListenFromEnv, shutdownGraceMsFromEnv, type ClientTimeouts, type OpsListen } from './process-settings.ts'
import { parseRedisConfig, redisPrefixSchema, type RedisConfig } from './redis-settings.ts'
import type { RegionCatalog } from './region-catalog.ts'
import { resolvePeppers, type ResolvedPeppers } from './token-peppers.ts'

export interface UpstreamTimeouts {
  readonly connectMs: number
  readonly headersMs: number
  readonly bodyMs: number
}

export interface RateLimits {
  /** Requests per tenant and region per window. */
  readonly perTenant: number
  readonly windowMs: number
  /** Failed authentications per client address per window before it gets 429 without a token check. */
  readonly failedAuthPerAddress: number
}

export interface ConsoleSettings {
  /** Where the built console lives (console/build.ts writes it; built on demand when missing). */
  readonly assetsDir: string
  /** A console session ends after this long without a request. */
  readonly idleTimeoutMs: number
}

export interface GatewayConfig {
  readonly catalog: RegionCatalog
  readonly host: string
  readonly port: number
  readonly adminHost: string
  readonly adminPort: number
  /** Addresses/CIDRs of load balancers allowed to set X-Forwarded-*; empty = trust nobody. */
  readonly trustedProxies: readonly string[]
  readonly redis: RedisConfig
  readonly redisKeyPrefix: string
  /** Embedded mode: tokens in this file instead of Redis (one machine, local use only). */
  readonly tokenStoreFile: string | undefined
  /** Keys of the token HMAC; several versions while a pepper rotates. */
  readonly peppers: ResolvedPeppers
  /** Private JWK (EdDSA, with kid) the gateway signs internal identities with; undefined only with SCIMGATE_DEV_SECRETS=1 (a local development key). */
  readonly identitySigningKey: JWK | undefined
  readonly identityTtlSeconds: number
  /** SHA-256 hex of the admin API credential; undefined disables the admin API. */
  readonly adminTokenSha256: string | undefined
  readonly bodyLimitBytes: number
  readonly upstreamTimeouts: UpstreamTimeouts
  /** How long a client may take to send its headers / its whole request (public and admin listeners). */
  readonly clientTimeouts: ClientTimeouts
  readonly rateLimits: RateLimits
  /** Region codes this gateway serves (SCIMGATE_REGION); the admin API makes tokens and sets group access only for these. */
  readonly servedRegions: readonly string[]
  /** Failed admin API authentications per client address per window (RATE_LIMIT_WINDOW_MS) before 429. */
  readonly adminFailedAuthPerAddress: number
  readonly console: ConsoleSettings
  readonly logLevel: string
  /** The ops listener (/metrics, /livez, /readyz) of the process's command; undefined = off. */
  readonly ops?: OpsListen | undefined
  /** How long in-flight requests may take to finish on SIGTERM (the process's command; default 10 s). */
  readonly shutdownGraceMs?: number
}

// console/build.ts writes here by default (dist/ at the repository root).
const DEFAULT_CONSOLE_ASSETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'console')

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max)

const envSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: integer(0, 65535).default(8080),
  ADMIN_HOST: z.string().default('127.0.0.1'),
  ADMIN_PORT: integer(0, 65535).default(8081),
  TRUSTED_PROXIES: z.string().default(''),
  SCIMGATE_TOKEN_STORE_FILE: z.string().min(1).optional(),
  SCIMGATE_REDIS_PREFIX: redisPrefixSchema,
  IDENTITY_SIGNING_KEY: z.string().optional(),
  IDENTITY_SIGNING_KEY_FILE: z.string().optional(),
  IDENTITY_TTL_SECONDS: integer(30, 3600).default(300),
  ADMIN_TOKEN_SHA256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the lower-case hex SHA-256 of the admin credential').optional(),
  GATEWAY_BODY_LIMIT_BYTES: integer(1024, 64 * 1_048_576).default(1_048_576),
  UPSTREAM_CONNECT_TIMEOUT_MS: integer(100, 30_000).default(3_000),
  UPSTREAM_HEADERS_TIMEOUT_MS: integer(100, 59_000).default(30_000),
  UPSTREAM_BODY_TIMEOUT_MS: integer(100, 59_000).default(30_000),
  HTTP_HEADERS_TIMEOUT_MS: integer(100, 59_000).default(DEFAULT_CLIENT_TIMEOUTS.headersMs),
  HTTP_REQUEST_TIMEOUT_MS: integer(100, 59_000).default(DEFAULT_CLIENT_TIMEOUTS.requestMs),
  // 1,000 requests a second per tenant: an initial sync of 100,000 users (two requests each) fits in minutes.
  RATE_LIMIT_PER_TENANT: integer(1, 10_000_000).default(60_000),
  RATE_LIMIT_WINDOW_MS: integer(1_000, 3_600_000).default(60_000),
  RATE_LIMIT_FAILED_AUTH_PER_ADDRESS: integer(1, 1_000_000).default(30),
  ADMIN_FAILED_AUTH_PER_ADDRESS: integer(1, 1_000_000).default(10),
  SCIMGATE_REGION: z.string().optional(),
  CONSOLE_ASSETS_DIR: z.string().min(1).default(DEFAULT_CONSOLE_ASSETS_DIR),
  CONSOLE_IDLE_TIMEOUT_MINUTES: integer(1, 24 * 60).default(15),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})

function readSigningKey(env: Readonly<Record<string, string | undefined>>, problems: string[]): JWK | undefined {
  const { value } = readJsonSetting(env, 'IDENTITY_SIGNING_KEY', problems)
  if (value === undefined) return undefined
  const jwk = value as JWK
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.kid !== 'string' || typeof jwk.d !== 'string') {
    problems.push('IDENTITY_SIGNING_KEY: must be a private JWK with a kid (OKP / Ed25519)')
    return undefined
  }
  return jwk
}

/** Reads the gateway's settings from the environment; throws one ConfigError listing every bad setting. */
export function loadGatewayConfig(env: Readonly<Record<string, string | undefined>>, catalog: RegionCatalog): GatewayConfig {
  const parsed = envSchema.safeParse(env)
  const problems = parsed.success ? [] : describeIssues(parsed.error.issues)
  const redis = collectProblems(problems, () => parseRedisConfig(env))
  const peppers = collectProblems(problems, () => resolvePeppers(env))
  const ops = collectProblems(problems, () => opsListenFromEnv(env, DEFAULT_GATEWAY_OPS_PORT))
  const shutdownGraceMs = collectProblems(problems, () => shutdownGraceMsFromEnv(env))
  problems.push(...devSecretsProblems(env))
  const signingKey = readSigningKey(env, problems)
  if (signingKey === undefined && env.IDENTITY_SIGNING_KEY === undefined && env.IDENTITY_SIGNING_KEY_FILE === undefined && !devSecretsRequested(env)) {
    problems.push(missingSecret('IDENTITY_SIGNING_KEY or IDENTITY_SIGNING_KEY_FILE', 'the private Ed25519 JWK internal identities are signed with'))
  }
  const servedRegions = (env.SCIMGATE_REGION ?? '').split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '')
  for (const code of servedRegions) {
    if (catalog.byCode(code) === undefined) problems.push(`SCIMGATE_REGION: unknown region ${code}; the catalog has ${catalog.regions.map((r) => r.code).join(', ')}`)
  }
  if (parsed.success && parsed.data.HTTP_HEADERS_TIMEOUT_MS > parsed.data.HTTP_REQUEST_TIMEOUT_MS) problems.push('HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS')
  if (!parsed.success || redis === undefined || peppers === undefined || shutdownGraceMs === undefined || problems.length > 0) throw new ConfigError('environment', problems)
  const e = parsed.data
  return Object.freeze({
    catalog,
    host: e.HOST,
    port: e.PORT,
    adminHost: e.ADMIN_HOST,
    adminPort: e.ADMIN_PORT,
    trustedProxies: Object.freeze(e.TRUSTED_PROXIES.split(',').map((s) => s.trim()).filter((s) => s !== '')),
    redis,
    redisKeyPrefix: e.SCIMGATE_REDIS_PREFIX,
    tokenStoreFile: e.SCIMGATE_TOKEN_STORE_FILE,
    peppers,
    identitySigningKey: signingKey,
    identityTtlSeconds: e.IDENTITY_TTL_SECONDS,
    adminTokenSha256: e.ADMIN_TOKEN_SHA256,
    bodyLimitBytes: e.GATEWAY_BODY_LIMIT_BYTES,
    upstreamTimeouts: Object.freeze({ connectMs: e.UPSTREAM_CONNECT_TIMEOUT_MS, headersMs: e.UPSTREAM_HEADERS_TIMEOUT_MS, bodyMs: e.UPSTREAM_BODY_TIMEOUT_MS }),
    clientTimeouts: Object.freeze({ headersMs: e.HTTP_HEADERS_TIMEOUT_MS, requestMs: e.HTTP_REQUEST_TIMEOUT_MS }),
    rateLimits: Object.freeze({ perTenant: e.RATE_LIMIT_PER_TENANT, windowMs: e.RATE_LIMIT_WINDOW_MS, failedAuthPerAddress: e.RATE_LIMIT_FAILED_AUTH_PER_ADDRESS }),
    // Unset: one gateway for every region of the catalog (local runs).
    servedRegions: Object.freeze(servedRegions.length === 0 ? catalog.regions.map((r) => r.code) : servedRegions),
    adminFailedAuthPerAddress: e.ADMIN_FAILED_AUTH_PER_ADDRESS,
    console: Object.freeze({ assetsDir: e.CONSOLE_ASSETS_DIR, idleTimeoutMs: e.CONSOLE_IDLE_TIMEOUT_MINUTES * 60_000 }),
    logLevel: e.LOG_LEVEL,
    ops,
    shutdownGraceMs,
  })
}
