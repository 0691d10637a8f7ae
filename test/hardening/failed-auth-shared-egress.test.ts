// Issue 9.2: the failed-authentication limiter must never refuse a token that
// verifies, and one customer's failures must not lock out another customer
// calling from the same egress address (Okta and Entra share them).
import t from 'tap'
import { startSystem } from '../helpers/system.ts'

const EU1 = 'eu1.localhost'

t.test('two customers behind one address: one customer\'s failures never lock out the other\'s verified token', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'], env: { RATE_LIMIT_FAILED_AUTH_PER_ADDRESS: '5' } })
  const good = await system.createToken('customer-good', 'EU1')
  const broken = await system.createToken('customer-broken', 'EU1')
  await system.admin('DELETE', `/admin/v1/tokens/${broken.tokenId}`)
  await new Promise((resolve) => setTimeout(resolve, 200))

  const failures: number[] = []
  for (let i = 0; i < 12; i++) {
    failures.push((await system.request(EU1, 'GET', '/scim/v2/Users', { token: broken.token })).status)
    failures.push((await system.request(EU1, 'GET', '/scim/v2/Users')).status)
    failures.push((await system.request(EU1, 'GET', '/scim/v2/Users', { token: `scg_eu1_guess${i}` })).status)
  }
  t.ok(failures.every((status) => status === 401 || status === 429), 'the failing customer gets 401, then 429')
  t.ok(failures.includes(429), 'the revoked token repeated from one address is slowed down')

  const goodStatuses: number[] = []
  for (let i = 0; i < 10; i++) goodStatuses.push((await system.request(EU1, 'GET', '/scim/v2/Users', { token: good.token })).status)
  t.same(goodStatuses, Array(10).fill(200), 'the other customer behind the same address is never refused')
})

t.test('only failures count: many verified requests never trip the limiter', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'], env: { RATE_LIMIT_FAILED_AUTH_PER_ADDRESS: '2' } })
  const { token } = await system.createToken('busy', 'EU1')
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) statuses.push((await system.request(EU1, 'GET', '/scim/v2/Users', { token })).status)
  t.same(statuses, Array(8).fill(200))
  const noHeader: number[] = []
  for (let i = 0; i < 3; i++) noHeader.push((await system.request(EU1, 'GET', '/scim/v2/Users')).status)
  t.same(noHeader, [401, 401, 429], 'requests without a token count against themselves')
  t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token })).status, 200, 'and never against the verified token')
})
