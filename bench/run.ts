// `npm run bench [-- --quick] [-- --only gateway,scale,sync,events,floor]`: every benchmark
// against real PostgreSQL and Redis; one table on stdout, progress on stderr,
// results in bench/results/latest.json. BENCH_CPU_PROF=1 profiles the node and
// gateway processes into bench/results/profiles/.
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { runAllCleanups } from './lib/cleanup.ts'
import { createProgress } from './lib/progress.ts'
import { formatTable, machineInfo, writeResults } from './lib/report.ts'
import type { BenchResult } from './lib/result.ts'
import { POSTGRES_URL } from './lib/services.ts'
import { FULL_SIZES, QUICK_SIZES, describeSizes, type BenchSizes } from './lib/sizes.ts'
import { runEventsSuite } from './suites/events-suite.ts'
import { runFloorSuite } from './suites/floor-suite.ts'
import { runGatewaySuite } from './suites/gateway-suite.ts'
import { runScaleSuite } from './suites/scale-suite.ts'
import { runSyncSuite } from './suites/sync-suite.ts'

const SUITES = {
  gateway: runGatewaySuite,
  scale: runScaleSuite,
  sync: runSyncSuite,
  events: runEventsSuite,
  floor: runFloorSuite,
} as const satisfies Record<string, (sizes: BenchSizes, progress: ReturnType<typeof createProgress>) => Promise<BenchResult[]>>

function parseArguments(argv: readonly string[]): { sizes: BenchSizes; only: (keyof typeof SUITES)[] } {
  const sizes = argv.includes('--quick') ? QUICK_SIZES : FULL_SIZES
  const onlyIndex = argv.indexOf('--only')
  const names = onlyIndex === -1 ? Object.keys(SUITES) : (argv[onlyIndex + 1] ?? '').split(',')
  const unknown = names.filter((n) => !(n in SUITES))
  if (unknown.length > 0) throw new Error(`unknown suite(s) ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`)
  return { sizes, only: names as (keyof typeof SUITES)[] }
}

async function postgresVersion(): Promise<string> {
  const client = new pg.Client({ connectionString: POSTGRES_URL })
  await client.connect()
  try {
    return String((await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version)
  } finally {
    await client.end()
  }
}

async function main(): Promise<number> {
  const { sizes, only } = parseArguments(process.argv.slice(2))
  const progress = createProgress()
  const started = new Date()
  const machine = machineInfo(await postgresVersion())
  progress.step(`${describeSizes(sizes)} — suites: ${only.join(', ')}`)
  const results: BenchResult[] = []
  const failures: string[] = []
  for (const name of only) {
    try {
      results.push(...(await SUITES[name](sizes, progress)))
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
      progress.step(`suite ${name} failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  const durationS = Math.round((Date.now() - started.getTime()) / 1000)
  const heading = `scimgate benchmarks — ${describeSizes(sizes)}\n${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memory}, Node ${machine.node}, PostgreSQL ${machine.postgres}, Redis ${machine.redis}; ${durationS}s`
  process.stdout.write(`\n${formatTable(results, heading)}\n`)
  const file = writeResults(fileURLToPath(new URL('./results', import.meta.url)), results, { mode: sizes.mode, sizes, machine, startedAt: started.toISOString(), durationS, failures })
  process.stderr.write(`[bench] results written to ${file}\n`)
  for (const failure of failures) process.stderr.write(`[bench] FAILED ${failure}\n`)
  return failures.length === 0 ? 0 : 1
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n[bench] ${signal}: cleaning up\n`)
    void runAllCleanups().finally(() => process.exit(130))
  })
}

process.exitCode = await main().catch(async (error: unknown) => {
  process.stderr.write(`[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  await runAllCleanups()
  return 1
})
