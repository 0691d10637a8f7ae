// `npm test`: typecheck, lint, then every tap test; the last line is the
// summary CI reads: `N passed, M failed`.
import { spawn } from 'node:child_process'

function run(command, args, { capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'], env: process.env })
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

console.log('\n== tests')
const { code, output } = await run('npx', ['tap', '--reporter=tap', ...extraArgs], { capture: true })
// tap ends with `# { total: 12, pass: 11, fail: 1, skip: 0 }`
const summaries = [...output.matchAll(/^# \{ (total: \d+.*) \}$/gm)]
const summary = summaries.length === 0 ? '' : summaries[summaries.length - 1][1]
const count = (key) => Number((new RegExp(`${key}: (\\d+)`).exec(summary) ?? [])[1] ?? 0)
let passed = count('pass')
let failed = count('fail') + failedSteps
const skipped = count('skip') + count('todo')
if (code !== 0 && failed === 0) failed = 1
if (summary === '' && code === 0) passed = 0
console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || code !== 0 ? 1 : 0)
