import t from 'tap'
import { DependencyUnavailableError, ScimError, scimErrorBody, statusAgreesWithScimType, type ScimType } from '../../lib/scim-error.ts'

const FOR_400: readonly ScimType[] = ['invalidFilter', 'tooMany', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'invalidVers', 'sensitive', 'invalidCursor', 'expiredCursor', 'invalidCount']

t.test('a SCIM error refuses a status and scimType that disagree (RFC 7644 §3.12)', async (t) => {
  for (const scimType of FOR_400) t.equal(new ScimError(400, scimType, 'x').scimType, scimType, `400 ${scimType}`)
  t.equal(new ScimError(409, 'uniqueness', 'x').status, 409)
  t.equal(new ScimError(403, 'sensitive', 'x').status, 403)
  for (const status of [401, 403, 404, 409, 412, 413, 415, 429, 500, 503]) t.equal(new ScimError(status, undefined, 'x').scimType, undefined, `${status} without a scimType`)

  t.throws(() => new ScimError(409, 'invalidValue', 'x'), RangeError, '409 invalidValue')
  t.throws(() => new ScimError(400, 'uniqueness', 'x'), RangeError, '400 uniqueness')
  t.throws(() => new ScimError(415, 'invalidSyntax', 'x'), RangeError, '415 invalidSyntax')
  t.throws(() => new ScimError(500, 'invalidValue', 'x'), RangeError, '500 invalidValue')
  t.throws(() => new ScimError(200, undefined, 'x'), RangeError, 'not an error status')
  t.throws(() => scimErrorBody(409, 'x', 'invalidValue'), RangeError, 'bodies are checked too')
  t.notOk(statusAgreesWithScimType(404, 'noTarget'))
})

t.test('a dependency that is down is a 503 with Retry-After', async (t) => {
  const cause = new Error('connect ECONNREFUSED 10.0.0.1:5432')
  const error = new DependencyUnavailableError('the region database is unavailable; retry later', 5, { cause })
  t.ok(error instanceof ScimError)
  t.equal(error.status, 503)
  t.same(error.headers, { 'retry-after': '5' })
  t.equal(error.cause, cause, 'the cause is kept for the log')
  t.notMatch(JSON.stringify(error.toBody()), /10\.0\.0\.1|ECONNREFUSED/, 'the cause never reaches the body')
})
