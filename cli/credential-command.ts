// `scimgate credential create|list|rotate|revoke`: credentials of the admin API
// and the console, stored like provisioning tokens (HMAC with the token
// pepper, same store). Kinds: `admin` (a team admin of one tenant in one
// region) and `access` (a region's product services: access decisions and
// the change feed only). `create` and `rotate` print only the credential on stdout.
import { Command, InvalidArgumentError } from 'commander'
import { ConfigError } from '../config/config-error.ts'
import { loadRegionCatalog, type RegionCatalog } from '../config/region-catalog.ts'
import { ALL_TENANTS } from '../gateway/tokens/token-input.ts'
import type { CredentialKind, TokenRecord } from '../gateway/tokens/token-record.ts'
import { describeStatus, parseExpiry, withTokenStore, type TokenCommandDependencies } from './token-command.ts'

const CONSOLE_KINDS: readonly CredentialKind[] = ['admin', 'access']

function parseKind(text: string): CredentialKind {
  if (!CONSOLE_KINDS.includes(text as CredentialKind)) throw new InvalidArgumentError('expected admin or access')
  return text as CredentialKind
}

export function credentialCommand(dependencies: TokenCommandDependencies = {}): Command {
  const env = dependencies.env ?? process.env
  const stdout = dependencies.stdout ?? ((text: string) => void process.stdout.write(text))
  const stderr = dependencies.stderr ?? ((text: string) => void process.stderr.write(text))
  const catalog: () => RegionCatalog = dependencies.catalog ?? (() => loadRegionCatalog(env.SCIMGATE_REGIONS_FILE))
  const now = dependencies.now ?? Date.now

  function regionCode(region: string): string {
    const found = catalog().byCode(region)
    if (found === undefined) throw new ConfigError('--region', [`unknown region ${region}; known: ${catalog().regions.map((r) => r.code).join(', ')}`])
    return found.code
  }

  /** The record behind an id, refused when it is a provisioning token (those are `scimgate token …`). */
  function requireCredential(record: TokenRecord | undefined, id: string): TokenRecord {
    if (record === undefined || record.kind === 'provisioning') throw new Error(`no credential ${id}`)
    return record
  }

  const command = new Command('credential').description('admin-API and console credentials: admin (one tenant in one region) and access (a region’s product services)')

  command
    .command('create')
    .description('create a credential; prints only the credential on stdout (it is shown once)')
    .requiredOption('-k, --kind <kind>', 'admin or access', parseKind)
    .requiredOption('-r, --region <code>', 'region code, e.g. EU1')
    .option('-t, --tenant <id>', 'tenant id (admin credentials only)')
    .option('-l, --label <text>', 'who or what the credential is for', '')
    .option('-e, --expires <when>', 'expiry: ISO date or duration (90d, 12h); default never', (v) => parseExpiry(v, now()))
    .action(async (options: { kind: CredentialKind; region: string; tenant?: string; label: string; expires?: number }) => {
      if (options.kind === 'admin' && options.tenant === undefined) throw new ConfigError('--tenant', ['an admin credential is bound to one tenant: give --tenant'])
      if (options.kind === 'access' && options.tenant !== undefined) throw new ConfigError('--tenant', ['an access credential serves every tenant of its region: leave out --tenant'])
      const region = regionCode(options.region)
      const tenantId = options.kind === 'access' ? ALL_TENANTS : (options.tenant ?? '')
      const { token, record } = await withTokenStore(env, stderr, now, (store) =>
        store.create({ kind: options.kind, tenantId, region, label: options.label, expiresAt: options.expires ?? null }),
      )
      stdout(`${token}\n`)
      const scope = record.kind === 'access' ? `every tenant of ${record.region} (access:read)` : `tenant ${record.tenantId} in ${record.region}`
      stderr(`created ${record.kind} credential ${record.tokenId} for ${scope}; store it now, it cannot be shown again\n`)
    })

  command
    .command('list')
    .description('list credentials of a region: id, kind, tenant, label, created, expires, status (tab-separated; never the secret)')
    .requiredOption('-r, --region <code>', 'region code')
    .option('-t, --tenant <id>', 'admin credentials of this tenant (default: the access credentials of the region)')
    .action(async (options: { region: string; tenant?: string }) => {
      const region = regionCode(options.region)
      const records = (await withTokenStore(env, stderr, now, (store) => store.list(options.tenant ?? ALL_TENANTS, region))).filter((r) => r.kind !== 'provisioning')
      const at = now()
      for (const r of records) {
        const expires = r.expiresAt === null ? 'never' : new Date(r.expiresAt).toISOString()
        stdout(`${[r.tokenId, r.kind, r.tenantId, r.label, new Date(r.createdAt).toISOString(), expires, describeStatus(r, at)].join('\t')}\n`)
      }
      if (records.length === 0) stderr(`no credentials${options.tenant === undefined ? ' (access)' : ` of tenant ${options.tenant}`} in ${region}\n`)
    })

  command
    .command('rotate')
    .description('issue a new credential of the same kind and binding; the old one stays valid until revoked or expired')
    .argument('<credential-id>', 'id from `credential list`')
    .option('-e, --expires <when>', 'expiry of the new credential (default: the old lifetime)', (v) => parseExpiry(v, now()))
    .action(async (id: string, options: { expires?: number }) => {
      const issued = await withTokenStore(env, stderr, now, async (store) => {
        requireCredential(await store.get(id), id)
        return store.rotate(id, options.expires === undefined ? {} : { expiresAt: options.expires })
      })
      if (issued === undefined) throw new Error(`no credential ${id}`)
      stdout(`${issued.token}\n`)
      stderr(`created ${issued.record.tokenId}; revoke ${id} once the new credential is in use\n`)
    })

  command
    .command('revoke')
    .description('revoke a credential; its console sessions end with it')
    .argument('<credential-id>', 'id from `credential list`')
    .action(async (id: string) => {
      const record = await withTokenStore(env, stderr, now, async (store) => {
        requireCredential(await store.get(id), id)
        return store.revoke(id)
      })
      if (record === undefined) throw new Error(`no credential ${id}`)
      stderr(`revoked ${record.kind} credential ${record.tokenId} of ${record.tenantId} in ${record.region}\n`)
    })

  return command
}
