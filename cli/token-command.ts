// `scimgate token create|list|rotate|revoke`: provisioning tokens for admins.
// `create` and `rotate` print ONLY the token on stdout (so it can be piped into
// a secret store); everything else a human should read goes to stderr.
// Settings: config/token-command-config.ts (the gateway's Redis, key prefix
// and peppers, or the built-in token store).
import { Command, InvalidArgumentError } from 'commander'
import { ConfigError } from '../config/config-error.ts'
import { loadRegionCatalogFromEnv, type RegionCatalog } from '../config/region-catalog.ts'
import { IDENTITY_SCOPES, type IdentityScope } from '../lib/internal-identity.ts'
import { hasRedisSettings } from '../config/redis-settings.ts'
import { loadTokenCommandConfig, type TokenCommandConfig } from '../config/token-command-config.ts'
import { closeRedisConnection, createRedisConnection, waitForRedisReady } from '../gateway/redis/redis-connection.ts'
import { createTokenHasher } from '../gateway/tokens/token-hasher.ts'
import { isUsable, type TokenRecord } from '../gateway/tokens/token-record.ts'
import { createFileTokenStore } from '../gateway/tokens/file-token-store.ts'
import { createTokenStore, type TokenStore } from '../gateway/tokens/token-store.ts'
import { DEFAULT_DATA_DIR } from './dev-keys.ts'
import { readDevModeMarker } from './embedded-services.ts'

/**
 * The built-in token store's file when tokens do not live in Redis:
 * SCIMGATE_TOKEN_STORE_FILE, or the one `scimgate dev` chose in embedded mode
 * (unless Redis settings are given explicitly).
 */
async function builtInTokenStoreFile(config: TokenCommandConfig, env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  if (config.tokenStoreFile !== undefined) return config.tokenStoreFile
  if (hasRedisSettings(env)) return undefined
  return (await readDevModeMarker(config.dataDir ?? DEFAULT_DATA_DIR)).tokenStoreFile
}
/**
 * After `npm start`, `scimgate token …` in another terminal must hash with the
 * same development pepper: it follows the marker `scimgate dev` left, unless
 * the environment names a pepper or a Redis of its own (then it is not talking
 * to the development gateway).
 */
async function withDevSecretsOfDev(env: Readonly<Record<string, string | undefined>>): Promise<Readonly<Record<string, string | undefined>>> {
  if (env.SCIMGATE_DEV_SECRETS !== undefined || env.TOKEN_PEPPERS !== undefined || hasRedisSettings(env)) return env
  const marker = await readDevModeMarker(env.SCIMGATE_DATA_DIR ?? DEFAULT_DATA_DIR)
  return marker.devSecrets === true ? { ...env, SCIMGATE_DEV_SECRETS: '1' } : env
}

const CONNECT_TIMEOUT_MS = 5_000

export interface TokenCommandDependencies {
  env?: Readonly<Record<string, string | undefined>>
  stdout?: (text: string) => void
  stderr?: (text: string) => void
  catalog?: () => RegionCatalog
  now?: () => number
}

const DURATION_UNITS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `90d`, `12h`, `30m`, `2w`, or an ISO 8601 date / date-time; returns ms since the epoch. */
export function parseExpiry(text: string, nowMs: number): number {
  const duration = /^(\d{1,6})([mhdw])$/.exec(text.trim())
  if (duration !== null) {
    const amount = Number(duration[1])
    if (amount === 0) throw new InvalidArgumentError('the duration must be positive')
    return nowMs + amount * (DURATION_UNITS[duration[2] ?? ''] ?? 0)
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const at = Date.parse(text.trim())
    if (Number.isFinite(at)) {
      if (at <= nowMs) throw new InvalidArgumentError(`${text} is in the past`)
      return at
    }
  }
  throw new InvalidArgumentError('expected an ISO date (2026-12-31, 2026-12-31T12:00:00Z) or a duration (90d, 12h, 30m, 2w)')
}

export function parseScopes(text: string): IdentityScope[] {
  const scopes = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const unknown = scopes.filter((s) => !(IDENTITY_SCOPES as readonly string[]).includes(s))
  if (scopes.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`expected a comma-separated list of ${IDENTITY_SCOPES.join(', ')}`)
  return [...new Set(scopes)] as IdentityScope[]
}

/** Reads every setting first (so a bad one fails before connecting), then runs `work` and always closes Redis. */
export async function withTokenStore<T>(env: Readonly<Record<string, string | undefined>>, stderr: (text: string) => void, now: () => number, work: (store: TokenStore) => Promise<T>): Promise<T> {
  const config = loadTokenCommandConfig(await withDevSecretsOfDev(env))
  const { peppers } = config
  if (peppers.isDevelopment) stderr('warning: TOKEN_PEPPERS is not set; using the development-only pepper\n')
  const hasher = createTokenHasher(peppers.peppers, peppers.current)
  const tokenStoreFile = await builtInTokenStoreFile(config, env)
  if (tokenStoreFile !== undefined) return work(createFileTokenStore(tokenStoreFile, { hasher, now }))
  const redis = createRedisConnection(config.redis, 'commands', { connectionName: 'scimgate-token-cli' })
  try {
    await waitForRedisReady(redis, CONNECT_TIMEOUT_MS)
    // TokenInputError messages list every problem; cli/scimgate.ts prints them.
    return await work(createTokenStore(redis, { keyPrefix: config.redisKeyPrefix, hasher, now }))
  } finally {
    await closeRedisConnection(redis)
  }
}

export function describeStatus(record: TokenRecord, nowMs: number): string {
  if (record.status === 'revoked') return 'revoked'
  return isUsable(record, nowMs) ? 'active' : 'expired'
}

export function tokenCommand(dependencies: TokenCommandDependencies = {}): Command {
  const env = dependencies.env ?? process.env
  const stdout = dependencies.stdout ?? ((text: string) => void process.stdout.write(text))
  const stderr = dependencies.stderr ?? ((text: string) => void process.stderr.write(text))
  const catalog = dependencies.catalog ?? (() => loadRegionCatalogFromEnv(env))
  const now = dependencies.now ?? Date.now

  const withStore = <T>(work: (store: TokenStore) => Promise<T>): Promise<T> => withTokenStore(env, stderr, now, work)

  function regionCode(region: string): string {
    const found = catalog().byCode(region)
    if (found === undefined) {
      throw new ConfigError('--region', [`unknown region ${region}; known: ${catalog().regions.map((r) => r.code).join(', ')}`])
    }
    return found.code
  }

  const command = new Command('token').description('create, list, rotate and revoke provisioning tokens (stored in Redis as keyed hashes)')

  command
    .command('create')
    .description('create a token for a tenant; prints only the token on stdout (it is shown once)')
    .requiredOption('-t, --tenant <id>', 'tenant id')
    .requiredOption('-r, --region <code>', 'region code of the tenant, e.g. EU1')
    .option('-l, --label <text>', 'what the token is for, e.g. "Okta production"', '')
    .option('-e, --expires <when>', 'expiry: ISO date or duration (90d, 12h); default never', (v) => parseExpiry(v, now()))
    .option('-s, --scopes <list>', `comma-separated scopes: ${IDENTITY_SCOPES.join(', ')} (groups:access:write lets the identity provider set group roles and scope)`, parseScopes, ['scim'] as IdentityScope[])
    .action(async (options: { tenant: string; region: string; label: string; expires?: number; scopes: IdentityScope[] }) => {
      const region = regionCode(options.region)
      const { token, record } = await withStore((store) =>
        store.create({ tenantId: options.tenant, region, label: options.label, scopes: options.scopes, expiresAt: options.expires ?? null }),
      )
      stdout(`${token}\n`)
      stderr(`created ${record.tokenId} for tenant ${record.tenantId} in ${record.region}; store the token now, it cannot be shown again\n`)
    })

  command
    .command('list')
    .description('list the tokens of a tenant: id, label, created, expires, status, last used, last used by (tab-separated; never the token)')
    .requiredOption('-t, --tenant <id>', 'tenant id')
    .requiredOption('-r, --region <code>', 'region code of the tenant')
    .action(async (options: { tenant: string; region: string }) => {
      const region = regionCode(options.region)
      const { records, usage } = await withStore(async (store) => {
        const listed = (await store.list(options.tenant, region)).filter((r) => r.kind === 'provisioning')
        return { records: listed, usage: await store.usage(listed.map((r) => r.tokenId)) }
      })
      const at = now()
      for (const r of records) {
        const expires = r.expiresAt === null ? 'never' : new Date(r.expiresAt).toISOString()
        const used = usage.get(r.tokenId)
        const lastUsed = used === undefined ? ['never', '-'] : [new Date(used.lastUsedAt).toISOString(), used.clientKind]
        stdout(`${[r.tokenId, r.label, new Date(r.createdAt).toISOString(), expires, describeStatus(r, at), ...lastUsed].join('\t')}\n`)
      }
      if (records.length === 0) stderr(`no tokens for tenant ${options.tenant} in ${region}\n`)
    })

  command
    .command('rotate')
    .description('issue a new token with the same tenant, region and scopes; the old one stays valid until revoked or expired')
    .argument('<token-id>', 'id of the token to rotate (from `token list`)')
    .option('-l, --label <text>', 'label of the new token (default: the old label)')
    .option('-e, --expires <when>', 'expiry of the new token: ISO date or duration (default: the old lifetime)', (v) => parseExpiry(v, now()))
    .action(async (tokenId: string, options: { label?: string; expires?: number }) => {
      const issued = await withStore((store) =>
        store.rotate(tokenId, { ...(options.label === undefined ? {} : { label: options.label }), ...(options.expires === undefined ? {} : { expiresAt: options.expires }) }),
      )
      if (issued === undefined) throw new Error(`no token ${tokenId}`)
      stdout(`${issued.token}\n`)
      stderr(`created ${issued.record.tokenId}; revoke ${tokenId} once the identity provider uses the new token\n`)
    })

  command
    .command('revoke')
    .description('revoke a token; every gateway refuses it within a second')
    .argument('<token-id>', 'id of the token to revoke (from `token list`)')
    .action(async (tokenId: string) => {
      const record = await withStore((store) => store.revoke(tokenId))
      if (record === undefined) throw new Error(`no token ${tokenId}`)
      stderr(`revoked ${record.tokenId} of tenant ${record.tenantId} in ${record.region}\n`)
    })

  return command
}
