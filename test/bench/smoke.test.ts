// CI runs the benchmark code with tiny sizes against real PostgreSQL and Redis:
// it checks that every suite runs and returns well-formed results, never timings.
import t from 'tap'
import { silentProgress } from '../../bench/lib/progress.ts'
import { formatTable } from '../../bench/lib/report.ts'
import { bodyDifference, normalizeIdentities } from '../../bench/lib/body-compare.ts'
import { isWellFormed, notMeasured, type BenchResult } from '../../bench/lib/result.ts'
import { SMOKE_SIZES } from '../../bench/lib/sizes.ts'
import { latencyStats } from '../../bench/lib/stats.ts'
import { runEventsSuite } from '../../bench/suites/events-suite.ts'
import { runFloorSuite } from '../../bench/suites/floor-suite.ts'
import { runGatewaySuite } from '../../bench/suites/gateway-suite.ts'
import { runScaleSuite } from '../../bench/suites/scale-suite.ts'
import { runSyncSuite } from '../../bench/suites/sync-suite.ts'

t.test('the floor body check replaces ids and times by their order of appearance', async (t) => {
  const a = '{"id":"1bacdd2b-b5d2-4438-838a-fbc9ca49be3e","created":"2026-11-30T19:00:00.123Z","ref":"1BACDD2B-B5D2-4438-838A-FBC9CA49BE3E"}'
  const b = '{"id":"00000000-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00Z","ref":"00000000-0000-4000-8000-000000000001"}'
  t.equal(normalizeIdentities(a), normalizeIdentities(b))
  t.equal(bodyDifference(normalizeIdentities(a), normalizeIdentities(b)), undefined)
  t.match(bodyDifference('{"a":1}', '{"a":2}') ?? '', /differ at byte 5/)
})

t.test('a row without its tool says "not measured", never "met"', async (t) => {
  const row = notMeasured('gateway vs nginx', '≥ 0.85 × nginx', 'req/s', 'no nginx')
  t.equal(row.met, null)
  t.ok(isWellFormed(row))
  t.match(formatTable([row], 'x'), /not measured/)
})

t.test('latency percentiles use the nearest rank', async (t) => {
  const stats = latencyStats([5, 1, 4, 2, 3, 6, 7, 8, 9, 10])
  t.same({ p50: stats.p50, p90: stats.p90, p99: stats.p99, mean: stats.mean }, { p50: 5, p90: 9, p99: 10, mean: 5.5 })
})

const suites = [
  { name: 'gateway', run: runGatewaySuite, expects: ['gateway throughput', '  reach: gateway vs the minimal Node proxy', '  baseline: added p50, minimal Node proxy hop', 'added p50 latency', 'Redis commands per request', 'added p50 of the gateway hop vs nginx'] },
  { name: 'scale', run: runScaleSuite, expects: ['filter userName eq', 'filter externalId eq', 'PATCH add one member', 'PATCH remove one member', 'GET group excludedAttributes=members', 'last page by cursor'] },
  { name: 'sync', run: runSyncSuite, expects: ['initial sync users/s', 'initial sync users/s through gateway vs the session-1 reference', 'initial sync ceiling', '  initial sync users/s through gateway vs the ceiling', '  initial sync users/s the cores allow', 'initial sync total time'] },
  { name: 'events', run: runEventsSuite, expects: ['access decision p50', 'event log cost: user create p50', 'event log cost: PATCH adding'] },
  {
    name: 'floor',
    run: runFloorSuite,
    expects: ['GET /Users/{id} direct -c50', 'GET /Users/{id} direct -c100 -p10', 'GET /Users?filter=userName eq', 'POST /Users direct -c32', 'PATCH add one member -c32', '  groups table after the PATCH run', '/Bulk of'],
  },
]

for (const suite of suites) {
  t.test(`the ${suite.name} benchmarks run and return well-formed results`, async (t) => {
    const results: BenchResult[] = await suite.run(SMOKE_SIZES, silentProgress)
    t.ok(results.length >= suite.expects.length, 'one result per figure at least')
    for (const result of results) t.ok(isWellFormed(result), `well-formed: ${result.name}`)
    for (const prefix of suite.expects) t.ok(results.some((r) => r.name.startsWith(prefix)), `has "${prefix}"`)
    t.match(formatTable(results, 'smoke'), /\| benchmark/)
    // The floor must answer what the node answers, whatever the timings: a difference fails the row.
    for (const result of results) if (typeof result.context?.responses === 'string') t.match(result.context.responses, /^byte-identical/, `same bytes: ${result.name}`)
    // A throughput row carries CPU per request, unless it could not be measured.
    for (const result of results) if (result.unit === 'req/s' && result.met !== null && result.notMeasured === undefined) t.ok(result.cpu !== undefined, `CPU per request: ${result.name}`)
  })
}
