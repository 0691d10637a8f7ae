import pg from 'pg'
import t from 'tap'
import { createTestDatabase } from '../../helpers/test-database.ts'
import { startTcpProxy } from '../../helpers/tcp-proxy.ts'
import { startTestNode } from '../../helpers/region-node.ts'

t.test('PostgreSQL going away gives 503 with Retry-After, and the node recovers by itself', async (t) => {
  const db = await createTestDatabase('outage')
  t.teardown(db.drop)
  const proxy = await startTcpProxy('127.0.0.1', 5432)
  t.teardown(() => proxy.close())
  const viaProxy = new URL(db.url)
  viaProxy.port = String(proxy.port)
  const node = await startTestNode(t, { databaseUrl: viaProxy.toString() })

  const created = await node.scim('acme', 'POST', 'Users', { userName: 'before@example.com' })
  t.equal(created.statusCode, 201)

  proxy.cut()
  for (const [method, path, body] of [
    ['GET', 'Users', undefined],
    ['GET', `Users/${created.json().id}`, undefined],
    ['POST', 'Users', { userName: 'during@example.com' }],
  ] as const) {
    const response = await node.scim('acme', method, path, body)
    t.equal(response.statusCode, 503, `${method} ${path} while the database is down`)
    t.equal(response.headers['retry-after'], '5')
    t.match(response.json(), { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' })
    t.notMatch(response.body, /127\.0\.0\.1|ECONNREFUSED|5432/, 'no internal address leaks')
  }
  const ready = await node.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 503, 'readiness reflects the database')
  const live = await node.app.inject({ method: 'GET', url: '/livez' })
  t.equal(live.statusCode, 200, 'liveness does not depend on the database')

  proxy.restore()
  const after = await node.scim('acme', 'POST', 'Users', { userName: 'after@example.com' })
  t.equal(after.statusCode, 201, 'writes work again once the database is back')
  const list = await node.scim('acme', 'GET', 'Users')
  t.same(list.json().Resources.map((u: { userName: string }) => u.userName).sort(), ['after@example.com', 'before@example.com'], 'the write during the outage was not half-applied')
  t.equal((await node.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
})

t.test('the connection dying in the middle of a request gives 503, though pg says so without an error code', async (t) => {
  const db = await createTestDatabase('midway')
  t.teardown(db.drop)
  const proxy = await startTcpProxy('127.0.0.1', 5432)
  t.teardown(() => proxy.close())
  const viaProxy = new URL(db.url)
  viaProxy.port = String(proxy.port)
  const node = await startTestNode(t, { databaseUrl: viaProxy.toString() })
  const created = await node.scim('acme', 'POST', 'Users', { userName: 'locked@example.com' })
  t.equal(created.statusCode, 201)

  // Another session holds the row, so the node's update waits inside its transaction until the proxy cuts it.
  const holder = new pg.Client({ connectionString: db.url })
  await holder.connect()
  t.teardown(() => holder.end())
  await holder.query('BEGIN')
  await holder.query('SELECT set_config($1, $2, true)', ['scimgate.tenant_id', 'acme'])
  await holder.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [created.json().id])
  const pending = node.scim('acme', 'PUT', `Users/${created.json().id}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'locked@example.com', displayName: 'Waiting' })
  await new Promise((resolve) => setTimeout(resolve, 300))
  proxy.cut()
  const response = await pending
  t.equal(response.statusCode, 503, response.body)
  t.equal(response.headers['retry-after'], '5')
  await holder.query('ROLLBACK')
  proxy.restore()
  t.equal((await node.scim('acme', 'GET', `Users/${created.json().id}`)).json().displayName, undefined, 'the cut update left nothing behind')
})
