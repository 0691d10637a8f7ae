// How the proxy passes a node's response body on: an ordinary one whole (held until it ends, so a node that
// breaks off still becomes a SCIM error), one that grows past the hold limit without a declared length as a
// stream from its first byte.
import http from 'node:http'
import t from 'tap'
import { startGatewayForUpstreams } from '../helpers/catalog-gateway.ts'
import { httpRequest } from '../helpers/http-request.ts'
import { startStandInUpstream, type StandInResponder } from '../helpers/stand-in-upstream.ts'
import { ADMIN_TOKEN } from '../helpers/system.ts'

const EU1 = 'eu1.localhost'
const MIB = 1_048_576

/** A chunked body (no Content-Length) of `total` bytes in chunks of `chunk`; `breakAfter` cuts the socket there. */
function chunked(total: number, chunk: number, breakAfter?: number): StandInResponder {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/scim+json' })
    let written = 0
    const more = (): void => {
      while (written < total) {
        if (breakAfter !== undefined && written >= breakAfter) return void response.socket?.destroy()
        // Each chunk is filled with its index, so a reordered or repeated chunk shows in the checksum.
        const piece = Buffer.alloc(Math.min(chunk, total - written), (written / chunk) % 251)
        written += piece.length
        if (!response.write(piece)) return void response.once('drain', more)
      }
      response.end()
    }
    more()
  }
}

function expected(total: number, chunk: number): Buffer {
  const parts: Buffer[] = []
  for (let written = 0; written < total; written += chunk) parts.push(Buffer.alloc(Math.min(chunk, total - written), (written / chunk) % 251))
  return Buffer.concat(parts)
}

function fetchRaw(url: string, token: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { host: EU1, authorization: `Bearer ${token}` }, agent: false }, (response) => {
        const chunks: Buffer[] = []
        const done = (): void => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), complete: response.complete })
        response.on('data', (piece: Buffer) => chunks.push(piece))
        response.on('end', done)
        response.on('error', done)
        response.on('aborted', done)
      })
      .on('error', reject)
  })
}

t.test('node responses through the relay', async (t) => {
  const node = await startStandInUpstream(t)
  const { running } = await startGatewayForUpstreams(t, { EU1: [node.url] }, 'relay')
  const created = await fetch(`${running.adminUrl}/admin/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId: 'acme', region: 'EU1' }),
  })
  const { token } = (await created.json()) as { token: string }
  const url = `${running.url}/scim/v2/Users`

  t.test('a small chunked body in many pieces arrives whole, with its length', async (t) => {
    node.respond = chunked(40_000, 1_000)
    const answer = await fetchRaw(url, token)
    t.equal(answer.status, 200)
    t.ok(answer.body.equals(expected(40_000, 1_000)), 'every byte, in order')
    t.equal(answer.headers['content-length'], '40000', 'held whole, so sent with its length')
  })

  t.test('a chunked body past the hold limit streams from its first byte, whole and in order', async (t) => {
    node.respond = chunked(3 * MIB + 123, 64 * 1024)
    const answer = await fetchRaw(url, token)
    t.equal(answer.status, 200)
    t.ok(answer.complete, 'the client sees a complete body')
    t.equal(answer.body.length, 3 * MIB + 123)
    t.ok(answer.body.equals(expected(3 * MIB + 123, 64 * 1024)), 'every byte, in order: nothing held back was lost or repeated')
  })

  t.test('a chunked body that breaks off after the hold limit reaches the client incomplete, never as a whole 200', async (t) => {
    node.respond = chunked(4 * MIB, 64 * 1024, 2 * MIB)
    const answer = await fetchRaw(url, token)
    t.ok(answer.status === 502 || !answer.complete, `a SCIM 502 or a body the client sees break off (got ${answer.status}, ${answer.body.length} bytes)`)
    t.ok(answer.body.length < 4 * MIB)
  })

  t.test('an error status of the node passes through with its body', async (t) => {
    node.respond = (_request, response) => {
      response.writeHead(404, { 'content-type': 'application/scim+json' })
      response.end('{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"no such user"}')
    }
    const answer = await httpRequest(`${url}/nope`, { headers: { host: EU1, authorization: `Bearer ${token}` } })
    t.equal(answer.status, 404)
    t.match(answer.json(), { status: '404', detail: 'no such user' })
  })
})
