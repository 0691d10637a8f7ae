// CI runs the benchmark code with tiny sizes against real PostgreSQL and Redis:
// it checks that every suite runs and returns well-formed results, never timings.
import t from 'tap'
import { silentProgress } from '../../bench/lib/progress.ts'
import { formatTable } from '../../bench/lib/report.ts'
import { isWellFormed, type BenchResult } from '../../bench/lib/result.ts'
import { SMOKE_SIZES } from '../../bench/lib/sizes.ts'
import { latencyStats } from '../../bench/lib/stats.ts'
import { runEventsSuite } from '../../bench/suites/events-suite.ts'
import { runGatewaySuite } from '../../bench/suites/gateway-suite.ts'
import { runScaleSuite } from '../../bench/suites/scale-suite.ts'
import { runSyncSuite } from '../../bench/suites/sync-suite.ts'

t.test('latency percentiles use the nearest rank', async (t) => {
  const stats = latencyStats([5, 1, 4, 2, 3, 6, 7, 8, 9, 10])
  t.same({ p50: stats.p50, p90: stats.p90, p99: stats.p99, mean: stats.mean }, { p50: 5, p90: 9, p99: 10, mean: 5.5 })
})

const suites = [
  { name: 'gateway', run: runGatewaySuite, expects: ['gateway throughput', 'added p50 latency', 'Redis commands per request'] },
  { name: 'scale', run: runScaleSuite, expects: ['filter userName eq', 'filter externalId eq', 'PATCH add one member', 'PATCH remove one member', 'GET group excludedAttributes=members', 'last page by cursor'] },
  { name: 'sync', run: runSyncSuite, expects: ['initial sync users/s', 'initial sync total time'] },
  { name: 'events', run: runEventsSuite, expects: ['access decision p50', 'event log cost: user create p50', 'event log cost: PATCH adding'] },
]

for (const suite of suites) {
  t.test(`the ${suite.name} benchmarks run and return well-formed results`, async (t) => {
    const results: BenchResult[] = await suite.run(SMOKE_SIZES, silentProgress)
    t.ok(results.length >= suite.expects.length, 'one result per figure at least')
    for (const result of results) t.ok(isWellFormed(result), `well-formed: ${result.name}`)
    for (const prefix of suite.expects) t.ok(results.some((r) => r.name.startsWith(prefix)), `has "${prefix}"`)
    t.match(formatTable(results, 'smoke'), /\| benchmark/)
  })
}
