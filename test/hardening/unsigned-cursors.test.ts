// Issue 9.7: RFC 9865 cursors were unsigned base64 JSON — a cursor with a
// future time defeated the TTL, tenant A's cursor was accepted by tenant B, and
// it exposed the table-wide insertion sequence. Now they are encrypted, carry an
// HMAC bound to tenant, resource type and query, and keys rotate by kid.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import t, { type Test } from 'tap'
import type { CursorKeys } from '../../config/cursor-keys.ts'
import { startTestNode } from '../helpers/region-node.ts'

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'
const secret = () => randomBytes(32).toString('hex')
const OLD = { kid: 'old', secret: secret() }
const NEW = { kid: 'new', secret: secret() }
const keys = (current: string, ...list: { kid: string; secret: string }[]): CursorKeys => ({ current, keys: list, isDevelopment: false })

const node = await startTestNode(t, { cursorKeys: keys('old', OLD) })
for (const tenant of ['tenant-a', 'tenant-b']) {
  for (let i = 0; i < 5; i++) {
    const created = await node.scim(tenant, 'POST', 'Users', { userName: `u${i}@${tenant}.example` })
    if (created.statusCode !== 201) throw new Error(created.body)
  }
}
const firstPage = (await node.scim('tenant-a', 'GET', 'Users?cursor=&count=2')).json()
const cursorOfA: string = firstPage.nextCursor

const refused = (t: Test, response: { statusCode: number; json(): unknown; body: string }, scimType: string) => {
  t.equal(response.statusCode, 400, response.body)
  t.match(response.json(), { schemas: [ERROR_SCHEMA], status: '400', scimType })
}

t.test('the cursor works for its own tenant and query', async (t) => {
  const next = await node.scim('tenant-a', 'GET', `Users?cursor=${encodeURIComponent(cursorOfA)}&count=2`)
  t.equal(next.statusCode, 200, next.body)
  t.equal(next.json().Resources[0].userName, 'u2@tenant-a.example')
})

t.test("tenant A's cursor is refused for tenant B", async (t) => {
  refused(t, await node.scim('tenant-b', 'GET', `Users?cursor=${encodeURIComponent(cursorOfA)}&count=2`), 'invalidCursor')
})

t.test('a cursor is bound to the resource type and the query', async (t) => {
  refused(t, await node.scim('tenant-a', 'GET', `Groups?cursor=${encodeURIComponent(cursorOfA)}&count=2`), 'invalidCursor')
  refused(t, await node.scim('tenant-a', 'GET', `Users?cursor=${encodeURIComponent(cursorOfA)}&count=2&sortBy=userName`), 'invalidCursor')
})

t.test('a forged or altered cursor is refused: a future time cannot defeat the TTL', async (t) => {
  const forged = Buffer.from(JSON.stringify({ v: 1, k: null, s: '1', q: 'anything', t: Math.floor(Date.now() / 1000) + 86_400 * 365 })).toString('base64url')
  refused(t, await node.scim('tenant-a', 'GET', `Users?cursor=${forged}&count=2`), 'invalidCursor')
  const [kid, body] = cursorOfA.split('.') as [string, string]
  const bytes = Buffer.from(body, 'base64url')
  for (const index of [0, 20, bytes.length - 1]) {
    const altered = Buffer.from(bytes)
    altered[index] = altered[index]! ^ 0x01
    refused(t, await node.scim('tenant-a', 'GET', `Users?cursor=${kid}.${altered.toString('base64url')}&count=2`), 'invalidCursor')
  }
  refused(t, await node.scim('tenant-a', 'GET', `Users?cursor=nosuchkid.${body}&count=2`), 'invalidCursor')
})

t.test('the cursor reveals no table-wide counter', async (t) => {
  const db = new pg.Client({ connectionString: node.config.database.url })
  await db.connect()
  const { rows } = await db.query<{ seq: string }>('SELECT seq::text FROM users WHERE id = $1', [firstPage.Resources[1].id])
  await db.end()
  const seq = rows[0]!.seq
  const decoded = Buffer.from(cursorOfA.split('.').pop()!, 'base64url').toString('latin1')
  t.notOk(decoded.includes(`"s":"${seq}"`) || decoded.includes('"s":'), 'the position is not readable JSON')
  t.throws(() => JSON.parse(decoded), 'the cursor is not JSON once decoded')
  const again = (await node.scim('tenant-a', 'GET', 'Users?cursor=&count=2')).json().nextCursor
  t.not(again, cursorOfA, 'two cursors of the same position differ (random IV), so positions cannot be compared')
})

t.test('keys rotate by kid: a node with the new current key still accepts cursors of the old one until it is removed', async (t) => {
  const rotated = await startTestNode(t, { databaseUrl: node.config.database.url, cursorKeys: keys('new', NEW, OLD) })
  const accepted = await rotated.scim('tenant-a', 'GET', `Users?cursor=${encodeURIComponent(cursorOfA)}&count=2`)
  t.equal(accepted.statusCode, 200, accepted.body)
  const newCursor: string = (await rotated.scim('tenant-a', 'GET', 'Users?cursor=&count=2')).json().nextCursor
  t.match(newCursor, /^new\./, 'new cursors use the current key')
  const retired = await startTestNode(t, { databaseUrl: node.config.database.url, cursorKeys: keys('new', NEW) })
  refused(t, await retired.scim('tenant-a', 'GET', `Users?cursor=${encodeURIComponent(cursorOfA)}&count=2`), 'invalidCursor')
})

t.test('the TTL is enforced from the expiry inside the signed cursor', async (t) => {
  const shortLived = await startTestNode(t, { databaseUrl: node.config.database.url, cursorKeys: keys('old', OLD), limits: { cursorTtlSeconds: 1 } })
  const cursor: string = (await shortLived.scim('tenant-a', 'GET', 'Users?cursor=&count=2')).json().nextCursor
  await new Promise((resolve) => setTimeout(resolve, 2_100))
  refused(t, await shortLived.scim('tenant-a', 'GET', `Users?cursor=${encodeURIComponent(cursor)}&count=2`), 'expiredCursor')
})
