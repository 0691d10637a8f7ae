import t from 'tap'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadNodeConfig } from '../../config/node-config.ts'
import { loadRegionCatalog, parseRegionCatalog } from '../../config/region-catalog.ts'
import { loadTokenCommandConfig } from '../../config/token-command-config.ts'
import { problemsOf } from '../helpers/config-problems.ts'

const catalog = loadRegionCatalog()

t.test('the default catalog has the five regions of the brief with their hostnames', async (t) => {
  t.same(catalog.regions.map((r) => r.code), ['US1', 'EU1', 'EU2', 'AP1', 'AP2'])
  t.same(catalog.byCode('eu1')?.hostnames, ['ng-api-http.coralogix.com', 'webapi.coralogix.com', 'eu1.localhost'])
  t.equal(catalog.byCode('AP2')?.tenantUrl, 'https://ng-api-http.coralogixsg.com/scim')
  t.ok(Object.isFrozen(catalog.regions[0]))
})

t.test('a bad catalog is refused with every problem named', async (t) => {
  const problems = problemsOf(() =>
    parseRegionCatalog(
      {
        regions: [
          { code: 'eu1', name: 'x', tenantUrl: 'not a url', hostnames: ['Bad Host'], upstreams: ['ftp://x'], nodePort: 8102 },
          { code: 'US1', name: 'y', tenantUrl: 'https://a/scim', hostnames: ['a.example'], upstreams: ['http://127.0.0.1:1'], nodePort: 8102, extra: true },
          { code: 'US1', name: 'z', tenantUrl: 'https://b/scim', hostnames: ['a.example'], upstreams: ['http://127.0.0.1:2'], nodePort: 8103 },
        ],
      },
      'test',
    ),
  )
  for (const expected of [/regions\.0\.code/, /regions\.0\.tenantUrl/, /regions\.0\.hostnames/, /regions\.0\.upstreams/, /regions\.1.*extra|Unrecognized key/]) {
    t.ok(problems.some((p) => expected.test(p)), `names ${expected}: ${problems.join(' | ')}`)
  }
  const duplicates = problemsOf(() =>
    parseRegionCatalog(
      {
        regions: [
          { code: 'US1', name: 'y', tenantUrl: 'https://a/scim', hostnames: ['a.example'], upstreams: ['http://127.0.0.1:1'], nodePort: 8102 },
          { code: 'US1', name: 'z', tenantUrl: 'https://b/scim', hostnames: ['a.example'], upstreams: ['http://127.0.0.1:2'], nodePort: 8102 },
        ],
      },
      'test',
    ),
  )
  t.ok(duplicates.some((p) => /duplicate region code US1/.test(p)))
  t.ok(duplicates.some((p) => /hostname a\.example already belongs to US1/.test(p)))
  t.ok(duplicates.some((p) => /port 8102 already used/.test(p)))
  t.match(problemsOf(() => loadRegionCatalog('/nonexistent/regions.yaml'))[0], /cannot read region catalog/)
})

t.test('node settings: defaults, and every bad setting listed at once', async (t) => {
  const jwks = JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'k' }] })
  const config = loadNodeConfig({ SCIMGATE_REGION: 'eu1', IDENTITY_JWKS: jwks, SCIMGATE_DEV_SECRETS: '1' }, catalog)
  t.equal(config.region.code, 'EU1')
  t.equal(config.port, 8102)
  t.equal(config.database.url, 'postgres://postgres@127.0.0.1:5432/scimgate_eu1')
  t.equal(config.database.rowSecurityRole, 'scimgate_app')
  t.equal(config.limits.maxPageSize, 1000)
  const problems = problemsOf(() =>
    loadNodeConfig({ SCIMGATE_REGION: 'MARS', PORT: 'eighty', DATABASE_URL: 'mysql://x', DATABASE_ROW_SECURITY_ROLE: 'x; DROP TABLE users', LOG_LEVEL: 'loud' }, catalog),
  )
  for (const name of ['SCIMGATE_REGION', 'PORT', 'DATABASE_URL', 'DATABASE_ROW_SECURITY_ROLE', 'LOG_LEVEL', 'IDENTITY_JWKS']) {
    t.ok(problems.some((p) => p.startsWith(name)), `${name} is named: ${problems.join(' | ')}`)
  }
})

t.test('gateway settings: defaults, and every bad setting listed at once', async (t) => {
  const config = loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1' }, catalog)
  t.equal(config.port, 8080)
  t.same(config.trustedProxies, [])
  t.equal(config.redis.mode, 'single')
  t.ok(config.peppers.isDevelopment)
  const problems = problemsOf(() =>
    loadGatewayConfig({ PORT: '-1', ADMIN_TOKEN_SHA256: 'short', UPSTREAM_HEADERS_TIMEOUT_MS: '120000', IDENTITY_SIGNING_KEY: '{', TOKEN_PEPPERS: 'nope' }, catalog),
  )
  for (const name of ['PORT', 'ADMIN_TOKEN_SHA256', 'UPSTREAM_HEADERS_TIMEOUT_MS', 'IDENTITY_SIGNING_KEY', 'TOKEN_PEPPERS']) {
    t.ok(problems.some((p) => p.includes(name)), `${name} is named: ${problems.join(' | ')}`)
  }
  const production = problemsOf(() => loadGatewayConfig({ NODE_ENV: 'production' }, catalog))
  t.ok(production.some((p) => /IDENTITY_SIGNING_KEY/.test(p)), 'production needs a real signing key')
  t.ok(production.some((p) => /TOKEN_PEPPERS/.test(p)), 'production needs real peppers')
})

t.test('every setting of a process is checked in one pass: ops, shutdown and cross-setting rules join the one list', async (t) => {
  const jwks = JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'k' }] })
  const node = problemsOf(() =>
    loadNodeConfig({ SCIMGATE_REGION: 'EU1', IDENTITY_JWKS: jwks, PORT: 'x', OPS_PORT: 'abc', SHUTDOWN_GRACE_MS: '-5', SCIM_DEFAULT_PAGE_SIZE: '500', SCIM_MAX_PAGE_SIZE: '100' }, catalog),
  )
  for (const name of ['PORT', 'OPS_PORT', 'SHUTDOWN_GRACE_MS', 'SCIM_DEFAULT_PAGE_SIZE']) t.ok(node.some((p) => p.startsWith(name)), `node: ${name} is named: ${node.join(' | ')}`)
  const pageRuleAlone = problemsOf(() => loadNodeConfig({ SCIMGATE_REGION: 'EU1', IDENTITY_JWKS: jwks, SCIMGATE_DEV_SECRETS: '1', SCIM_DEFAULT_PAGE_SIZE: '500', SCIM_MAX_PAGE_SIZE: '100', LOG_LEVEL: 'loud' }, catalog))
  t.equal(pageRuleAlone.length, 2, `the page-size rule is listed with the others: ${pageRuleAlone.join(' | ')}`)
  const nodeConfig = loadNodeConfig({ SCIMGATE_REGION: 'EU2', IDENTITY_JWKS: jwks, SCIMGATE_DEV_SECRETS: '1', SHUTDOWN_GRACE_MS: '2500' }, catalog)
  t.same(nodeConfig.ops, { host: '127.0.0.1', port: 9467 }, 'node ops port: 9465 + the region position')
  t.equal(nodeConfig.shutdownGraceMs, 2500)

  const gateway = problemsOf(() => loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1', OPS_PORT: 'abc', SHUTDOWN_GRACE_MS: 'soon', REDIS_URL: 'http://x', SCIMGATE_REDIS_PREFIX: 'a b' }, catalog))
  for (const name of ['OPS_PORT', 'SHUTDOWN_GRACE_MS', 'REDIS_URL', 'SCIMGATE_REDIS_PREFIX']) t.ok(gateway.some((p) => p.includes(name)), `gateway: ${name} is named: ${gateway.join(' | ')}`)
  t.equal(loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1', OPS_PORT: 'off' }, catalog).ops, undefined)

  const token = problemsOf(() => loadTokenCommandConfig({ REDIS_URL: 'http://x', SCIMGATE_REDIS_PREFIX: 'a b', TOKEN_PEPPERS: 'nope' }))
  for (const name of ['REDIS_URL', 'SCIMGATE_REDIS_PREFIX', 'TOKEN_PEPPERS']) t.ok(token.some((p) => p.includes(name)), `token command: ${name} is named: ${token.join(' | ')}`)
})

t.test('fail closed: without real secrets the gateway and the node refuse to start, listing each; only SCIMGATE_DEV_SECRETS=1 lets them go without', async (t) => {
  for (const NODE_ENV of [undefined, 'development', 'staging', 'Production']) {
    const gateway = problemsOf(() => loadGatewayConfig({ NODE_ENV }, catalog))
    t.ok(gateway.some((p) => p.startsWith('TOKEN_PEPPERS: is required')), `gateway, NODE_ENV=${NODE_ENV}: ${gateway.join(' | ')}`)
    t.ok(gateway.some((p) => p.startsWith('IDENTITY_SIGNING_KEY or IDENTITY_SIGNING_KEY_FILE: is required')), `gateway, NODE_ENV=${NODE_ENV}: the signing key`)
    const node = problemsOf(() => loadNodeConfig({ NODE_ENV, SCIMGATE_REGION: 'EU1' }, catalog, { devKeySet: { keys: [{ kty: 'OKP', kid: 'dev' }] } }))
    t.ok(node.some((p) => p.startsWith('IDENTITY_JWKS or IDENTITY_JWKS_FILE: is required')), `node, NODE_ENV=${NODE_ENV}: the dev keys are not used unasked`)
    t.ok(node.some((p) => p.startsWith('SCIM_CURSOR_KEYS or SCIM_CURSOR_KEYS_FILE: is required')), `node, NODE_ENV=${NODE_ENV}: nor the development cursor key`)
  }
  t.equal(loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1' }, catalog).identitySigningKey, undefined, 'asked: the development key')
  const devKeySet = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'dev' }] }
  t.same(loadNodeConfig({ SCIMGATE_DEV_SECRETS: '1', SCIMGATE_REGION: 'EU1' }, catalog, { devKeySet }).identityKeySet, devKeySet)
  const refused = problemsOf(() => loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1', NODE_ENV: 'production' }, catalog))
  t.ok(refused.some((p) => /SCIMGATE_DEV_SECRETS: development secrets are refused/.test(p)), 'never together with NODE_ENV=production')
  t.ok(problemsOf(() => loadGatewayConfig({ SCIMGATE_DEV_SECRETS: 'yes please' }, catalog)).some((p) => p.startsWith('SCIMGATE_DEV_SECRETS')))
})
