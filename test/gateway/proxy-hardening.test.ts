// One test per hardening rule of the gateway's SCIM proxy, each against a real
// gateway whose catalog points regions at stand-in servers this file controls.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadRegionCatalog } from '../../config/region-catalog.ts'
import type { RunningGateway } from '../../gateway/server.ts'
import { createIdentityVerifier, IDENTITY_HEADER, signIdentity, type IdentityKeyPair } from '../../lib/internal-identity.ts'
import { httpRequest, type HttpResponse } from '../helpers/http-request.ts'
import {
  answerAfter,
  answerWith,
  hangingConnectPort,
  neverAnswer,
  refusedPort,
  startStandInUpstream,
  type StandInResponder,
  writeRawAndClose,
} from '../helpers/stand-in-upstream.ts'
import { ADMIN_TOKEN, type Teardown } from '../helpers/system.ts'
import { measureMemoryGrowth } from '../helpers/memory-sampler.ts'
import { startGatewayForUpstreams } from '../helpers/catalog-gateway.ts'

const EU1 = 'eu1.localhost'
const US1 = 'us1.localhost'
const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'

interface ProxyGateway {
  readonly running: RunningGateway
  readonly port: number
  readonly keys: IdentityKeyPair
  token(region: string, tenantId?: string): Promise<string>
  /** A SCIM request as an identity provider sends it (any Host header). */
  request(host: string, method: string, path: string, options?: { token?: string; body?: string; headers?: Record<string, string> }): Promise<HttpResponse>
}

/** A gateway whose catalog sends each named region to the given base URL. */
async function startProxyGateway(t: Teardown, upstreams: Readonly<Record<string, string>>, env: Record<string, string> = {}): Promise<ProxyGateway> {
  const { running, keys } = await startGatewayForUpstreams(t, Object.fromEntries(Object.entries(upstreams).map(([code, url]) => [code, [url]])), 'proxy', env)
  return {
    running,
    port: Number(new URL(running.url).port),
    keys,
    async token(region, tenantId = 'acme') {
      const response = await fetch(`${running.adminUrl}/admin/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenantId, region }),
      })
      if (response.status !== 201) throw new Error(`token create failed: ${response.status} ${await response.text()}`)
      return ((await response.json()) as { token: string }).token
    },
    request(host, method, path, options = {}) {
      const headers: Record<string, string> = { host, ...options.headers }
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
      if (options.body !== undefined) headers['content-type'] ??= 'application/scim+json'
      return httpRequest(`${running.url}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: options.body }) })
    },
  }
}

/** Sends `text` as-is over TCP (HTTP clients would normalise the path) and reads until the server closes. */
function rawRequest(port: number, text: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text))
    socket.setTimeout(10_000, () => socket.destroy(new Error('no complete response within 10 s (connection left open?)')))
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      const response = Buffer.concat(chunks).toString('utf8')
      const [head = '', body = ''] = response.split('\r\n\r\n', 2)
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body })
    })
  })
}

/** The SCIM error body of a response, after checking it is one. */
function scimError(t: Test, response: HttpResponse, status: number): void {
  t.equal(response.status, status, `status ${status}: ${response.body}`)
  t.match(response.headers['content-type'], /^application\/scim\+json/, 'a SCIM content type')
  const body = response.json() as { schemas: string[]; status: string }
  t.same(body.schemas, [SCIM_ERROR_SCHEMA], 'a SCIM error body')
  t.equal(body.status, String(status), 'the body carries the status')
}

/** Nothing in the body or headers names an internal address, port or socket error. */
function revealsNothingInternal(t: Test, response: HttpResponse, ports: readonly number[]): void {
  const text = `${JSON.stringify(response.headers)}\n${response.body}`
  t.notMatch(text, /127\.0\.0\.1|localhost:\d|ECONN|EHOST|ENOTFOUND|UND_ERR|HPE_|certificate|self[- ]signed/i, 'no internal address or error code')
  for (const port of ports) t.notOk(text.includes(String(port)), `port ${port} not revealed`)
}

const elapsedMs = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e6
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('no automatic retries: a GET answered 503 reaches the node exactly once', async (t) => {
  const node = await startStandInUpstream(t, { respond: answerWith(503, { 'retry-after': '1' }) })
  const gateway = await startProxyGateway(t, { EU1: node.url })
  const token = await gateway.token('EU1')

  const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token })
  t.equal(response.status, 503, 'the client gets the 503')
  await pause(300)
  t.equal(node.requests.length, 1, 'the node saw the GET once (reply-from retries 503 GETs 10 times by default)')

  // A connection reset is not retried either (reply-from retries UND_ERR_SOCKET when retriesCount > 0).
  node.requests.length = 0
  node.respond = (_request, reply) => reply.socket?.destroy()
  const reset = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token })
  t.ok(reset.status === 502 || reset.status === 503, `a reset is a 502/503 (got ${reset.status})`)
  await pause(300)
  t.equal(node.requests.length, 1, 'the node saw the reset GET once')
})

t.test('explicit upstream timeouts well under 60 s', async (t) => {
  t.test('the configured defaults stay under the identity providers 60 s', async (t) => {
    const config = loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1' }, loadRegionCatalog())
    for (const [name, ms] of Object.entries(config.upstreamTimeouts)) t.ok(ms > 0 && ms < 60_000, `${name} = ${ms} ms`)
  })

  t.test('a node that never answers gives a SCIM 504 after UPSTREAM_HEADERS_TIMEOUT_MS', async (t) => {
    const node = await startStandInUpstream(t, { respond: neverAnswer })
    const gateway = await startProxyGateway(t, { EU1: node.url }, { UPSTREAM_HEADERS_TIMEOUT_MS: '500' })
    const token = await gateway.token('EU1')
    const started = process.hrtime.bigint()
    const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token })
    const took = elapsedMs(started)
    scimError(t, response, 504)
    revealsNothingInternal(t, response, [node.port])
    t.ok(took >= 400 && took < 3_000, `answered after ${Math.round(took)} ms`)

    node.respond = answerAfter(1_500)
    t.equal((await gateway.request(EU1, 'GET', '/scim/v2/Users', { token })).status, 504, 'an answer slower than the timeout is a 504')
    node.respond = answerAfter(100)
    t.equal((await gateway.request(EU1, 'GET', '/scim/v2/Users', { token })).status, 200, 'a slow answer within the timeout passes')
  })

  t.test('a node that stalls mid-body is cut off after UPSTREAM_BODY_TIMEOUT_MS', async (t) => {
    const node = await startStandInUpstream(t, {
      respond: (_request, reply) => {
        reply.writeHead(200, { 'content-type': 'application/scim+json', 'content-length': '1000' })
        reply.write('{"schemas":')
      },
    })
    const gateway = await startProxyGateway(t, { EU1: node.url }, { UPSTREAM_BODY_TIMEOUT_MS: '500' })
    const token = await gateway.token('EU1')
    const started = process.hrtime.bigint()
    const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token })
    const took = elapsedMs(started)
    t.ok(took < 3_000, `the client is released after ${Math.round(took)} ms`)
    // The gateway buffers the node's answer before it sends a byte: a stalled body is a clean SCIM 504, not a cut connection.
    scimError(t, response, 504)
  })

  t.test('the connect timeout reaches undici: a handshake that hangs gives a 504 after UPSTREAM_CONNECT_TIMEOUT_MS', async (t) => {
    const port = await hangingConnectPort(t)
    const gateway = await startProxyGateway(t, { EU1: `http://127.0.0.1:${port}` }, { UPSTREAM_CONNECT_TIMEOUT_MS: '300', UPSTREAM_HEADERS_TIMEOUT_MS: '5000' })
    const token = await gateway.token('EU1')
    const started = process.hrtime.bigint()
    const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token })
    const took = elapsedMs(started)
    scimError(t, response, 504)
    revealsNothingInternal(t, response, [port])
    // undici's own connect timeout is 10 s, the headers timeout here 5 s: only ours answers this fast.
    t.ok(took >= 250 && took < 2_500, `answered after ${Math.round(took)} ms`)
  })
})

t.test('body limit enforced on proxied bodies', async (t) => {
  const node = await startStandInUpstream(t, { respond: answerWith(201) })
  const gateway = await startProxyGateway(t, { EU1: node.url }, { GATEWAY_BODY_LIMIT_BYTES: '2048' })
  const token = await gateway.token('EU1')
  const jsonOfLength = (length: number): string => {
    const shell = JSON.stringify({ userName: '' })
    return JSON.stringify({ userName: 'u'.repeat(length - shell.length) })
  }

  t.test('a 10 KB POST with Content-Length is a 413 the node never sees', async (t) => {
    node.requests.length = 0
    const response = await gateway.request(EU1, 'POST', '/scim/v2/Users', { token, body: jsonOfLength(10_240) })
    scimError(t, response, 413)
    t.equal(node.requests.length, 0, 'nothing reached the node')
  })

  t.test('a 10 KB chunked POST (no Content-Length) is a 413 the node never sees', async (t) => {
    node.requests.length = 0
    const response = await new Promise<HttpResponse>((resolve, reject) => {
      const request = http.request(
        `${gateway.running.url}/scim/v2/Users`,
        { method: 'POST', agent: false, headers: { host: EU1, authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', 'transfer-encoding': 'chunked' } },
        (reply) => {
          const chunks: Buffer[] = []
          reply.on('data', (chunk: Buffer) => chunks.push(chunk))
          reply.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8')
            resolve({ status: reply.statusCode ?? 0, headers: reply.headers, body, json: () => JSON.parse(body) })
          })
        },
      )
      request.on('error', reject)
      const body = jsonOfLength(10_240)
      for (let offset = 0; offset < body.length; offset += 1_024) request.write(body.slice(offset, offset + 1_024))
      request.end()
    })
    scimError(t, response, 413)
    t.equal(node.requests.length, 0, 'nothing reached the node')
  })

  for (const contentType of ['application/scim+json', 'application/json', 'application/json; charset=utf-8']) {
    t.test(`a body just under the limit passes byte for byte (${contentType})`, async (t) => {
      node.requests.length = 0
      const body = jsonOfLength(2_000)
      const response = await gateway.request(EU1, 'POST', '/scim/v2/Users', { token, body, headers: { 'content-type': contentType } })
      t.equal(response.status, 201, response.body)
      t.equal(node.requests.length, 1)
      t.equal(node.requests[0]?.body.toString('utf8'), body, 'the node received the client bytes unchanged')
      t.equal(node.requests[0]?.headers['content-length'], String(body.length))
      t.equal(node.requests[0]?.headers['content-type'], contentType, 'the content type is passed on unchanged')
    })
  }
})

t.test('upstream failures mapped to SCIM 502/503/504 that reveal no internal address', async (t) => {
  t.test('a refused connection is a 503 with Retry-After', async (t) => {
    const port = await refusedPort()
    const gateway = await startProxyGateway(t, { EU1: `http://127.0.0.1:${port}` })
    const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token: await gateway.token('EU1') })
    scimError(t, response, 503)
    t.match(response.headers['retry-after'], /^\d+$/, 'Retry-After in seconds')
    revealsNothingInternal(t, response, [port])
  })

  const invalidResponses: ReadonlyArray<readonly [string, string, readonly number[]]> = [
    ['garbage instead of HTTP', 'SSH-2.0-OpenSSH_9.6\r\n\r\n', [502]],
    ['a connection closed in the middle of the headers', 'HTTP/1.1 200 OK\r\nContent-Type: appli', [502, 503]],
    ['a status code outside 100-599', 'HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n', [502]],
    ['a connection closed in the middle of the body', 'HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: 1000\r\n\r\n{"schemas":', [502]],
    ['a chunked body cut short', 'HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"sch', [502]],
  ]
  for (const [name, bytes, statuses] of invalidResponses) {
    t.test(`${name} is a SCIM ${statuses.join('/')}`, async (t) => {
      const node = await startStandInUpstream(t, { respond: writeRawAndClose(bytes) })
      const gateway = await startProxyGateway(t, { EU1: node.url })
      const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token: await gateway.token('EU1') })
      t.ok(statuses.includes(response.status), `status ${response.status}: ${response.body}`)
      scimError(t, response, response.status)
      revealsNothingInternal(t, response, [node.port])
      t.equal(node.requests.length, 1, 'tried once')
    })
  }
})

/** Why the TLS rule cannot be checked here, or false when openssl can make a certificate. */
function opensslMissing(): string | false {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return false
  } catch (error) {
    return `openssl is not available to make a self-signed certificate: ${(error as Error).message}`
  }
}

t.test('TLS certificates of an https node are verified', { skip: opensslMissing() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scimgate-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ed25519', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    { stdio: 'ignore' },
  )
  const tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }
  const node = await startStandInUpstream(t, { tls })

  // Control: the certificate is good for `localhost` once trusted, so only trust can make the gateway refuse it.
  const trusted = await new Promise<number>((resolve, reject) => {
    https.get(`${node.url}/scim/v2/Users`, { ca: tls.cert, agent: false }, (reply) => {
      reply.resume()
      resolve(reply.statusCode ?? 0)
    }).on('error', reject)
  })
  t.equal(trusted, 200, 'a client that trusts the certificate reaches the stand-in')
  node.requests.length = 0

  const gateway = await startProxyGateway(t, { EU1: node.url })
  const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token: await gateway.token('EU1') })
  t.ok(response.status === 502 || response.status === 503, `refused with ${response.status}: ${response.body}`)
  scimError(t, response, response.status)
  revealsNothingInternal(t, response, [node.port])
  t.equal(node.requests.length, 0, 'no request was proxied to the untrusted node')
  t.ok(node.connections >= 1, 'the gateway did connect (the refusal is not a connection failure)')
  await pause(200)
  t.ok(node.tlsFailures >= 1, 'and broke off the TLS handshake')
})

t.test('client Authorization and x-scimgate-identity never reach the node, even when named in Connection', async (t) => {
  const node = await startStandInUpstream(t)
  const gateway = await startProxyGateway(t, { EU1: node.url })
  const token = await gateway.token('EU1', 'acme')
  const verify = createIdentityVerifier({ keys: [gateway.keys.publicJwk] }, 'EU1')
  // A forged identity signed with the gateway's own key for another tenant: the worst a client could hold.
  const forged = await signIdentity(gateway.keys.signingKey, { tenantId: 'victim', tokenId: 'forged', region: 'EU1', scopes: ['scim', 'admin'] }, 300)

  const cases: ReadonlyArray<readonly [string, Record<string, string>]> = [
    ['no Connection header', { [IDENTITY_HEADER]: forged }],
    ['Connection: x-scimgate-identity', { [IDENTITY_HEADER]: forged, connection: 'x-scimgate-identity' }],
    ['Connection: authorization', { [IDENTITY_HEADER]: forged, connection: 'authorization' }],
    ['Connection: keep-alive, X-Scimgate-Identity, Authorization', { 'X-Scimgate-Identity': forged, connection: 'keep-alive, X-Scimgate-Identity, Authorization' }],
    ['Connection: close, x-scimgate-identity', { [IDENTITY_HEADER]: forged, connection: 'close, x-scimgate-identity' }],
  ]
  for (const [name, headers] of cases) {
    node.requests.length = 0
    const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token, headers })
    t.equal(response.status, 200, `${name}: ${response.body}`)
    const seen = node.requests[0]
    if (seen === undefined) {
      t.fail(`${name}: nothing reached the node`)
      continue
    }
    const names = seen.rawHeaders.filter((_, index) => index % 2 === 0).map((header) => header.toLowerCase())
    t.equal(names.filter((header) => header === IDENTITY_HEADER).length, 1, `${name}: exactly one identity header`)
    t.notOk(names.includes('authorization'), `${name}: no Authorization`)
    const identity = await verify(String(seen.headers[IDENTITY_HEADER]))
    t.match(identity, { tenantId: 'acme', region: 'EU1', scopes: ['scim'] }, `${name}: the gateway's identity for the token's tenant`)
    t.not(seen.headers[IDENTITY_HEADER], forged, `${name}: not the client's`)
  }

  // Hop-by-hop headers of the client stay on the client's hop (RFC 9110 §7.6.1); undici refuses to send
  // keep-alive, upgrade and expect, so passing them on would fail the request.
  const hopByHop: Record<string, string> = { 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', te: 'trailers', upgrade: 'h2c', expect: '100-continue', trailer: 'x-checksum' }
  node.requests.length = 0
  const hopped = await gateway.request(EU1, 'POST', '/scim/v2/Users', { token, body: '{"userName":"hop@example.com"}', headers: hopByHop })
  t.equal(hopped.status, 200, `hop-by-hop client headers do not break the proxy: ${hopped.body}`)
  for (const name of Object.keys(hopByHop)) t.notOk(name in (node.requests[0]?.headers ?? {}), `${name} is not forwarded`)

  // Sent twice by a client, the identity header is still replaced by the gateway's one.
  node.requests.length = 0
  const twice = await rawRequest(
    gateway.port,
    `GET /scim/v2/Users HTTP/1.1\r\nHost: ${EU1}\r\nAuthorization: Bearer ${token}\r\n${IDENTITY_HEADER}: ${forged}\r\n${IDENTITY_HEADER}: ${forged}\r\nConnection: close\r\n\r\n`,
  )
  t.equal(twice.status, 200)
  const seenTwice = node.requests[0]?.rawHeaders.filter((header, index) => index % 2 === 0 && header.toLowerCase() === IDENTITY_HEADER) ?? []
  t.equal(seenTwice.length, 1, 'a duplicated client identity header becomes the single gateway one')
})

t.test('encoded .. and // paths never escape the SCIM prefix', async (t) => {
  const node = await startStandInUpstream(t)
  const gateway = await startProxyGateway(t, { EU1: node.url })
  const token = await gateway.token('EU1')
  const send = (target: string) => rawRequest(gateway.port, `GET ${target} HTTP/1.1\r\nHost: ${EU1}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)

  const control = await send('/scim/v2/Users?filter=userName%20eq%20%22a..b%22')
  t.equal(control.status, 200, 'control: a plain path over the raw socket is proxied')
  t.equal(node.requests[0]?.url.split('?')[0], '/scim/v2/Users')
  node.requests.length = 0

  const attacks = [
    '/scim/v2/..%2f..%2fadmin/v1/groups/x/access',
    '/scim/v2/..%2F..%2Fadmin/v1/groups/x/access',
    '/scim/%2e%2e/admin',
    '/scim/%2E%2E/admin',
    '/scim/v2/%252e%252e/admin',
    '/scim/v2/%25252e%25252e%25252fadmin',
    '/scim/v2/%2525252525252e%2525252525252e/admin',
    '/scim//v2/Users',
    '/scim/v2//Users',
    '/scim/v2/%2f%2fUsers',
    '/scim/v2/Users/..%5c..%5cadmin',
    '/scim/v2/Users/..\\..\\admin',
    '/scim/v2/./Users',
    '/scim/v2/%2e/Users',
    '/scim/v2/Users/%2e%2e/%2e%2e/%2e%2e/admin',
    '/scim/v2/Users%3f/../../admin',
    '/scim/v2/Users/%00',
    '/scim/v2/..%c0%af..%c0%afadmin',
    '/scim/..',
    'http://eu1.localhost/scim/v2/../../admin',
  ]
  for (const target of attacks) {
    const response = await send(target)
    t.ok(response.status === 400 || response.status === 404, `${target} → ${response.status}`)
    // A path that is not valid percent-encoding fails in fastify's router, before any hook: app.ts answers it
    // with fastify's own JSON 400 (it would need `frameworkErrors` to make it a SCIM error).
    t.match(response.head, /content-type: application\/scim\+json/i, `${target}: a SCIM error`)
    t.match(JSON.parse(response.body || '{}'), { schemas: [SCIM_ERROR_SCHEMA] }, `${target}: a SCIM error body`)
  }
  for (const seen of node.requests) {
    let path = seen.url.split('?')[0] ?? ''
    for (let layer = 0; layer < 8; layer++) path = decodeURIComponent(path)
    t.ok(path.startsWith('/scim/v2/') && !/(^|\/)\.\.?(\/|$)|\/\/|\\/.test(path), `the node only saw ${seen.url}`)
  }
  t.equal(node.requests.length, 0, 'no attack path was proxied at all')
})

t.test('host routing: the Host header chooses the region, X-Forwarded-Host only from trusted proxies', async (t) => {
  const eu = await startStandInUpstream(t)
  const us = await startStandInUpstream(t)
  const reset = (): void => {
    eu.requests.length = 0
    us.requests.length = 0
  }

  t.test('an untrusted client cannot choose the region with X-Forwarded-Host', async (t) => {
    const gateway = await startProxyGateway(t, { EU1: eu.url, US1: us.url })
    const euToken = await gateway.token('EU1')
    const usToken = await gateway.token('US1')
    reset()
    const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token: euToken, headers: { 'x-forwarded-host': US1 } })
    t.equal(response.status, 200)
    t.equal(eu.requests.length, 1, 'EU1 got it')
    t.equal(us.requests.length, 0, 'US1 did not')
    t.equal(eu.requests[0]?.headers['x-forwarded-host'], EU1, 'the node is told the host the gateway believed')
    reset()
    const usTokenViaEu = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token: usToken, headers: { 'x-forwarded-host': US1 } })
    t.equal(usTokenViaEu.status, 401, 'a US1 token at the EU1 host stays refused')
    t.equal(eu.requests.length + us.requests.length, 0)
  })

  t.test('with TRUSTED_PROXIES=127.0.0.1 the load balancer’s X-Forwarded-Host routes', async (t) => {
    const gateway = await startProxyGateway(t, { EU1: eu.url, US1: us.url }, { TRUSTED_PROXIES: '127.0.0.1' })
    const usToken = await gateway.token('US1')
    reset()
    const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token: usToken, headers: { 'x-forwarded-host': US1 } })
    t.equal(response.status, 200, response.body)
    t.equal(us.requests.length, 1, 'US1 got it')
    t.equal(eu.requests.length, 0, 'EU1 did not')
  })

  t.test('port, letter case and a trailing dot do not matter; an unknown host is a 421', async (t) => {
    const gateway = await startProxyGateway(t, { EU1: eu.url, US1: us.url })
    const token = await gateway.token('EU1')
    for (const host of ['EU1.LOCALHOST:8080', 'Eu1.LocalHost', 'eu1.localhost.', 'eu1.localhost.:443', 'NG-API-HTTP.CORALOGIX.COM:443']) {
      reset()
      const response = await gateway.request(host, 'GET', '/scim/v2/Users', { token })
      t.equal(response.status, 200, `${host}: ${response.body}`)
      t.equal(eu.requests.length, 1, `${host} → EU1`)
    }
    for (const host of ['evil.example.com', 'eu1.localhost.evil.example.com', 'eu1.localhost:notaport', '127.0.0.1', '[::1]:8080']) {
      reset()
      const response = await gateway.request(host, 'GET', '/scim/v2/Users', { token })
      scimError(t, response, response.status === 400 ? 400 : 421)
      t.equal(response.status, 421, `${host} → 421`)
      t.equal(eu.requests.length + us.requests.length, 0, `${host}: nothing proxied`)
    }
  })
})

t.test('client traceparent/tracestate are dropped', async (t) => {
  const node = await startStandInUpstream(t)
  const gateway = await startProxyGateway(t, { EU1: node.url })
  const token = await gateway.token('EU1')
  const clientTrace = '0af7651916cd43dd8448eb211c80319c'
  const traceparent = `00-${clientTrace}-b7ad6b7169203331-01`
  const tracestate = 'evil=client-state'
  const variants: ReadonlyArray<Record<string, string>> = [{ traceparent, tracestate }, { traceparent, tracestate, connection: 'keep-alive' }]
  for (const headers of variants) {
    node.requests.length = 0
    const response = await gateway.request(EU1, 'GET', '/scim/v2/Users', { token, headers })
    t.equal(response.status, 200)
    const seen = node.requests[0]
    t.ok(seen, 'reached the node')
    const values = (seen?.rawHeaders ?? []).join('\n')
    t.notOk(values.includes(clientTrace), 'the client trace id is not forwarded')
    t.notOk(values.includes('client-state'), 'the client tracestate is not forwarded')
  }
})

/** Fetches `path` through the gateway, discarding the body as it arrives; resolves with the status, the bytes and whether it ended whole. */
/** Reads a response through the gateway; `pauseMs` after each MiB makes a slow reader, so the transfer lasts long enough to sample. */
function drainThroughGateway(gateway: ProxyGateway, path: string, token: string, pauseMs = 0): Promise<{ status: number; bytes: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${gateway.running.url}${path}`, { headers: { host: EU1, authorization: `Bearer ${token}` }, agent: false }, (response) => {
      let bytes = 0
      let nextPauseAt = 1_048_576
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (pauseMs > 0 && bytes >= nextPauseAt) {
          nextPauseAt += 1_048_576
          response.pause()
          setTimeout(() => response.resume(), pauseMs)
        }
      })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes, complete: response.complete }))
      response.on('error', () => resolve({ status: response.statusCode ?? 0, bytes, complete: false }))
      response.on('aborted', () => resolve({ status: response.statusCode ?? 0, bytes, complete: false }))
    })
    request.on('error', reject)
  })
}

/** Writes `totalBytes` of filler in 1 MiB chunks, honouring backpressure; `breakAfter` cuts the socket after that many bytes. */
function answerLarge(totalBytes: number, breakAfter?: number): StandInResponder {
  return (_request, response) => {
    const chunk = Buffer.alloc(1_048_576, 0x20)
    response.writeHead(200, { 'content-type': 'application/scim+json', 'content-length': String(totalBytes) })
    let written = 0
    const writeMore = (): void => {
      while (written < totalBytes) {
        if (breakAfter !== undefined && written >= breakAfter) {
          response.socket?.destroy()
          return
        }
        written += chunk.length
        if (!response.write(chunk)) return void response.once('drain', writeMore)
      }
      response.end()
    }
    writeMore()
  }
}

t.test('large node responses stream through the gateway in bounded memory', async (t) => {
  // 64 MiB, read slowly, against a 48 MB bound: a buffering gateway holds at least the whole body, while a
  // streaming one holds a few socket buffers — which, with the suite running beside it, were seen to reach ~31 MB.
  const size = 64 * 1_048_576
  const node = await startStandInUpstream(t, { respond: answerLarge(size) })
  const gateway = await startProxyGateway(t, { EU1: node.url })
  const token = await gateway.token('EU1')
  // The stand-in, the gateway and this client share the process: what the gateway holds is what is retained.
  const { result: answer, growth } = await measureMemoryGrowth(() => drainThroughGateway(gateway, '/scim/v2/Users', token, 20), 50)
  t.same(answer, { status: 200, bytes: size, complete: true }, 'all 64 MiB arrive')
  t.comment(`memory retained while passing a 64 MiB response: ${growth.retainedMb.toFixed(1)} MB (RSS +${growth.rssMb.toFixed(1)} MB)`)
  t.ok(growth.retainedMb < 48, `the gateway never holds the whole response (retained ${growth.retainedMb.toFixed(1)} MB)`)

  t.test('a large response that breaks off mid-body reaches the client as incomplete, never as a whole 200', async (t) => {
    node.respond = answerLarge(size, 8 * 1_048_576)
    const broken = await drainThroughGateway(gateway, '/scim/v2/Users', token)
    t.ok(broken.status === 502 || !broken.complete, `a SCIM 502 or a body the client sees break off (got ${broken.status}, ${broken.bytes} bytes)`)
    t.ok(broken.bytes < size)
  })
})
