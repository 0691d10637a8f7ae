import t from 'tap'
import pg from 'pg'
import { startSystem } from '../helpers/system.ts'

const LOCAL_HOSTS = { US1: 'us1.localhost', EU1: 'eu1.localhost', EU2: 'eu2.localhost', AP1: 'ap1.localhost', AP2: 'ap2.localhost' } as const

t.test('five regions behind one gateway', async (t) => {
  const system = await startSystem(t)

  t.test('every hostname of the catalog reaches its own region, under /scim and /scim/v2', async (t) => {
    for (const region of system.catalog.regions) {
      const { token } = await system.createToken('acme', region.code)
      for (const [index, host] of region.hostnames.entries()) {
        const prefix = index % 2 === 0 ? '/scim/v2' : '/scim'
        const created = await system.request(host, 'POST', `${prefix}/Users`, { token, body: { userName: `${host}@example.com` } })
        t.equal(created.status, 201, `${host} ${prefix}: ${created.body}`)
        t.match(created.headers['content-type'], /application\/scim\+json/)
        t.match(created.json().meta.location, new RegExp(`^http://${host.replace(/\./g, '\\.')}/scim/v2/Users/`), 'locations name the host the client used')
      }
      // Stored in this region's database and nowhere else
      for (const other of system.nodes.values()) {
        const client = new pg.Client({ connectionString: other.databaseUrl })
        await client.connect()
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE user_name = ANY($1)`, [region.hostnames.map((h) => `${h}@example.com`)])
        await client.end()
        t.equal(rows[0]!.n, other.region === region.code ? region.hostnames.length : 0, `${region.code} users in ${other.region}'s database`)
      }
    }
  })

  t.test('the same tenant id in two regions is two separate worlds', async (t) => {
    const eu = await system.createToken('twin', 'EU1')
    const us = await system.createToken('twin', 'US1')
    await system.request(LOCAL_HOSTS.EU1, 'POST', '/scim/v2/Users', { token: eu.token, body: { userName: 'only-in-eu@example.com' } })
    await system.request(LOCAL_HOSTS.US1, 'POST', '/scim/v2/Users', { token: us.token, body: { userName: 'only-in-us@example.com' } })
    const euUsers = (await system.request(LOCAL_HOSTS.EU1, 'GET', '/scim/v2/Users', { token: eu.token })).json()
    const usUsers = (await system.request(LOCAL_HOSTS.US1, 'GET', '/scim/v2/Users', { token: us.token })).json()
    t.same(euUsers.Resources.map((u: { userName: string }) => u.userName), ['only-in-eu@example.com'])
    t.same(usUsers.Resources.map((u: { userName: string }) => u.userName), ['only-in-us@example.com'])
  })

  t.test('a token of another region is refused with the right tenant URL, and nothing else', async (t) => {
    const { token } = await system.createToken('acme', 'EU1')
    const response = await system.request(LOCAL_HOSTS.US1, 'GET', '/scim/v2/Users', { token })
    t.equal(response.status, 401)
    t.equal(response.headers['www-authenticate'], 'Bearer realm="scimgate"')
    t.same(response.json(), {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '401',
      detail: 'this token belongs to another region; use the tenant URL https://ng-api-http.coralogix.com/scim',
    })
    t.notMatch(response.body, /acme/, 'the tenant is not revealed')
  })

  t.test('an unknown host is a 421 SCIM error; paths outside /scim are not proxied', async (t) => {
    const { token } = await system.createToken('acme', 'EU1')
    const unknown = await system.request('evil.example.com', 'GET', '/scim/v2/Users', { token })
    t.equal(unknown.status, 421)
    t.equal(unknown.json().status, '421')
    for (const path of ['/admin/v1/groups/x/access', '/livez-not', '/scimx/Users', '/']) {
      const response = await system.request(LOCAL_HOSTS.EU1, 'GET', path, { token })
      t.equal(response.status, 404, path)
    }
  })

  t.test('a stopped node answers 503 for its region only', async (t) => {
    const ap2 = system.nodes.get('AP2')!
    const { token: ap2Token } = await system.createToken('acme', 'AP2')
    const { token: ap1Token } = await system.createToken('acme', 'AP1')
    t.equal((await system.request(LOCAL_HOSTS.AP2, 'GET', '/scim/v2/Users', { token: ap2Token })).status, 200)
    await ap2.app.close()
    const down = await system.request(LOCAL_HOSTS.AP2, 'GET', '/scim/v2/Users', { token: ap2Token })
    t.equal(down.status, 503)
    t.equal(down.headers['retry-after'], '5')
    t.match(down.json(), { status: '503', detail: /region AP2 is unavailable/ })
    t.notMatch(down.body, /127\.0\.0\.1|ECONNREFUSED|:\d{4,5}/, 'no internal address')
    t.equal((await system.request(LOCAL_HOSTS.AP1, 'GET', '/scim/v2/Users', { token: ap1Token })).status, 200, 'AP1 is untouched')
  })
})
