// The PATCH engine driven by the JSON fixture tables: RFC 7644 §3.5.2
// examples, what Entra ID, Okta and OneLogin send, and prototype pollution.
// Every case runs on deep-frozen inputs (a write to the input would throw),
// and every successful case is applied a second time to check idempotence.
import t from 'tap'
import { isScimError } from '../../../../lib/scim-error.ts'
import { applyPatch, parsePatchRequest, planMemberOperations } from '../../../../region-node/scim/patch/index.ts'
import { containsFrozen, deepFreeze, loadFixtureCases, thrownBy } from './fixtures/load-fixture-cases.ts'

const FIXTURE_FILES = ['rfc7644.json', 'entra.json', 'okta.json', 'onelogin.json', 'security.json']

for (const fileName of FIXTURE_FILES) {
  const { description, cases } = loadFixtureCases(fileName)
  t.test(`${fileName}: ${description}`, async (t) => {
    for (const fixture of cases) {
      t.test(fixture.name, async (t) => {
        const resource = deepFreeze(fixture.resource)
        const body = deepFreeze(fixture.body)
        const run = () => {
          const operations = parsePatchRequest(body)
          const { memberOperations, otherOperations } = planMemberOperations(operations, fixture.resourceType)
          return { memberOperations, otherOperations, ...applyPatch(resource, otherOperations, fixture.resourceType) }
        }
        const { expected } = fixture
        if (expected.kind === 'error') {
          const error = thrownBy(run)
          t.ok(isScimError(error), isScimError(error) ? "a ScimError" : `a ScimError, got ${String(error)}`)
          if (!isScimError(error)) return
          t.equal(error.status, expected.status, 'status')
          t.equal(error.scimType, expected.scimType, `scimType (detail: ${error.detail})`)
          if (expected.detail !== undefined) t.match(error.detail, expected.detail, 'detail names the operation')
          return
        }
        const result = run()
        t.strictSame(result.memberOperations, expected.memberOperations, 'member operations')
        t.strictSame(result.resource, expected.resource, 'resource')
        t.equal(result.changed, expected.changed, 'changed')
        t.notOk(containsFrozen(result.resource), 'the result shares nothing with the frozen input')
        const again = applyPatch(result.resource, result.otherOperations, fixture.resourceType)
        t.equal(again.changed, false, 'applying the same PATCH again changes nothing')
      })
    }
  })
}

t.test('nothing was polluted', async (t) => {
  const probe: Record<string, unknown> = {}
  t.equal(probe['polluted'], undefined)
  t.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false)
})
