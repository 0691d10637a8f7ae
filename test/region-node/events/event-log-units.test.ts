import t from 'tap'
import { clientKindOf } from '../../../lib/client-kind.ts'
import { ScimError } from '../../../lib/scim-error.ts'
import { decodeEventCursor, encodeEventCursor } from '../../../region-node/events/event-cursor.ts'
import { createEventWaker } from '../../../region-node/events/event-waker.ts'
import { feedConsumerOf } from '../../../region-node/events/feed-consumer.ts'
import { changedPaths } from '../../../region-node/scim/changed-paths.ts'

t.test('changed attribute paths, never values', async (t) => {
  const ext = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
  t.same(changedPaths({ userName: 'a', name: { givenName: 'A', familyName: 'B' } }, { userName: 'a', name: { givenName: 'A', familyName: 'C' } }), ['name.familyName'])
  t.same(changedPaths({ emails: [{ value: 'a' }] }, { emails: [{ value: 'b' }], title: 'x' }), ['emails', 'title'])
  t.same(changedPaths({ [ext]: { department: 'a' } }, { [ext]: { department: 'b', manager: { value: 'm' } } }), [`${ext}:department`, `${ext}:manager.value`])
  t.same(changedPaths({ name: { givenName: 'A' } }, {}), ['name.givenName'], 'a removed complex attribute names its sub-attributes')
  t.same(changedPaths({ active: true, password: 'x' }, { active: false, password: 'y' }, ['active', 'password']), [])
  t.same(changedPaths({ a: { b: 1 } }, { a: { b: 1 } }), [])
})

t.test('client kind from the User-Agent', async (t) => {
  for (const [agent, kind] of [
    ['Okta SCIM Client 1.0.0', 'okta'],
    ['Microsoft.AAD.Provisioning', 'entra'],
    ['Azure Active Directory SCIM', 'entra'],
    ['OneLogin SCIM', 'onelogin'],
    ['curl/8.0', 'other'],
    [undefined, 'other'],
  ] as const) t.equal(clientKindOf(agent), kind, String(agent))
})

t.test('feed consumers: access credentials by default, admins when they name one; names are checked', async (t) => {
  t.equal(feedConsumerOf('tok_a', 'access', undefined), 'tok_a')
  t.equal(feedConsumerOf('tok_a', 'access', 'sync.eu-1'), 'tok_a/sync.eu-1')
  t.equal(feedConsumerOf('tok_b', 'admin', undefined), undefined, 'the console following the feed')
  t.equal(feedConsumerOf('operator', 'operator', undefined), undefined, 'scimgate events --follow')
  t.equal(feedConsumerOf('operator', 'operator', 'export'), 'operator/export')
  t.equal(feedConsumerOf('tok_c', undefined, undefined), undefined, 'no kind from the gateway')
  t.equal(feedConsumerOf('bad id', 'access', undefined), undefined, 'an id that cannot be a label is not tracked')
  for (const name of ['', '-x', 'a b', 'a/b', 'é', 'x'.repeat(65)]) t.throws(() => feedConsumerOf('tok_a', 'access', name), new ScimError(400, 'invalidValue', 'consumer must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'), JSON.stringify(name))
})

t.test('event cursors are opaque and checked', async (t) => {
  t.equal(decodeEventCursor(encodeEventCursor(42n), 'after'), 42n)
  t.notMatch(encodeEventCursor(42n), /42/)
  for (const bad of ['', 'abc', Buffer.from('ev1.-1').toString('base64url'), Buffer.from('ev1.99999999999999999999').toString('base64url'), 'x'.repeat(100)]) {
    t.throws(() => decodeEventCursor(bad, 'after'), new ScimError(400, 'invalidValue', 'after is not a cursor this service issued'), bad)
  }
})

t.test('the waker wakes the right tenant, also between subscribe and wait', async (t) => {
  const waker = createEventWaker()
  const a = waker.subscribe('a')
  const b = waker.subscribe('b')
  waker.wake('a')
  const started = Date.now()
  await a.wait(5_000)
  t.ok(Date.now() - started < 1_000, 'a notification before wait() is not lost')
  let bWoke = false
  const waitingB = b.wait(200).then(() => (bWoke = true))
  waker.wake('c')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.notOk(bWoke, 'another tenant does not wake b')
  waker.wakeAll()
  await waitingB
  t.ok(bWoke)
  a.cancel()
  b.cancel()
  t.equal(waker.waiting, 0)
})

t.test('a closed waker lets every waiter go and none wait again', async (t) => {
  const waker = createEventWaker()
  const waiter = waker.subscribe('a')
  const waiting = waiter.wait(60_000)
  waker.close()
  await waiting
  t.ok(waker.closed)
  const started = Date.now()
  await waker.subscribe('a').wait(60_000)
  t.ok(Date.now() - started < 1_000)
})
