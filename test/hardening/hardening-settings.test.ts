// The settings the hardening items added: read from the environment in
// config/, defaulted, and refused with a named problem when wrong.
import t from 'tap'
import { DEVELOPMENT_CURSOR_KEYS } from '../../config/cursor-keys.ts'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadNodeConfig, tenantConcurrencyOf } from '../../config/node-config.ts'
import { loadRegionCatalog } from '../../config/region-catalog.ts'
import { problemsOf } from '../helpers/config-problems.ts'

const catalog = loadRegionCatalog()
const JWKS = JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'x', kid: 'k' }] })
const node = (env: Record<string, string>) => loadNodeConfig({ SCIMGATE_REGION: 'EU1', IDENTITY_JWKS: JWKS, SCIMGATE_DEV_SECRETS: '1', ...env }, catalog)

t.test('node defaults: member cap, list timeout, tenant share, client timeouts, development cursor key outside production', async (t) => {
  const config = node({ DATABASE_POOL_SIZE: '10' })
  t.equal(config.limits.maxMembersInResponse, 10_000)
  t.same(tenantConcurrencyOf(config.database), { connectionsPerTenant: 5, queueTimeoutMs: 5_000, statementTimeoutMs: 30_000, listStatementTimeoutMs: 10_000 })
  t.same(config.limits.clientTimeouts, { headersMs: 10_000, requestMs: 30_000 })
  t.equal(config.cursorKeys, DEVELOPMENT_CURSOR_KEYS)
})

t.test('node settings are read and checked', async (t) => {
  const config = node({
    SCIM_MAX_MEMBERS_IN_RESPONSE: '500',
    DATABASE_CONNECTIONS_PER_TENANT: '3',
    DATABASE_LIST_STATEMENT_TIMEOUT_MS: '2000',
    HTTP_HEADERS_TIMEOUT_MS: '5000',
    HTTP_REQUEST_TIMEOUT_MS: '9000',
    SCIM_CURSOR_KEYS: JSON.stringify([{ kid: 'c1', secret: 'a'.repeat(40) }, { kid: 'c2', secret: 'b'.repeat(40) }]),
    SCIM_CURSOR_KEY_CURRENT: 'c2',
  })
  t.equal(config.limits.maxMembersInResponse, 500)
  t.equal(tenantConcurrencyOf(config.database).connectionsPerTenant, 3)
  t.equal(tenantConcurrencyOf(config.database).listStatementTimeoutMs, 2_000)
  t.same(config.limits.clientTimeouts, { headersMs: 5_000, requestMs: 9_000 })
  t.equal(config.cursorKeys.current, 'c2')
  t.same(config.cursorKeys.keys.map((k) => k.kid), ['c1', 'c2'])

  t.match(problemsOf(() => node({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })), [/HTTP_HEADERS_TIMEOUT_MS/])
  t.match(problemsOf(() => node({ HTTP_REQUEST_TIMEOUT_MS: '60000' })), [/HTTP_REQUEST_TIMEOUT_MS/], 'well under the 60 s of the identity providers')
  t.match(problemsOf(() => loadNodeConfig({ SCIMGATE_REGION: 'EU1', IDENTITY_JWKS: JWKS, NODE_ENV: 'production' }, catalog)), [/SCIM_CURSOR_KEYS or SCIM_CURSOR_KEYS_FILE: is required/])
  t.match(problemsOf(() => node({ SCIM_CURSOR_KEYS: JSON.stringify([{ kid: 'c1', secret: 'short' }]) })), [/SCIM_CURSOR_KEYS/])
  t.match(problemsOf(() => node({ SCIM_CURSOR_KEYS: JSON.stringify([{ kid: 'c1', secret: 'a'.repeat(40) }, { kid: 'c2', secret: 'b'.repeat(40) }]) })), [/SCIM_CURSOR_KEY_CURRENT: is required/])
})

t.test('gateway settings: client timeouts, admin guess limit, served regions', async (t) => {
  const defaults = loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1' }, catalog)
  t.same(defaults.clientTimeouts, { headersMs: 10_000, requestMs: 30_000 })
  t.equal(defaults.adminFailedAuthPerAddress, 10)
  const set = loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1', SCIMGATE_REGION: 'eu1', ADMIN_FAILED_AUTH_PER_ADDRESS: '3', HTTP_HEADERS_TIMEOUT_MS: '2000' }, catalog)
  t.same(set.servedRegions, ['EU1'])
  t.equal(set.adminFailedAuthPerAddress, 3)
  t.equal(set.clientTimeouts.headersMs, 2_000)
  t.match(problemsOf(() => loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1', HTTP_HEADERS_TIMEOUT_MS: '40000' }, catalog)), [/HTTP_HEADERS_TIMEOUT_MS: must not exceed/])
})
