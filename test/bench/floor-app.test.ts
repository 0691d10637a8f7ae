// The floor (bench/floor/) is only a measuring stick, but a wrong one would
// flatter it: its one-statement PATCH, its inserts and its reads must keep the
// node's outcomes (404, 409, no version bump without a change, events written,
// tenants apart) on a real migrated database.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import { generateIdentityKeyPair, IDENTITY_HEADER, signIdentity } from '../../lib/internal-identity.ts'
import { PATCH_OP_SCHEMA, USER_SCHEMA } from '../../region-node/scim/schema/index.ts'
import { buildFloorApp } from '../../bench/floor/floor-app.ts'
import { createTestDatabase } from '../helpers/test-database.ts'

t.test('the floor keeps the node’s outcomes', async (t) => {
  const database = await createTestDatabase('floorapp')
  t.teardown(database.drop)
  const admin = new pg.Pool({ connectionString: database.directUrl, max: 2 })
  t.teardown(() => admin.end())
  const keys = await generateIdentityKeyPair()
  const app = await buildFloorApp({ databaseUrl: database.directUrl, region: 'EU1', keySet: { keys: [keys.publicJwk] }, poolSize: 2, rowSecurityRole: 'scimgate_app', statementTimeoutMs: 10_000, eventLog: true, maxMembersInResponse: 10 })
  t.teardown(() => app.close())
  const identity = async (tenantId: string) => ({ [IDENTITY_HEADER]: await signIdentity(keys.signingKey, { tenantId, tokenId: 'tok-1', region: 'EU1', scopes: ['scim'] }, 600) })
  const a = await identity('tenant-a')
  const b = await identity('tenant-b')
  const userId = randomUUID()
  const groupId = randomUUID()
  await admin.query(`INSERT INTO users (tenant_id, id, user_name, attributes) VALUES ('tenant-a', $1, 'kim@example.com', '{"userName": "kim@example.com", "active": true}')`, [userId])
  await admin.query(`INSERT INTO groups (tenant_id, id, display_name, attributes) VALUES ('tenant-a', $1, 'team', '{"displayName": "team"}')`, [groupId])

  t.equal((await app.inject({ method: 'GET', url: `/scim/v2/Users/${userId}` })).statusCode, 401, 'no identity, no answer')
  t.equal((await app.inject({ method: 'GET', url: `/scim/v2/Users/${userId}`, headers: a })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: `/scim/v2/Users/${userId}`, headers: b })).statusCode, 404, 'another tenant does not see it')
  t.equal((await app.inject({ method: 'GET', url: '/scim/v2/Users/not-a-uuid', headers: a })).statusCode, 404)
  const none = await app.inject({ method: 'GET', url: `/scim/v2/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}`, headers: a })
  t.match(none.json(), { totalResults: 0, itemsPerPage: 0, Resources: [] })

  const add = (group: string, member: string, headers = a) =>
    app.inject({ method: 'PATCH', url: `/scim/v2/Groups/${group}`, headers: { ...headers, 'content-type': 'application/scim+json' }, payload: { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: member }] }] } })
  const first = await add(groupId, userId)
  t.equal(first.statusCode, 204)
  t.equal(first.headers.etag, 'W/"2"', 'a member added bumps the version')
  const again = await add(groupId, userId)
  t.equal(again.headers.etag, 'W/"2"', 'adding a member again changes nothing')
  t.equal((await add(randomUUID(), userId)).statusCode, 404, 'an unknown group is a 404')
  t.equal((await add(groupId, userId, b)).statusCode, 404, 'another tenant’s group is a 404')
  const members = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM group_members WHERE group_id = $1', [groupId])
  t.equal(members.rows[0]!.n, 1)
  const added = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE tenant_id = 'tenant-a' AND type = 'membership.added'")
  t.equal(added.rows[0]!.n, 1, 'one membership event')

  const post = () => app.inject({ method: 'POST', url: '/scim/v2/Users', headers: { ...a, 'content-type': 'application/scim+json' }, payload: { schemas: [USER_SCHEMA], userName: 'lee@example.com' } })
  const created = await post()
  t.equal(created.statusCode, 201)
  t.match(created.json(), { userName: 'lee@example.com', active: true, meta: { version: 'W/"1"' } })
  t.equal((await post()).statusCode, 409, 'a taken userName is a 409')
  const logged = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE tenant_id = 'tenant-a' AND type = 'user.created'")
  t.equal(logged.rows[0]!.n, 1, 'one user.created event, none for the refused create')
})
