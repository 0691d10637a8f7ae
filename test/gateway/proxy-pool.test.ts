// Both SCIM prefixes reach a node through one keep-alive pool: a request under /scim/v2 reuses the connection
// a request under /scim opened (each prefix with its own agent held two pools, so twice the connections).
import t from 'tap'
import { startGatewayForUpstreams } from '../helpers/catalog-gateway.ts'
import { httpRequest } from '../helpers/http-request.ts'
import { answerWith, startStandInUpstream } from '../helpers/stand-in-upstream.ts'
import { ADMIN_TOKEN } from '../helpers/system.ts'

const EU1 = 'eu1.localhost'

t.test('/scim and /scim/v2 share one connection pool per node', async (t) => {
  const node = await startStandInUpstream(t)
  node.respond = answerWith(200)
  const { running } = await startGatewayForUpstreams(t, { EU1: [node.url] }, 'pool')
  const created = await fetch(`${running.adminUrl}/admin/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId: 'acme', region: 'EU1' }),
  })
  const { token } = (await created.json()) as { token: string }
  const headers = { host: EU1, authorization: `Bearer ${token}` }
  // A first request opens the pool's connection (the admin API may have reached the node through its own client).
  t.equal((await httpRequest(`${running.url}/scim/Users`, { headers })).status, 200)
  const before = node.connections
  const proxiedFrom = node.requests.length

  // One at a time, so the kept-alive connection can carry them all.
  for (const path of ['/scim/Users', '/scim/v2/Users', '/scim/Groups', '/scim/v2/Groups']) {
    const answer = await httpRequest(`${running.url}${path}`, { headers })
    t.equal(answer.status, 200, path)
  }
  t.same(
    node.requests.slice(proxiedFrom).map((request) => request.url),
    ['/scim/v2/Users', '/scim/v2/Users', '/scim/v2/Groups', '/scim/v2/Groups'],
    'both prefixes reach the node under /scim/v2',
  )
  t.equal(node.connections, before, 'the connection /scim opened carried the requests of both prefixes')
})
