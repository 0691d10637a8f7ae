import { randomUUID } from 'node:crypto'
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { loadRegionCatalog, parseRegionCatalog } from '../../config/region-catalog.ts'
import { startDev } from '../../cli/dev.ts'
import { tokenCommand } from '../../cli/token-command.ts'
import { httpRequest } from '../helpers/http-request.ts'
import { startOtlpReceiver } from '../helpers/otlp-receiver.ts'

const CLI = fileURLToPath(new URL('../../bin/scimgate.js', import.meta.url))

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

t.test('embedded mode: the whole system starts with no PostgreSQL and no Redis configured, and keeps its data', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'scimgate-embedded-'))
  // PostgreSQL runs as its own system user when we are root: it must be able to enter the folder.
  await chmod(dataDir, 0o755)
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const defaults = loadRegionCatalog()
  const regions = await Promise.all(
    ['EU1', 'US1'].map(async (code) => {
      const region = defaults.byCode(code)!
      const port = await freePort()
      return { ...region, hostnames: [...region.hostnames], upstreams: [`http://127.0.0.1:${port}`], nodePort: port }
    }),
  )
  const catalog = parseRegionCatalog({ regions }, 'test')
  const collector = await startOtlpReceiver()
  t.teardown(() => collector.close())
  const env = { ...collector.env, SCIMGATE_EMBEDDED: '1', SCIMGATE_DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(await freePort()), PORT: '0', ADMIN_PORT: '0', LOG_LEVEL: 'silent' }
  // The first run is `npm start` itself: a real process, stopped by SIGTERM.
  const regionsFile = join(dataDir, 'test-regions.json')
  await writeFile(regionsFile, JSON.stringify({ regions }))
  const first = await startDevProcess({ ...env, SCIMGATE_REGIONS_FILE: regionsFile })
  t.teardown(() => first.child.kill('SIGKILL'))
  t.match(first.printed(), /embedded mode: PostgreSQL and token store/)
  t.match(first.printed(), /EU1 .*demo token: scg_eu1_/)

  const call = (url: string, host: string, token: string, method = 'GET', body?: unknown) =>
    httpRequest(`${url}/scim/v2/Users`, { method, headers: { host, authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

  const demo = first.demoTokens.get('EU1')!
  t.equal((await call(first.gatewayUrl, 'eu1.localhost', demo, 'POST', { userName: 'kept@example.com' })).status, 201)

  // `scimgate token create` in another process finds the built-in store through the data folder
  const out: string[] = []
  await tokenCommand({ env, catalog: () => catalog, stdout: (text) => out.push(text), stderr: () => undefined }).parseAsync(['node', 'token', 'create', '--tenant', 'demo', '--region', 'EU1'])
  const created = out.join('').trim()
  t.match(created, /^scg_eu1_/)
  t.equal((await call(first.gatewayUrl, 'eu1.localhost', created)).status, 200, 'a token made by the CLI works at once')
  const listed: string[] = []
  await tokenCommand({ env, catalog: () => catalog, stdout: (text) => listed.push(text), stderr: () => undefined }).parseAsync(['node', 'token', 'list', '--tenant', 'demo', '--region', 'EU1'])
  const tokenId = listed.join('').trim().split('\n').at(-1)!.split('\t')[0]!
  await tokenCommand({ env, catalog: () => catalog, stdout: () => undefined, stderr: () => undefined }).parseAsync(['node', 'token', 'revoke', tokenId])
  t.equal((await call(first.gatewayUrl, 'eu1.localhost', created)).status, 401, 'a revocation by the CLI shows at once')

  const [code, signal] = await first.stop('SIGTERM')
  t.same({ code, signal }, { code: 0, signal: null }, 'SIGTERM stops `npm start` cleanly')
  t.match(first.printed(), /^gateway +\| /m, "each child's output is prefixed with its name")
  t.notMatch(first.printed(), /restarting/, 'no child was restarted on the way down')
  const listeners = [first.gatewayUrl, ...regions.map((r) => r.upstreams[0]!), `http://127.0.0.1:${env.EMBEDDED_POSTGRES_PORT}`]
  const up = await Promise.all(listeners.map(answers))
  t.same(listeners.filter((_, i) => up[i]), [], 'the gateway, the nodes and PostgreSQL have all stopped')

  const secondPrinted: string[] = []
  const second = await startDev(env, catalog, (line) => secondPrinted.push(line))
  let secondClosed = false
  t.teardown(() => (secondClosed ? undefined : second.close()))
  const users = (await call(second.gatewayUrl, 'eu1.localhost', second.demoTokens.get('EU1')!)).json()
  t.same(users.Resources.map((u: { userName: string }) => u.userName), ['kept@example.com'], 'data persists between runs')
  t.equal((await call(second.gatewayUrl, 'eu1.localhost', demo)).status, 401, "the previous run's demo token was revoked")

  t.test('each tier is its own supervised process; a node killed with -9 is restarted, the other regions keep answering', async (t) => {
    const pids = [...second.processes.values()].map((child) => child.pid)
    t.same([...second.processes.keys()].sort(), ['EU1', 'US1', 'gateway', 'postgres'], 'the embedded PostgreSQL, two nodes and the gateway')
    t.equal(new Set(pids).size, 4, 'each in a process of its own')
    t.notOk(pids.includes(process.pid), 'none of them is this process')
    t.match(secondPrinted.join('\n'), /^EU1 +\| region EU1 node listening/m, "a child's output is prefixed with its name")
    const eu1 = second.processes.get('EU1')!
    const back = eu1.nextReady()
    process.kill(eu1.pid!, 'SIGKILL')
    await untilDown(eu1)
    const down = await call(second.gatewayUrl, 'eu1.localhost', second.demoTokens.get('EU1')!)
    t.equal(down.status, 503, 'its region answers 503 at once')
    t.equal(down.json().schemas?.[0], 'urn:ietf:params:scim:api:messages:2.0:Error', 'as a SCIM error')
    t.ok(down.headers['retry-after'], 'with Retry-After')
    t.equal((await call(second.gatewayUrl, 'us1.localhost', second.demoTokens.get('US1')!)).status, 200, 'the other region keeps answering')
    const started = Date.now()
    await back
    t.ok(Date.now() - started < 10_000, `restarted within seconds (${Date.now() - started} ms)`)
    t.equal((await call(second.gatewayUrl, 'eu1.localhost', second.demoTokens.get('EU1')!)).status, 200, 'its region answers again')
    t.match(secondPrinted.join('\n'), /^EU1 +\| exited \(SIGKILL\); restarting in \d+ ms$/m, 'the crash is reported')
  })

  t.test('with tracing on, one request is one trace across scimgate-gateway and scimgate-node, the region on the node', async (t) => {
    const path = `/scim/v2/Users/${randomUUID()}`
    const response = await httpRequest(`${second.gatewayUrl}${path}`, { headers: { host: 'us1.localhost', authorization: `Bearer ${second.demoTokens.get('US1')!}` } })
    t.equal(response.status, 404, 'answered by the node')
    const nodeSpanOfRequest = () => collector.spans.find((s) => s.service === 'scimgate-node' && s.kind === 2 && Object.values(s.attributes).some((v) => v.includes(path)))
    for (let attempt = 0; attempt < 100 && nodeSpanOfRequest() === undefined; attempt++) await new Promise((resolve) => setTimeout(resolve, 100))
    const traceId = nodeSpanOfRequest()?.traceId
    const trace = collector.spans.filter((s) => s.traceId === traceId)
    const services = new Set(trace.map((s) => s.service))
    t.same([...services].sort(), ['scimgate-gateway', 'scimgate-node'], 'both services in one trace')
    const nodeServer = trace.find((s) => s.service === 'scimgate-node' && s.kind === 2)
    t.equal(nodeServer?.resource['scimgate.region'], 'US1', "the node's spans carry its region as a resource attribute")
    const parent = trace.find((s) => s.spanId === nodeServer?.parentSpanId)
    t.equal(parent?.service, 'scimgate-gateway', "the node's server span is a child of the gateway's call")
    t.notOk(trace.some((s) => s.service === 'scimgate' || s.service === 'unknown_service:node'), 'the supervisor traces nothing')
  })

  t.test('closing stops every process', async (t) => {
    const pids = [...second.processes.values()].map((child) => child.pid!)
    await second.close()
    secondClosed = true
    t.same(pids.filter(isRunning), [], 'no child is left running')
  })
})

/** `node bin/scimgate.js dev` with `env`, once its banner is printed. */
async function startDevProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, 'dev'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])))
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  while (!output.includes('\ntry:')) {
    if (child.exitCode !== null) throw new Error(`scimgate dev exited: ${output}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const gatewayUrl = /^gateway (http:\S+)/m.exec(output)?.[1] ?? ''
  const demoTokens = new Map([...output.matchAll(/^ +([A-Z0-9]+) .*demo token: (scg_\S+)/gm)].map((m) => [m[1]!, m[2]!]))
  return {
    child,
    gatewayUrl,
    demoTokens,
    printed: () => output,
    stop(signal: NodeJS.Signals) {
      child.kill(signal)
      return exited
    },
  }
}

/** True when something accepts connections at the URL's host and port. */
function answers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Resolves once the supervised process has no running child (it died and is waiting to be restarted). */
async function untilDown(child: { readonly pid: number | undefined }): Promise<void> {
  while (child.pid !== undefined) await new Promise((resolve) => setTimeout(resolve, 10))
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
