import t from 'tap'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Redis } from 'ioredis'
import { ConfigError } from '../../config/config-error.ts'
import { parseExpiry, tokenCommand } from '../../cli/token-command.ts'
import { parseToken } from '../../gateway/tokens/token-format.ts'
import { resolvePeppers } from '../../config/token-peppers.ts'
import { createTokenHasher } from '../../gateway/tokens/token-hasher.ts'
import { createTokenStore } from '../../gateway/tokens/token-store.ts'
import { createRedisConnection, waitForRedisReady } from '../../gateway/redis/redis-connection.ts'

// bin/scimgate.js does not register `token` yet (cli/scimgate.ts is wired by
// its owner), so the command runs in-process; one child-process run below
// checks that it closes Redis and lets the process exit.
const prefix = `test:cli:${randomBytes(6).toString('hex')}:`
const PEPPERS = JSON.stringify([{ version: 'v1', secret: 'cli-test-pepper-of-32-characters-or-more' }])
const env = { REDIS_URL: 'redis://127.0.0.1:6379', SCIMGATE_REDIS_PREFIX: prefix, TOKEN_PEPPERS: PEPPERS }
const redis = createRedisConnection({ mode: 'single', url: env.REDIS_URL }, 'commands') as Redis
await waitForRedisReady(redis, 5_000)
const peppers = resolvePeppers(env)
const store = createTokenStore(redis, { keyPrefix: prefix, hasher: createTokenHasher(peppers.peppers, peppers.current) })

t.teardown(async () => {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  await redis.quit()
})

async function run(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<{ stdout: string; stderr: string; error?: unknown }> {
  let stdout = ''
  let stderr = ''
  const command = tokenCommand({ env: { ...env, ...extraEnv }, stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) })
  for (const sub of [command, ...command.commands]) {
    sub.exitOverride().configureOutput({ writeOut: (s) => void (stdout += s), writeErr: (s) => void (stderr += s) })
  }
  try {
    await command.parseAsync(['node', 'token', ...args])
    return { stdout, stderr }
  } catch (error) {
    return { stdout, stderr, error }
  }
}

t.test('create prints only the token; list, rotate, revoke', async (t) => {
  const created = await run(['create', '--tenant', 'acme', '--region', 'eu1', '--label', 'Okta prod', '--expires', '90d', '--scopes', 'scim,admin'])
  t.equal(created.error, undefined)
  const token = created.stdout.trimEnd()
  t.match(created.stdout, /^scg_eu1_[0-9A-Za-z]{38}\n$/, 'stdout holds the token and nothing else')
  t.same(parseToken(token), { region: 'EU1' })
  t.match(created.stderr, /created tok_/)
  t.notMatch(created.stderr, token)
  const record = await store.lookup(token)
  t.match(record, { tenantId: 'acme', region: 'EU1', label: 'Okta prod', scopes: ['scim', 'admin'], status: 'active' })
  t.ok(record?.expiresAt && Math.abs(record.expiresAt - (Date.now() + 90 * 86_400_000)) < 60_000)

  const listed = await run(['list', '--tenant', 'acme', '--region', 'EU1'])
  const lines = listed.stdout.trimEnd().split('\n')
  t.equal(lines.length, 1)
  const fields = lines[0]?.split('\t') ?? []
  t.equal(fields[0], record?.tokenId, 'starts with the token id')
  t.same(fields.slice(1, 2), ['Okta prod'])
  t.match(fields[2], /^\d{4}-\d{2}-\d{2}T/)
  t.match(fields[3], /^\d{4}-\d{2}-\d{2}T/)
  t.equal(fields[4], 'active')
  t.same(fields.slice(5), ['never', '-'], 'not used yet')
  t.notMatch(listed.stdout, token.slice(8, 40), 'never the token')
  await store.recordUsage(new Map([[record!.tokenId, { lastUsedAt: Date.parse('2026-11-30T10:00:00Z'), clientKind: 'entra' as const }]]))
  t.same((await run(['list', '--tenant', 'acme', '--region', 'EU1'])).stdout.trimEnd().split('\t').slice(5), ['2026-11-30T10:00:00.000Z', 'entra'], 'last used and by which client')
  t.same(
    (await store.pendingEvents('EU1', 10)).map((e) => [e.type, e.resourceId, e.actor]),
    [['token.created', record!.tokenId, { type: 'admin', id: 'cli' }]],
    'the creation waits in the outbox for a gateway to deliver it to EU1',
  )

  const rotated = await run(['rotate', record?.tokenId ?? ''])
  const next = rotated.stdout.trimEnd()
  t.match(rotated.stdout, /^scg_eu1_[0-9A-Za-z]{38}\n$/)
  t.not(next, token)
  t.equal((await store.lookup(next))?.label, 'Okta prod')
  t.equal((await store.lookup(token))?.status, 'active', 'old one still valid')

  const revoked = await run(['revoke', record?.tokenId ?? ''])
  t.equal(revoked.error, undefined)
  t.equal(revoked.stdout, '')
  t.equal((await store.lookup(token))?.status, 'revoked')
  const after = await run(['list', '--tenant', 'acme', '--region', 'EU1'])
  t.same(after.stdout.trimEnd().split('\n').map((l) => l.split('\t')[4]), ['revoked', 'active'])

  const empty = await run(['list', '--tenant', 'nobody', '--region', 'EU1'])
  t.equal(empty.stdout, '')
  t.match(empty.stderr, /no tokens/)
})

t.test('mistakes are refused with a clear message', async (t) => {
  const cases: [string, string[], RegExp][] = [
    ['unknown region', ['create', '--tenant', 'acme', '--region', 'XX9'], /unknown region XX9/],
    ['bad tenant', ['create', '--tenant', 'a b', '--region', 'EU1'], /tenant id must match/],
    ['bad expiry', ['create', '--tenant', 'acme', '--region', 'EU1', '--expires', 'soon'], /ISO date/],
    ['past expiry', ['create', '--tenant', 'acme', '--region', 'EU1', '--expires', '2001-01-01'], /in the past/],
    ['bad scope', ['create', '--tenant', 'acme', '--region', 'EU1', '--scopes', 'root'], /scim, admin/],
    ['missing tenant', ['create', '--region', 'EU1'], /--tenant/],
    ['unknown token id', ['revoke', 'tok_AAAAAAAAAAAAAAAAAAAA'], /no token/],
    ['unknown token id to rotate', ['rotate', 'tok_AAAAAAAAAAAAAAAAAAAA'], /no token/],
  ]
  for (const [name, args, message] of cases) {
    const result = await run(args)
    t.ok(result.error !== undefined, `${name}: fails`)
    t.equal(result.stdout, '', `${name}: nothing on stdout`)
    t.match(`${(result.error as Error).message}\n${result.stderr}`, message, name)
  }
  const production = await run(['create', '--tenant', 'acme', '--region', 'EU1'], { TOKEN_PEPPERS: undefined, NODE_ENV: 'production' })
  t.ok(production.error instanceof ConfigError, 'production needs TOKEN_PEPPERS')
  const unasked = await run(['create', '--tenant', 'acme', '--region', 'EU1'], { TOKEN_PEPPERS: undefined })
  t.ok(unasked.error instanceof ConfigError, 'without NODE_ENV, TOKEN_PEPPERS is still required (fail closed)')
  const dev = await run(['create', '--tenant', 'devtenant', '--region', 'EU1'], { TOKEN_PEPPERS: undefined, SCIMGATE_DEV_SECRETS: '1' })
  t.match(dev.stderr, /development-only pepper/)
  t.match(dev.stdout, /^scg_eu1_/)
})

t.test('after `scimgate dev`, the token command follows its marker to the development pepper and token store', async (t) => {
  const dataDir = t.testdir({})
  await writeFile(join(dataDir, 'dev-mode.json'), JSON.stringify({ devSecrets: true, tokenStoreFile: join(dataDir, 'tokens.json') }))
  const local = { REDIS_URL: undefined, SCIMGATE_REDIS_PREFIX: undefined, TOKEN_PEPPERS: undefined, SCIMGATE_DATA_DIR: dataDir }
  const created = await run(['create', '--tenant', 'acme', '--region', 'EU1'], local)
  t.equal(created.error, undefined, `${created.stderr}`)
  t.match(created.stdout, /^scg_eu1_/)
  t.match(created.stderr, /development-only pepper/)
  const elsewhere = await run(['create', '--tenant', 'acme', '--region', 'EU1'], { ...local, REDIS_URL: 'redis://127.0.0.1:6379' })
  t.ok(elsewhere.error instanceof ConfigError, 'a Redis named explicitly is not the development gateway: real peppers needed')
})

t.test('Redis down: a clear error, promptly', async (t) => {
  const started = Date.now()
  const result = await run(['list', '--tenant', 'acme', '--region', 'EU1'], { REDIS_URL: 'redis://127.0.0.1:1' })
  t.match((result.error as Error).message, /not reachable/)
  t.notMatch((result.error as Error).message, /127\.0\.0\.1:1/, 'no address in the message')
  t.ok(Date.now() - started < 7_000)
})

t.test('parseExpiry', async (t) => {
  const now = Date.parse('2025-01-01T00:00:00Z')
  t.equal(parseExpiry('90d', now), now + 90 * 86_400_000)
  t.equal(parseExpiry('12h', now), now + 12 * 3_600_000)
  t.equal(parseExpiry('2w', now), now + 14 * 86_400_000)
  t.equal(parseExpiry('2026-01-01', now), Date.parse('2026-01-01T00:00:00Z'))
  t.equal(parseExpiry('2026-01-01T12:00:00+02:00', now), Date.parse('2026-01-01T10:00:00Z'))
  for (const bad of ['0d', '90', 'd', '2024-12-31', 'tomorrow', '2026-13-45']) t.throws(() => parseExpiry(bad, now), bad)
})

t.test('as a process: prints the token and exits promptly (Redis closed)', async (t) => {
  const script = `
    const { stripsTypesNatively } = await import(${JSON.stringify(new URL('../../lib/typescript-runtime.js', import.meta.url).href)})
    if (!stripsTypesNatively()) (await import('tsx/esm/api')).register()
    const { tokenCommand } = await import(${JSON.stringify(new URL('../../cli/token-command.ts', import.meta.url).href)})
    await tokenCommand().parseAsync(process.argv.slice(1), { from: 'user' })
  `
  const started = Date.now()
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, 'create', '--tenant', 'proc', '--region', 'US1'], {
    env: { ...process.env, ...env },
    timeout: 20_000,
  })
  t.match(stdout, /^scg_us1_[0-9A-Za-z]{38}\n$/)
  t.equal((await store.lookup(stdout.trim()))?.tenantId, 'proc')
  t.pass(`exited after ${Date.now() - started} ms`)
})
