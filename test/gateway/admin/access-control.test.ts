// The admin listener's one gate, driven with inject over the built-in file
// token store: every route declares a permission, bindings come from the
// route, access credentials reach only access:read routes, guesses are limited.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadGatewayConfig } from '../../../config/gateway-config.ts'
import { loadRegionCatalog } from '../../../config/region-catalog.ts'
import { buildAdminApi } from '../../../gateway/admin/admin-api.ts'
import { sha256Hex } from '../../../gateway/admin/admin-credential.ts'
import { createFileTokenStore } from '../../../gateway/tokens/file-token-store.ts'
import { resolvePeppers } from '../../../config/token-peppers.ts'
import { createTokenHasher } from '../../../gateway/tokens/token-hasher.ts'
import { generateIdentityKeyPair } from '../../../lib/internal-identity.ts'
import { SCIM_ERROR_SCHEMA } from '../../../lib/scim-error.ts'
import { gatewaySecretsEnv, TEST_TOKEN_PEPPERS } from '../../helpers/test-secrets.ts'

const OPERATOR = 'operator-secret'
const dir = mkdtempSync(join(tmpdir(), 'scimgate-access-control-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const peppers = resolvePeppers({ TOKEN_PEPPERS: TEST_TOKEN_PEPPERS })
const hasher = createTokenHasher(peppers.peppers, peppers.current)
const tokenStore = createFileTokenStore(join(dir, 'tokens.json'), { hasher })
const keys = await generateIdentityKeyPair()
const config = loadGatewayConfig(
  { ...gatewaySecretsEnv(keys), ADMIN_TOKEN_SHA256: sha256Hex(OPERATOR), ADMIN_FAILED_AUTH_PER_ADDRESS: '3', LOG_LEVEL: 'silent', CONSOLE_ASSETS_DIR: join(dir, 'console') },
  loadRegionCatalog(),
)
const { signingKey } = keys

async function build() {
  const app = await buildAdminApi(config, { tokenStore, signingKey }, { logger: false })
  // Routes another module adds later are covered by the same gate (e.g. the access decision).
  app.get('/admin/v1/regions/:region/tenants/:tenant/probe', { config: { permission: 'access:read' } }, async () => ({ ok: true }))
  app.get('/admin/v1/operator-probe', { config: { permission: 'operator' } }, async () => ({ ok: true }))
  return app
}
const app = await build()
t.teardown(() => app.close())

const admin = (await tokenStore.create({ kind: 'admin', tenantId: 'acme', region: 'EU1' })).token
const access = (await tokenStore.create({ kind: 'access', tenantId: '*', region: 'EU1' })).token
const provisioning = (await tokenStore.create({ tenantId: 'acme', region: 'EU1' })).token
const call = (credential: string | undefined, url: string, method: 'GET' | 'POST' | 'DELETE' = 'GET', body?: unknown, address = '10.0.0.1') =>
  app.inject({ method, url, remoteAddress: address, headers: credential === undefined ? {} : { authorization: `Bearer ${credential}` }, ...(body === undefined ? {} : { payload: body as object }) })

t.test('a route without a permission declaration fails at registration', async (t) => {
  const other = await buildAdminApi(config, { tokenStore, signingKey }, { logger: false })
  t.teardown(() => other.close())
  t.throws(() => other.get('/admin/v1/undeclared', async () => ({})), /must declare config\.permission/)
  t.throws(() => other.get('/admin/v1/misdeclared', { config: { permission: 'everyone' as never } }, async () => ({})), /must declare config\.permission/)
})

t.test('a team admin of acme/EU1 acts on acme/EU1 only; refusals are SCIM errors', async (t) => {
  t.equal((await call(admin, '/admin/v1/tokens?tenant=acme&region=EU1')).statusCode, 200)
  t.equal((await call(admin, '/admin/v1/tokens?tenant=acme&region=eu1')).statusCode, 200, 'region codes in any case')
  for (const url of ['/admin/v1/tokens?tenant=acme&region=US1', '/admin/v1/tokens?tenant=other&region=EU1', '/admin/v1/tokens', '/admin/v1/regions/US1/tenants/acme/probe', '/admin/v1/regions/EU1/tenants/other/probe', '/admin/v1/operator-probe', '/admin/v1/credentials?region=EU1']) {
    const response = await call(admin, url)
    t.equal(response.statusCode, 403, url)
    t.match(response.json(), { schemas: [SCIM_ERROR_SCHEMA], status: '403' })
    t.match(response.headers['content-type'], /application\/scim\+json/)
  }
  t.equal((await call(admin, '/admin/v1/tokens', 'POST', { tenantId: 'other', region: 'EU1' })).statusCode, 403, 'cannot create a token for another tenant')
  t.equal((await call(admin, '/admin/v1/tokens', 'POST', { tenantId: 'acme', region: 'US1' })).statusCode, 403, 'nor in another region')
  const foreign = await tokenStore.create({ tenantId: 'other', region: 'EU1' })
  t.equal((await call(admin, `/admin/v1/tokens/${foreign.record.tokenId}`, 'DELETE')).statusCode, 403, 'nor revoke another tenant’s token')
  t.equal((await tokenStore.get(foreign.record.tokenId))?.status, 'active')
  t.equal((await call(admin, '/admin/v1/regions/EU1/tenants/acme/probe')).statusCode, 200, 'access:read includes the tenant’s admin')
  const created = await call(admin, '/admin/v1/tokens', 'POST', { tenantId: 'acme', region: 'EU1', label: 'okta' })
  t.equal(created.statusCode, 201)
  t.equal((await call(admin, `/admin/v1/tokens/${created.json().tokenId}`, 'DELETE')).statusCode, 200)
})

t.test('an access credential may call only access:read routes of its region', async (t) => {
  t.equal((await call(access, '/admin/v1/regions/EU1/tenants/acme/probe')).statusCode, 200)
  t.equal((await call(access, '/admin/v1/regions/EU1/tenants/other/probe')).statusCode, 200, 'any tenant of its region')
  t.equal((await call(access, '/admin/v1/regions/US1/tenants/acme/probe')).statusCode, 403, 'not another region')
  t.equal((await call(access, '/admin/v1/tokens?tenant=acme&region=EU1')).statusCode, 403, 'tenant:admin routes are closed to it')
  t.equal((await call(access, '/admin/v1/regions/EU1/tenants/acme/users')).statusCode, 403)
  t.equal((await call(access, '/admin/v1/tokens', 'POST', { tenantId: 'acme', region: 'EU1' })).statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: '10.0.0.7', payload: { credential: access } })).statusCode, 403, 'and it cannot sign in to the console')
})

t.test('the operator sees everything; provisioning tokens and revoked credentials are not admin credentials', async (t) => {
  for (const url of ['/admin/v1/tokens?tenant=other&region=US1', '/admin/v1/regions/US1/tenants/x/probe', '/admin/v1/operator-probe', '/admin/v1/credentials?region=EU1']) {
    t.equal((await call(OPERATOR, url, 'GET', undefined, '10.0.0.2')).statusCode, 200, url)
  }
  t.equal((await call(provisioning, '/admin/v1/tokens?tenant=acme&region=EU1', 'GET', undefined, '10.0.0.2')).statusCode, 401)
  const doomed = await tokenStore.create({ kind: 'admin', tenantId: 'acme', region: 'EU1' })
  t.equal((await call(doomed.token, '/admin/v1/tokens?tenant=acme&region=EU1', 'GET', undefined, '10.0.0.2')).statusCode, 200)
  await tokenStore.revoke(doomed.record.tokenId)
  t.equal((await call(doomed.token, '/admin/v1/tokens?tenant=acme&region=EU1', 'GET', undefined, '10.0.0.2')).statusCode, 401)
  t.equal((await call(undefined, '/admin/v1/no-such-route', 'GET', undefined, '10.0.0.9')).statusCode, 401, 'unknown paths need a credential too')
})

t.test('guesses are limited per address, failures only', async (t) => {
  const address = '10.0.0.3'
  for (let i = 0; i < 10; i++) t.equal((await call(admin, '/admin/v1/tokens?tenant=acme&region=EU1', 'GET', undefined, address)).statusCode, 200, 'successes do not count')
  for (let i = 0; i < 3; i++) t.equal((await call(`scg_eu1_${'x'.repeat(38)}`, '/admin/v1/tokens?tenant=acme&region=EU1', 'GET', undefined, address)).statusCode, 401)
  const blocked = await call(admin, '/admin/v1/tokens?tenant=acme&region=EU1', 'GET', undefined, address)
  t.equal(blocked.statusCode, 429, 'even the right credential waits once the address guessed too often')
  t.ok(Number(blocked.headers['retry-after']) > 0)
  t.equal((await call(admin, '/admin/v1/tokens?tenant=acme&region=EU1', 'GET', undefined, '10.0.0.4')).statusCode, 200, 'other addresses are not affected')
  for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: '10.0.0.5', payload: { credential: 'wrong' } })
  t.equal((await app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: '10.0.0.5', payload: { credential: admin } })).statusCode, 429, 'console sign-in shares the limit')
})

t.test('console sessions: HttpOnly SameSite=Strict cookie, CSRF on writes, end with the credential', async (t) => {
  const address = '10.0.0.6'
  const signIn = await app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: address, headers: { host: 'admin.example.com' }, payload: { credential: admin } })
  t.equal(signIn.statusCode, 201)
  const setCookie = String(signIn.headers['set-cookie'])
  t.match(setCookie, /^__Host-scimgate-console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/, 'Secure outside localhost')
  const local = await app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: address, headers: { host: '127.0.0.1:8081' }, payload: { credential: admin } })
  t.notMatch(String(local.headers['set-cookie']), /Secure/, 'plain http on the loopback')
  const cookie = setCookie.split(';')[0]!
  const { csrfToken } = signIn.json() as { csrfToken: string }
  const headers = { host: 'admin.example.com', cookie }
  const session = (method: 'GET' | 'POST', url: string, extra: Record<string, string> = {}, payload?: object) =>
    app.inject({ method, url, remoteAddress: address, headers: { ...headers, ...extra }, ...(payload === undefined ? {} : { payload }) })

  t.equal((await session('GET', '/admin/v1/tokens?tenant=acme&region=EU1')).statusCode, 200, 'the cookie authenticates reads')
  t.equal((await session('GET', '/admin/v1/tokens?tenant=acme&region=US1')).statusCode, 403, 'with the credential’s binding')
  t.equal((await session('POST', '/admin/v1/tokens', {}, { tenantId: 'acme', region: 'EU1' })).statusCode, 403, 'a write without the CSRF token is refused')
  t.equal((await session('POST', '/admin/v1/tokens', { 'x-csrf-token': 'forged' }, { tenantId: 'acme', region: 'EU1' })).statusCode, 403, 'a wrong CSRF token too')
  t.equal((await session('POST', '/admin/v1/tokens', { 'x-csrf-token': csrfToken, origin: 'https://evil.example' }, { tenantId: 'acme', region: 'EU1' })).statusCode, 403, 'and another origin')
  t.equal((await session('POST', '/admin/v1/tokens', { 'x-csrf-token': csrfToken, origin: 'https://admin.example.com' }, { tenantId: 'acme', region: 'EU1' })).statusCode, 201)
  t.equal((await app.inject({ method: 'GET', url: '/admin/v1/tokens?tenant=acme&region=EU1', headers: { host: 'admin.example.com', cookie: '__Host-scimgate-console=' + 'A'.repeat(43) } })).statusCode, 401, 'an unknown session is refused')
  t.equal((await app.inject({ method: 'GET', url: '/console/api/session', headers: { host: 'admin.example.com' } })).statusCode, 401, 'no session, no session info')

  const second = await tokenStore.create({ kind: 'admin', tenantId: 'acme', region: 'EU1' })
  const signedIn = await app.inject({ method: 'POST', url: '/console/api/session', remoteAddress: address, headers: { host: 'admin.example.com' }, payload: { credential: second.token } })
  const secondCookie = String(signedIn.headers['set-cookie']).split(';')[0]!
  await tokenStore.revoke(second.record.tokenId)
  t.equal((await app.inject({ method: 'GET', url: '/admin/v1/tokens?tenant=acme&region=EU1', headers: { host: 'admin.example.com', cookie: secondCookie } })).statusCode, 401, 'revoking the credential ends its sessions')

  const signOut = await session('GET', '/console/api/session')
  t.equal(signOut.statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: '/console/api/session', remoteAddress: address, headers: { ...headers, 'x-csrf-token': csrfToken } })).statusCode, 204)
  t.equal((await session('GET', '/admin/v1/tokens?tenant=acme&region=EU1')).statusCode, 401, 'signed out')
})

t.test('the console page: strict CSP, hashed assets cached for good, nothing inline', async (t) => {
  const page = await app.inject({ method: 'GET', url: '/console/users?q=kim' })
  t.equal(page.statusCode, 200)
  const csp = String(page.headers['content-security-policy'])
  t.match(csp, /default-src 'none'/)
  t.match(csp, /script-src 'self'(;|$)/)
  t.match(csp, /style-src 'self'(;|$)/)
  t.notMatch(csp, /unsafe-inline|unsafe-eval|https?:/)
  t.equal(page.headers['cache-control'], 'no-store')
  t.notMatch(page.body, /<script>|<style|\sstyle=|\son[a-z]+=/i, 'no inline script, style or handler')
  const assets = [...page.body.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!)
  t.equal(assets.length, 2)
  for (const asset of assets) {
    t.match(asset, /main-[A-Z0-9]{8}\.(js|css)$/, 'content hash in the name')
    const response = await app.inject({ method: 'GET', url: asset })
    t.equal(response.statusCode, 200)
    t.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable')
  }
  t.equal((await app.inject({ method: 'GET', url: '/console/assets/..%2Fmanifest.json' })).statusCode, 404)
})

t.test('the operator manages credentials over HTTP; tokens and credentials stay apart', async (t) => {
  const address = '10.0.0.8'
  const created = await call(OPERATOR, '/admin/v1/credentials', 'POST', { kind: 'admin', tenantId: 'globex', region: 'eu1', label: 'Ana' }, address)
  t.equal(created.statusCode, 201)
  const credential = created.json() as { token: string; tokenId: string; kind: string; tenantId: string; region: string; scopes: string[] }
  t.match(credential, { kind: 'admin', tenantId: 'globex', region: 'EU1', scopes: [] })
  t.equal((await call(credential.token, '/admin/v1/tokens?tenant=globex&region=EU1', 'GET', undefined, address)).statusCode, 200, 'it works at once')
  t.equal((await call(OPERATOR, '/admin/v1/credentials', 'POST', { kind: 'access', tenantId: 'globex', region: 'EU1' }, address)).statusCode, 400, 'an access credential has no tenant')
  t.equal((await call(OPERATOR, '/admin/v1/credentials', 'POST', { kind: 'admin', region: 'EU1' }, address)).statusCode, 400, 'an admin credential needs one')
  const listed = (await call(OPERATOR, '/admin/v1/credentials?region=EU1&tenant=globex', 'GET', undefined, address)).json() as { tokens: { tokenId: string }[] }
  t.same(listed.tokens.map((c) => c.tokenId), [credential.tokenId])
  t.notOk(JSON.stringify(listed).includes(credential.token), 'never the secret')
  t.same(((await call(OPERATOR, '/admin/v1/tokens?tenant=globex&region=EU1', 'GET', undefined, address)).json() as { tokens: unknown[] }).tokens, [], 'credentials are not listed as tokens')
  t.equal((await call(OPERATOR, `/admin/v1/tokens/${credential.tokenId}`, 'DELETE', undefined, address)).statusCode, 404, 'nor revoked as tokens')
  const token = await tokenStore.create({ tenantId: 'globex', region: 'EU1' })
  t.equal((await call(OPERATOR, `/admin/v1/credentials/${token.record.tokenId}`, 'DELETE', undefined, address)).statusCode, 404, 'and tokens are not credentials')
  const rotated = await call(OPERATOR, `/admin/v1/credentials/${credential.tokenId}/rotate`, 'POST', {}, address)
  t.equal(rotated.statusCode, 201)
  t.match(rotated.json(), { kind: 'admin', tenantId: 'globex', region: 'EU1', label: 'Ana' })
  t.equal((await call(OPERATOR, `/admin/v1/credentials/${credential.tokenId}`, 'DELETE', undefined, address)).statusCode, 200)
  t.equal((await call(credential.token, '/admin/v1/tokens?tenant=globex&region=EU1', 'GET', undefined, '10.0.0.10')).statusCode, 401, 'revoked')
  t.equal((await call((rotated.json() as { token: string }).token, '/admin/v1/tokens?tenant=globex&region=EU1', 'GET', undefined, address)).statusCode, 200, 'the rotated one works')
})

t.test('access decisions and the change feed are access:read; the role catalog and the audit trail are the team admin’s', async (t) => {
  const address = '10.0.0.11'
  const base = '/admin/v1/regions/EU1/tenants/acme'
  // Past the gate the request goes to the region's node (none runs here): anything but 401/403 means the gate let it through.
  const passed = (status: number) => status !== 401 && status !== 403
  for (const path of ['/access?userName=kim', '/changes']) {
    t.ok(passed((await call(access, `${base}${path}`, 'GET', undefined, address)).statusCode), `access credential: ${path}`)
    t.ok(passed((await call(admin, `${base}${path}`, 'GET', undefined, address)).statusCode), `team admin: ${path}`)
    t.equal((await call(admin, `/admin/v1/regions/EU1/tenants/other${path}`, 'GET', undefined, address)).statusCode, 403, `not another tenant’s ${path}`)
  }
  for (const path of ['/roles', '/events']) {
    t.equal((await call(access, `${base}${path}`, 'GET', undefined, address)).statusCode, 403, `access credential: ${path}`)
    t.ok(passed((await call(admin, `${base}${path}`, 'GET', undefined, address)).statusCode), `team admin: ${path}`)
  }
})

t.test('token changes through the admin API are events whose actor is the credential that made them', async (t) => {
  const address = '10.0.0.12'
  const adminId = (await tokenStore.create({ kind: 'admin', tenantId: 'initech', region: 'EU1' })).record.tokenId
  const adminSecret = (await tokenStore.rotate(adminId))!.token
  const created = (await call(adminSecret, '/admin/v1/tokens', 'POST', { tenantId: 'initech', region: 'EU1', label: 'okta' }, address)).json() as { tokenId: string; lastUsedAt: unknown; lastUsedBy: unknown }
  t.match(created, { lastUsedAt: null, lastUsedBy: null }, 'a new token was never used')
  const rotatedAdminId = (await tokenStore.lookup(adminSecret))!.tokenId
  await call(OPERATOR, `/admin/v1/tokens/${created.tokenId}`, 'DELETE', undefined, address)
  const events = (await tokenStore.pendingEvents('EU1', 1000)).filter((e) => e.resourceId === created.tokenId)
  t.same(events.map((e) => [e.type, e.actor]), [
    ['token.created', { type: 'admin', id: rotatedAdminId }],
    ['token.revoked', { type: 'admin', id: 'operator' }],
  ])
  t.ok(events.every((e) => typeof e.requestId === 'string'))
  const listed = (await call(OPERATOR, '/admin/v1/tokens?tenant=initech&region=EU1', 'GET', undefined, address)).json() as { tokens: { lastUsedAt: unknown; lastUsedBy: unknown }[] }
  t.match(listed.tokens, [{ lastUsedAt: null, lastUsedBy: null }])
  t.equal((await call(OPERATOR, '/admin/v1/credentials', 'POST', { kind: 'access', region: 'EU1' }, address)).statusCode, 201)
  t.notOk((await tokenStore.pendingEvents('EU1', 1000)).some((e) => e.tenantId === '*'), 'an access credential belongs to no tenant’s event log')
})
