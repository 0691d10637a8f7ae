// The gateway→node hop over TLS, with a CA made in the test: the node serves
// HTTPS only once it has a certificate, the gateway verifies it against the
// configured CA, and a node it cannot verify is a SCIM 502, never a bypass.
import http from 'node:http'
import tls from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadNodeConfig } from '../../config/node-config.ts'
import { loadRegionCatalog } from '../../config/region-catalog.ts'
import { startSystem } from '../helpers/system.ts'
import { generateIdentityKeyPair } from '../../lib/internal-identity.ts'
import { createTestCa } from '../helpers/test-ca.ts'
import { gatewaySecretsEnv } from '../helpers/test-secrets.ts'
import { problemsOf } from '../helpers/config-problems.ts'

const EU1 = 'eu1.localhost'
const USER = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'tls@example.com' }

/** A plain-HTTP request straight to the node's port: resolves with the status, or the error code when the connection fails. */
function plainHttp(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const request = http.get(url.replace(/^https:/, 'http:') + '/livez', { agent: false, timeout: 5_000 }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })))
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}

t.test('TLS settings of the node and the gateway', async (t) => {
  const ca = createTestCa(t)
  const node = ca.issue('node', ['localhost', '127.0.0.1'])
  const catalog = loadRegionCatalog()
  const nodeEnv = { SCIMGATE_REGION: 'EU1', IDENTITY_JWKS: '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"x","kid":"k"}]}', SCIM_CURSOR_KEYS: '[{"kid":"c1","secret":"scimgate-test-cursor-key-0123456789"}]' }
  t.same(loadNodeConfig({ ...nodeEnv, TLS_CERT_FILE: node.certFile, TLS_KEY_FILE: node.keyFile }, catalog).tls, { certFile: node.certFile, keyFile: node.keyFile, cert: node.cert, key: node.key, reloadIntervalMs: 60_000 })
  t.equal(loadNodeConfig({ ...nodeEnv, TLS_CERT_FILE: node.certFile, TLS_KEY_FILE: node.keyFile, TLS_RELOAD_INTERVAL_SECONDS: '0' }, catalog).tls?.reloadIntervalMs, 0, 'reloading can be off')
  t.equal(loadNodeConfig(nodeEnv, catalog).tls, undefined, 'plain HTTP without them')
  t.match(problemsOf(() => loadNodeConfig({ ...nodeEnv, TLS_CERT_FILE: node.certFile }, catalog)), [/TLS_CERT_FILE and TLS_KEY_FILE: set both/])
  t.match(problemsOf(() => loadNodeConfig({ ...nodeEnv, TLS_CERT_FILE: node.keyFile, TLS_KEY_FILE: join(ca.dir, 'missing.key') }, catalog)), [/TLS_CERT_FILE: .* holds no PEM certificate/, /TLS_KEY_FILE: cannot read/])

  const gatewayEnv = { REDIS_URL: 'redis://127.0.0.1:6379', ...gatewaySecretsEnv(await generateIdentityKeyPair()) }
  t.equal(loadGatewayConfig({ ...gatewayEnv, UPSTREAM_TLS_CA_FILE: ca.caFile }, catalog).upstreamTlsCa, ca.caPem)
  t.equal(loadGatewayConfig(gatewayEnv, catalog).upstreamTlsCa, undefined)
  const notPem = join(ca.dir, 'not-pem.txt')
  writeFileSync(notPem, 'hello')
  t.match(problemsOf(() => loadGatewayConfig({ ...gatewayEnv, UPSTREAM_TLS_CA_FILE: notPem }, catalog)), [/UPSTREAM_TLS_CA_FILE: .* holds no PEM certificate/])
})

t.test('gateway → node over TLS verified against the configured CA', async (t) => {
  const ca = createTestCa(t)
  const otherCa = createTestCa(t, 'some other CA')
  const system = await startSystem(t, { regions: ['EU1'], nodeTls: { ...ca.issue('node', ['localhost', '127.0.0.1']), reloadIntervalMs: 0 }, env: { UPSTREAM_TLS_CA_FILE: ca.caFile } })
  const nodeUrl = system.nodes.get('EU1')!.url
  t.match(nodeUrl, /^https:\/\/127\.0\.0\.1:\d+$/, 'the catalog names the node by https://')
  const { token } = await system.createToken('acme', 'EU1')

  const created = await system.request(EU1, 'POST', '/scim/v2/Users', { token, body: USER })
  t.equal(created.status, 201, 'a write through the TLS hop')
  const listed = await system.request(EU1, 'GET', '/scim/v2/Users', { token })
  t.equal(listed.status, 200)
  t.equal(listed.json().totalResults, 1)
  const access = await system.admin('PUT', `/admin/v1/regions/EU1/tenants/acme/groups/${created.json().id}/access`, { roles: ['admin'] })
  t.equal(access.status, 404, 'the admin API reaches the node over TLS too (no such group: the node answered)')

  const plain = await plainHttp(nodeUrl)
  t.not(plain, 200, 'plain HTTP to the TLS port is refused')
  t.type(plain, 'string', `the connection fails (${plain}), no HTTP answer`)

  // The public CAs (no UPSTREAM_TLS_CA_FILE) and another CA both fail verification: 502, nothing written.
  for (const [name, caFile] of [['another CA', otherCa.caFile], ['the public CAs', '']] as const) {
    const gateway = await system.startGateway({ UPSTREAM_TLS_CA_FILE: caFile })
    const refused = await system.request(EU1, 'POST', '/scim/v2/Users', { token, body: { ...USER, userName: `x-${name.length}@example.com` }, gateway })
    t.equal(refused.status, 502, `${name}: SCIM 502`)
    t.equal(refused.headers['content-type'], 'application/scim+json; charset=utf-8')
    t.same(refused.json().schemas, ['urn:ietf:params:scim:api:messages:2.0:Error'])
    t.equal(refused.json().status, '502')
    t.notMatch(refused.body, /127\.0\.0\.1|certificate/i, 'no internal address or TLS detail leaks')
    const adminRefused = await system.admin('PUT', `/admin/v1/regions/EU1/tenants/acme/groups/${created.json().id}/access`, { roles: ['admin'] }, gateway)
    t.equal(adminRefused.status, 502, `${name}: the admin API refuses the node too`)
  }
  const after = await system.request(EU1, 'GET', '/scim/v2/Users', { token })
  t.equal(after.json().totalResults, 1, 'no write passed an unverified hop')
})

/** The serial number of the certificate a new TLS connection to `url` is served. */
function servedSerial(url: string, ca: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().serialNumber)
      socket.end()
    })
    socket.on('error', reject)
  })
}

t.test('a renewed node certificate is served without a restart', async (t) => {
  const ca = createTestCa(t)
  const first = ca.issue('node', ['localhost', '127.0.0.1'])
  const system = await startSystem(t, { regions: ['EU1'], nodeTls: { ...first, reloadIntervalMs: 100 }, env: { UPSTREAM_TLS_CA_FILE: ca.caFile } })
  const nodeUrl = system.nodes.get('EU1')!.url
  const before = await servedSerial(nodeUrl, ca.caPem)
  const { token } = await system.createToken('acme', 'EU1')
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token })).status, 200)

  // A certificate whose key is not (yet) the key file's, as while a Secret is half updated: the current pair stays.
  writeFileSync(first.certFile, ca.issue('other', ['localhost', '127.0.0.1']).cert)
  await sleep(400)
  t.equal(await servedSerial(nodeUrl, ca.caPem), before, 'a mismatched pair is not served')
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token })).status, 200, 'and the node keeps serving')

  ca.issue('node', ['localhost', '127.0.0.1'])
  let after = before
  for (let attempt = 0; attempt < 50 && after === before; attempt++) {
    await sleep(100)
    after = await servedSerial(nodeUrl, ca.caPem)
  }
  t.not(after, before, 'new connections get the renewed certificate')
  const again = await system.startGateway()
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token, gateway: again })).status, 200, 'and the gateway verifies it')
})
