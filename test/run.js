// `npm test`: typecheck, lint, then every tap test; the last line is the
// summary CI reads: `N passed, M failed`.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'

function run(command, args, { capture = false, env = process.env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'], env })
    let output = ''
    if (capture) {
      child.stdout.on('data', (chunk) => {
        process.stdout.write(chunk)
        output += chunk.toString()
      })
    }
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
  })
}

const extraArgs = process.argv.slice(2)
const steps = []
if (extraArgs.length === 0) {
  steps.push(['typecheck', 'npx', ['tsc', '--noEmit']])
  steps.push(['lint', 'npx', ['eslint', '.']])
}
let failedSteps = 0
for (const [name, command, args] of steps) {
  console.log(`\n== ${name}`)
  const { code } = await run(command, args)
  if (code !== 0) {
    failedSteps++
    console.log(`== ${name} failed`)
  }
}

function summaryOf(output) {
  // tap ends with `# { total: 12, pass: 11, fail: 1, skip: 0 }`
  const summaries = [...output.matchAll(/^# \{ (total: \d+.*) \}$/gm)]
  const summary = summaries.length === 0 ? '' : summaries[summaries.length - 1][1]
  const count = (key) => Number((new RegExp(`${key}: (\\d+)`).exec(summary) ?? [])[1] ?? 0)
  return { pass: count('pass'), fail: count('fail'), skip: count('skip') + count('todo') }
}

const runs = [['tests', ['tap', '--reporter=tap', ...extraArgs], process.env]]
if (extraArgs.length === 0) {
  // The region node's SCIM suites once more, its databases reached through a private PgBouncer in
  // transaction pooling mode (see test/helpers/test-database.ts), without named prepared statements (PgBouncer 1.18 cannot keep them).
  // row-security-role.test.ts logs in as roles of its own making, which the private PgBouncer does not know.
  const storage = readdirSync('test/region-node/storage').filter((file) => file.endsWith('.test.ts') && file !== 'row-security-role.test.ts').map((file) => `test/region-node/storage/${file}`)
  runs.push(['region node through PgBouncer', ['tap', '--reporter=tap', 'test/region-node/http', ...storage], { ...process.env, SCIMGATE_TEST_DATABASE_VIA: 'pgbouncer', DATABASE_PREPARED_STATEMENTS: 'off' }])
}
let passed = 0
let failed = failedSteps
let skipped = 0
let exitCode = 0
for (const [name, args, env] of runs) {
  console.log(`\n== ${name}`)
  const { code, output } = await run('npx', args, { capture: true, env })
  const summary = summaryOf(output)
  passed += summary.pass
  failed += summary.fail + (code !== 0 && summary.fail === 0 ? 1 : 0)
  skipped += summary.skip
  if (code !== 0) exitCode = 1
}
console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || exitCode !== 0 ? 1 : 0)
