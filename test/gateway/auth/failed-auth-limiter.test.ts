import t from 'tap'
import { createCredentialFailureLimiter, createFailedAuthLimiter } from '../../../gateway/auth/failed-auth-limiter.ts'

t.test('failures count per address and credential; an address that has not failed is never blocked', async (t) => {
  let clock = 1_000_000
  const now = (): number => clock
  const limiter = createCredentialFailureLimiter(createFailedAuthLimiter({ maxFailures: 3, windowMs: 60_000, now }), { windowMs: 60_000, now })
  t.equal(limiter.blockedFor('10.0.0.1|EU1', 'scg_eu1_good'), 0, 'no failures: not blocked')
  for (let i = 0; i < 3; i++) limiter.recordFailure('10.0.0.1|EU1', 'scg_eu1_revoked')
  t.ok(limiter.blockedFor('10.0.0.1|EU1', 'scg_eu1_revoked') > 0, 'the failing credential is blocked')
  t.equal(limiter.blockedFor('10.0.0.1|EU1', 'scg_eu1_good'), 0, 'another credential from the same address is not')
  t.equal(limiter.blockedFor('10.0.0.2|EU1', 'scg_eu1_revoked'), 0, 'nor the same credential from another address')
  t.equal(limiter.blockedFor('10.0.0.1|US1', 'scg_eu1_revoked'), 0, 'nor in another region')
  for (let i = 0; i < 3; i++) limiter.recordFailure('10.0.0.1|EU1', undefined)
  t.ok(limiter.blockedFor('10.0.0.1|EU1', undefined) > 0, 'a missing credential counts as its own key')
  clock += 30_000
  limiter.recordFailure('10.0.0.1|EU1', 'scg_eu1_other')
  t.ok(limiter.blockedFor('10.0.0.1|EU1', 'scg_eu1_revoked') > 0, 'still blocked within the window')
  clock += 30_001
  t.equal(limiter.blockedFor('10.0.0.1|EU1', 'scg_eu1_revoked'), 0, 'free again once its window ended')
  clock += 30_000
  t.equal(limiter.blockedFor('10.0.0.1|EU1', 'scg_eu1_other'), 0, 'and the address is forgotten after its last failure window')
})
