// Issue 9.4: a client that sends its headers or its body slowly cannot hold a
// socket of either tier for long (fastify's requestTimeout was 0 in both).
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadRegionCatalog } from '../../config/region-catalog.ts'
import { startTestNode } from '../helpers/region-node.ts'
import { startSystem } from '../helpers/system.ts'

const TIMEOUTS = { headersMs: 1_000, requestMs: 2_000 }
// Far above the configured timeouts; on a server without them the socket stays open and the test fails.
const GIVE_UP_MS = 8_000

/** Drips `parts` one every 250 ms; resolves with what the server answered and whether it closed the socket before GIVE_UP_MS. */
function slowClient(port: number, parts: readonly string[]): Promise<{ closed: boolean; answer: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let answer = ''
    let index = 0
    const drip = setInterval(() => {
      if (socket.writable) socket.write(parts[Math.min(index++, parts.length - 1)]!)
    }, 250)
    const finish = (closed: boolean): void => {
      clearInterval(drip)
      clearTimeout(giveUp)
      socket.destroy()
      resolve({ closed, answer })
    }
    const giveUp = setTimeout(() => finish(false), GIVE_UP_MS)
    socket.on('data', (chunk) => (answer += chunk.toString()))
    socket.on('close', () => finish(true))
    socket.on('error', () => undefined)
  })
}

const slowHeaders = (host: string) => [`GET /scim/v2/Users HTTP/1.1\r\nHost: ${host}\r\n`, ...Array(100).fill('X-Slow: a\r\n')]
const slowBody = (host: string, token = '') => [`POST /scim/v2/Users HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/scim+json\r\nContent-Length: 1000\r\n\r\n{`, ...Array(100).fill(' ')]

t.test('the defaults are set and well under the identity providers\' 60 s', async (t) => {
  const config = loadGatewayConfig({ SCIMGATE_DEV_SECRETS: '1' }, loadRegionCatalog())
  t.ok(config.clientTimeouts.headersMs > 0 && config.clientTimeouts.headersMs < 60_000)
  t.ok(config.clientTimeouts.requestMs > 0 && config.clientTimeouts.requestMs < 60_000)
})

t.test('the gateway closes slow-loris connections (headers and body)', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'], env: { HTTP_HEADERS_TIMEOUT_MS: String(TIMEOUTS.headersMs), HTTP_REQUEST_TIMEOUT_MS: String(TIMEOUTS.requestMs) } })
  const port = Number(new URL(system.gateway.url).port)
  const { token } = await system.createToken('slow', 'EU1')
  const [headers, body] = await Promise.all([slowClient(port, slowHeaders('eu1.localhost')), slowClient(port, slowBody('eu1.localhost', token))])
  t.ok(headers.closed, 'a client trickling headers is cut off')
  t.ok(body.closed, 'a client trickling its body is cut off')
  t.match(body.answer, /^HTTP\/1\.1 408/, 'the slow body of an authenticated client gets 408 Request Timeout')
})

t.test('the region node closes slow-loris connections (headers and body)', async (t) => {
  const node = await startTestNode(t, { limits: { clientTimeouts: TIMEOUTS } })
  await node.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (node.app.server.address() as AddressInfo).port
  const [headers, body] = await Promise.all([slowClient(port, slowHeaders('127.0.0.1')), slowClient(port, slowBody('127.0.0.1'))])
  t.ok(headers.closed, 'a client trickling headers is cut off')
  t.ok(body.closed, 'a client trickling its body is cut off')
})
