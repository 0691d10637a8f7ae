import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { Command } from 'commander'
import type { Redis } from 'ioredis'
import { credentialCommand } from '../../cli/credential-command.ts'
import { tokenCommand, type TokenCommandDependencies } from '../../cli/token-command.ts'
import { resolvePeppers } from '../../config/token-peppers.ts'
import { createTokenHasher } from '../../gateway/tokens/token-hasher.ts'
import { createTokenStore } from '../../gateway/tokens/token-store.ts'
import { createRedisConnection, waitForRedisReady } from '../../gateway/redis/redis-connection.ts'
import { deleteKeysUnderPrefix } from '../helpers/redis-keys.ts'

const prefix = `test:credential-cli:${randomBytes(6).toString('hex')}:`
const env = { REDIS_URL: 'redis://127.0.0.1:6379', SCIMGATE_REDIS_PREFIX: prefix, TOKEN_PEPPERS: JSON.stringify([{ version: 'v1', secret: 'credential-cli-pepper-of-32-characters-or-more' }]) }
const redis = createRedisConnection({ mode: 'single', url: env.REDIS_URL }, 'commands') as Redis
await waitForRedisReady(redis, 5_000)
const peppers = resolvePeppers(env)
const hasher = createTokenHasher(peppers.peppers, peppers.current)
const store = createTokenStore(redis, { keyPrefix: prefix, hasher })
t.teardown(async () => {
  await deleteKeysUnderPrefix(redis, prefix)
  await redis.quit()
})

async function run(make: (deps: TokenCommandDependencies) => Command, args: string[]): Promise<{ stdout: string; stderr: string; error?: unknown }> {
  let stdout = ''
  let stderr = ''
  const command = make({ env, stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) })
  for (const sub of [command, ...command.commands]) sub.exitOverride().configureOutput({ writeOut: (s) => void (stdout += s), writeErr: (s) => void (stderr += s) })
  try {
    await command.parseAsync(['node', 'credential', ...args])
    return { stdout, stderr }
  } catch (error) {
    return { stdout, stderr, error }
  }
}

t.test('admin and access credentials: printed once, stored hashed, listed, rotated, revoked', async (t) => {
  const admin = await run(credentialCommand, ['create', '--kind', 'admin', '--tenant', 'acme', '--region', 'eu1', '--label', 'Kim'])
  t.equal(admin.error, undefined)
  const adminSecret = admin.stdout.trimEnd()
  t.match(admin.stdout, /^scg_eu1_[0-9A-Za-z]{38}\n$/, 'stdout holds only the credential')
  t.match(await store.lookup(adminSecret), { kind: 'admin', tenantId: 'acme', region: 'EU1', scopes: [], status: 'active' })
  const stored = await redis.get(`${prefix}{tokens}:record:${hasher.digest(adminSecret, 'v1')}`)
  t.ok(stored, 'found under its HMAC')
  t.notMatch(stored ?? '', adminSecret)

  const access = await run(credentialCommand, ['create', '--kind', 'access', '--region', 'EU1'])
  t.match(await store.lookup(access.stdout.trimEnd()), { kind: 'access', tenantId: '*', region: 'EU1' })
  t.match((await run(credentialCommand, ['create', '--kind', 'admin', '--region', 'EU1'])).error, /--tenant/, 'an admin credential needs a tenant')
  t.match((await run(credentialCommand, ['create', '--kind', 'access', '--tenant', 'acme', '--region', 'EU1'])).error, /--tenant/, 'an access credential has none')
  t.ok((await run(credentialCommand, ['create', '--kind', 'root', '--region', 'EU1'])).error, 'unknown kinds are refused')

  const listed = (await run(credentialCommand, ['list', '--region', 'EU1', '--tenant', 'acme'])).stdout.trimEnd().split('\n')
  t.equal(listed.length, 1)
  t.match(listed[0], /^tok_\w{20}\tadmin\tacme\tKim\t/)
  t.match((await run(credentialCommand, ['list', '--region', 'EU1'])).stdout, /\taccess\t\*\t/, 'without --tenant: the region’s access credentials')

  await run(tokenCommand, ['create', '--tenant', 'acme', '--region', 'EU1'])
  const tokens = await run(tokenCommand, ['list', '--tenant', 'acme', '--region', 'EU1'])
  t.equal(tokens.stdout.trimEnd().split('\n').length, 1, '`token list` shows provisioning tokens only')
  const tokenId = tokens.stdout.split('\t')[0]!
  t.match((await run(credentialCommand, ['revoke', tokenId])).error, /no credential/, '`credential revoke` leaves provisioning tokens alone')

  const id = listed[0]!.split('\t')[0]!
  const rotated = await run(credentialCommand, ['rotate', id])
  t.match(await store.lookup(rotated.stdout.trimEnd()), { kind: 'admin', tenantId: 'acme', region: 'EU1', label: 'Kim' })
  t.equal((await run(credentialCommand, ['revoke', id])).error, undefined)
  t.match(await store.lookup(adminSecret), { status: 'revoked' })
})
