import t from 'tap'
import { createHmac } from 'node:crypto'
import { ConfigError } from '../../../config/config-error.ts'
import { DEVELOPMENT_ONLY_PEPPER, resolvePeppers } from '../../../config/token-peppers.ts'
import { createTokenHasher } from '../../../gateway/tokens/token-hasher.ts'

const LONG = 'x'.repeat(40)

t.test('digest is HMAC-SHA256 hex under the named version', async (t) => {
  const hasher = createTokenHasher([{ version: 'v1', secret: 'one' }, { version: 'v2', secret: 'two' }], 'v2')
  t.equal(hasher.current, 'v2')
  t.same(hasher.versions, ['v2', 'v1'], 'current first')
  t.equal(hasher.digest('scg_tok', 'v1'), createHmac('sha256', 'one').update('scg_tok').digest('hex'))
  t.equal(hasher.digest('scg_tok', 'v2'), createHmac('sha256', 'two').update('scg_tok').digest('hex'))
  t.not(hasher.digest('scg_tok', 'v1'), hasher.digest('scg_tok', 'v2'))
  t.throws(() => hasher.digest('scg_tok', 'v3'), /unknown pepper version/)
})

t.test('createTokenHasher refuses bad peppers', async (t) => {
  t.throws(() => createTokenHasher([], 'v1'), /at least one/)
  t.throws(() => createTokenHasher([{ version: 'v1', secret: 'a' }], 'v2'), /not configured/)
  t.throws(() => createTokenHasher([{ version: 'v1', secret: 'a' }, { version: 'v1', secret: 'b' }], 'v1'), /duplicate/)
  t.throws(() => createTokenHasher([{ version: 'v1', secret: '' }], 'v1'), /empty/)
  t.throws(() => createTokenHasher([{ version: 'bad version', secret: 'a' }], 'bad version'), /version must match/)
})

t.test('resolvePeppers', async (t) => {
  const dev = resolvePeppers({ SCIMGATE_DEV_SECRETS: '1' })
  t.equal(dev.isDevelopment, true)
  t.equal(dev.current, DEVELOPMENT_ONLY_PEPPER.version)
  t.same(dev.peppers, [DEVELOPMENT_ONLY_PEPPER])
  t.throws(() => resolvePeppers({ NODE_ENV: 'production' }), ConfigError)

  const one = resolvePeppers({ TOKEN_PEPPERS: JSON.stringify([{ version: 'v1', secret: LONG }]) })
  t.same(one, { peppers: [{ version: 'v1', secret: LONG }], current: 'v1', isDevelopment: false })

  const two = JSON.stringify([{ version: 'v1', secret: LONG }, { version: 'v2', secret: `${LONG}2` }])
  t.equal(resolvePeppers({ TOKEN_PEPPERS: two, TOKEN_PEPPER_CURRENT: 'v2' }).current, 'v2')
  t.throws(() => resolvePeppers({ TOKEN_PEPPERS: two }), /TOKEN_PEPPER_CURRENT is required/)
  t.throws(() => resolvePeppers({ TOKEN_PEPPERS: two, TOKEN_PEPPER_CURRENT: 'v9' }), /not configured/)
  t.throws(() => resolvePeppers({ TOKEN_PEPPERS: JSON.stringify([{ version: 'v1', secret: 'short' }]), NODE_ENV: 'production' }), /at least 32/)
  t.throws(() => resolvePeppers({ TOKEN_PEPPERS: JSON.stringify([DEVELOPMENT_ONLY_PEPPER]), NODE_ENV: 'production' }), /development pepper/)
  t.throws(() => resolvePeppers({ TOKEN_PEPPERS: '[]' }), /at least one/)
  t.throws(() => resolvePeppers({ TOKEN_PEPPERS: '[{"version":"v1"}]' }), ConfigError)
  t.throws(() => resolvePeppers({ TOKEN_PEPPER_CURRENT: 'v1', SCIMGATE_DEV_SECRETS: '1' }), /TOKEN_PEPPERS is not/)

  try {
    resolvePeppers({ TOKEN_PEPPERS: '[{"version":"v1","secret":"supersecret' })
    t.fail('should throw')
  } catch (error) {
    t.ok(error instanceof ConfigError)
    t.notMatch((error as Error).message, /supersecret/, 'the secret is not quoted')
  }
})

t.test('fail closed: the development pepper only when SCIMGATE_DEV_SECRETS=1 asks for it, whatever NODE_ENV says', async (t) => {
  for (const NODE_ENV of [undefined, 'development', 'Production', 'prod', 'staging']) {
    t.throws(() => resolvePeppers({ NODE_ENV }), /TOKEN_PEPPERS: is required/, `no pepper, NODE_ENV=${NODE_ENV}`)
    t.throws(() => resolvePeppers({ NODE_ENV, TOKEN_PEPPERS: JSON.stringify([{ version: 'v1', secret: 'short' }]) }), /at least 32/, `short pepper, NODE_ENV=${NODE_ENV}`)
    t.throws(() => resolvePeppers({ NODE_ENV, TOKEN_PEPPERS: JSON.stringify([DEVELOPMENT_ONLY_PEPPER]) }), /development pepper/, `the public pepper, NODE_ENV=${NODE_ENV}`)
  }
  t.equal(resolvePeppers({ SCIMGATE_DEV_SECRETS: '1', TOKEN_PEPPERS: JSON.stringify([{ version: 'v1', secret: 'short' }]) }).current, 'v1', 'development may use a short pepper')
  t.throws(() => resolvePeppers({ SCIMGATE_DEV_SECRETS: '0' }), /TOKEN_PEPPERS: is required/, 'SCIMGATE_DEV_SECRETS=0 asks for nothing')
})
