// Every answer of both tiers is a SCIM error body in application/scim+json,
// including those produced before routing: Node's HTTP parser (clientError),
// fastify's framework errors, 404, 413 and 415. Sent over raw sockets so
// nothing in between tidies the bytes.
import net from 'node:net'
import t, { type Test } from 'tap'
import { IDENTITY_HEADER, signIdentity } from '../../lib/internal-identity.ts'
import { SCIM_ERROR_SCHEMA, statusAgreesWithScimType, type ScimType } from '../../lib/scim-error.ts'
import { ADMIN_TOKEN, startSystem } from '../helpers/system.ts'

interface RawAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** Writes `bytes` and reads until the server closes the connection (or 5 s pass); returns the first response. */
async function rawRequest(url: string, bytes: string): Promise<RawAnswer> {
  const [first] = await rawExchange(url, bytes)
  if (first === undefined) throw new Error('no HTTP response')
  return first
}

/** Every response the server wrote before closing. */
function rawExchange(url: string, bytes: string): Promise<RawAnswer[]> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) })
    const chunks: Buffer[] = []
    socket.setTimeout(5_000, () => socket.destroy())
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      let text = Buffer.concat(chunks).toString('utf8')
      const answers: RawAnswer[] = []
      for (;;) {
        const match = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(text)
        if (match === null) break
        const headers: Record<string, string> = {}
        for (const line of (match[2] ?? '').split('\r\n')) {
          const at = line.indexOf(':')
          headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim()
        }
        const rest = text.slice(match[0].length)
        const length = headers['content-length'] === undefined ? rest.length : Number(headers['content-length'])
        answers.push({ status: Number(match[1]), headers, body: rest.slice(0, length) })
        text = rest.slice(length)
      }
      if (answers.length === 0) return reject(new Error(`no HTTP response in ${JSON.stringify(text.slice(0, 200))}`))
      resolve(answers)
    })
    // No half-close: Node's HTTP server would end the connection before an asynchronous answer.
    socket.write(bytes)
  })
}

function assertScimError(t: Test, answer: RawAnswer, status: number, what: string): void {
  t.equal(answer.status, status, `${what}: status`)
  t.match(answer.headers['content-type'] ?? '', /^application\/scim\+json/, `${what}: application/scim+json`)
  let body: { schemas?: unknown; status?: unknown; scimType?: ScimType; detail?: unknown } = {}
  try {
    body = JSON.parse(answer.body) as typeof body
  } catch {
    t.fail(`${what}: the body is JSON: ${answer.body}`)
  }
  t.same(body.schemas, [SCIM_ERROR_SCHEMA], `${what}: SCIM error schema`)
  t.equal(body.status, String(status), `${what}: status in the body`)
  t.type(body.detail, 'string', `${what}: a detail`)
  t.ok(statusAgreesWithScimType(status, body.scimType), `${what}: scimType ${String(body.scimType)} agrees with ${status}`)
}

t.test('parser and framework errors are SCIM errors on the gateway, its admin listener and the node', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'] })
  const listeners = {
    gateway: { url: system.gateway.url, host: 'eu1.localhost', path: '/scim/v2/Users', auth: '' },
    admin: { url: system.gateway.adminUrl!, host: 'localhost', path: '/admin/v1/tokens', auth: `Authorization: Bearer ${ADMIN_TOKEN}\r\n` },
    node: { url: system.nodes.get('EU1')!.url, host: 'localhost', path: '/scim/v2/Users', auth: '' },
  }
  const huge = 'a'.repeat(20_000)
  for (const [name, l] of Object.entries(listeners)) {
    const head = (requestLine: string, extra = ''): string => `${requestLine}\r\nHost: ${l.host}\r\n${l.auth}${extra}`
    assertScimError(t, await rawRequest(l.url, `${head(`GET ${l.path} HTTP/1.1`, `X-Big: ${huge}\r\n`)}\r\n`), 431, `${name}: header too large`)
    assertScimError(t, await rawRequest(l.url, `${head(`GET ${l.path}?q=${huge} HTTP/1.1`)}\r\n`), 431, `${name}: URI too long`)
    assertScimError(t, await rawRequest(l.url, 'THIS IS NOT HTTP\r\n\r\n'), 400, `${name}: malformed request line`)
    assertScimError(t, await rawRequest(l.url, `${head(`POST ${l.path} HTTP/1.1`, 'Content-Length: abc\r\n')}\r\n{}`), 400, `${name}: Content-Length not a number`)
    assertScimError(
      t,
      await rawRequest(l.url, `${head(`POST ${l.path} HTTP/1.1`, 'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n')}\r\n0\r\n\r\n`),
      400,
      `${name}: Content-Length with Transfer-Encoding`,
    )
    // The body is longer than Content-Length says: the surplus is read as the next request, which is not HTTP.
    const surplus = await rawExchange(l.url, `${head(`GET /definitely-missing HTTP/1.1`, 'Content-Length: 2\r\n')}\r\n{}garbage\r\n\r\n`)
    t.equal(surplus.length, 2, `${name}: two answers to a body longer than its Content-Length`)
    assertScimError(t, surplus[0]!, 404, `${name}: the request Content-Length delimits`)
    assertScimError(t, surplus[1]!, 400, `${name}: the bytes past Content-Length`)
    assertScimError(t, await rawRequest(l.url, `${head('GET /definitely-missing HTTP/1.1', 'Connection: close\r\n')}\r\n`), 404, `${name}: no such path`)
    assertScimError(t, await rawRequest(l.url, `${head('GET /%zz HTTP/1.1', 'Connection: close\r\n')}\r\n`), 400, `${name}: malformed URL encoding`)
  }

  // 415 and 413 from fastify's body handling, where each listener parses bodies.
  const node = listeners.node
  const identity = await signIdentity(system.keys.signingKey, { tenantId: 'acme', tokenId: 'tok-test', region: 'EU1', scopes: ['scim'] }, 60)
  const scimHeaders = `Host: ${node.host}\r\n${IDENTITY_HEADER}: ${identity}\r\nConnection: close\r\n`
  assertScimError(t, await rawRequest(node.url, `POST /scim/v2/Users HTTP/1.1\r\n${scimHeaders}Content-Type: application/xml\r\nContent-Length: 2\r\n\r\nhi`), 415, 'node: unsupported media type')
  const admin = listeners.admin
  const adminHeaders = `Host: localhost\r\n${admin.auth}Connection: close\r\n`
  assertScimError(t, await rawRequest(admin.url, `POST /admin/v1/tokens HTTP/1.1\r\n${adminHeaders}Content-Type: application/xml\r\nContent-Length: 2\r\n\r\nhi`), 415, 'admin: unsupported media type')
  const big = JSON.stringify({ label: 'x'.repeat(70_000) })
  assertScimError(t, await rawRequest(admin.url, `POST /admin/v1/tokens HTTP/1.1\r\n${adminHeaders}Content-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n${big}`), 413, 'admin: body too large')
  const gatewayBig = 'x'.repeat(system.gatewayConfig.bodyLimitBytes + 10)
  assertScimError(
    t,
    await rawRequest(system.gateway.url, `POST /livez HTTP/1.1\r\nHost: eu1.localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${gatewayBig.length}\r\n\r\n${gatewayBig}`),
    413,
    'gateway: body too large outside the proxy',
  )
})
