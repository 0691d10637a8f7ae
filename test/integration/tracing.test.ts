// Tracing across both tiers, in-process: the SDK starts (with an in-memory
// exporter) BEFORE the system is imported, so the instrumentations patch pg,
// ioredis, undici and fastify as they load; hence the dynamic import below.
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { SpanKind } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { pino, type LoggerOptions } from 'pino'
import t, { type Test } from 'tap'
import { loggerOptions } from '../../lib/logger-options.ts'
import { isTracingEnabled } from '../../config/tracing-settings.ts'
import { startTracing } from '../../lib/tracing.ts'
import { stripsTypesNatively, typeScriptNodeArgs } from '../../lib/typescript-runtime.js'
import { POSTGRES_URL } from '../helpers/test-database.ts'

const exporter = new InMemorySpanExporter()
const tracing = await startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
t.teardown(() => tracing.shutdown())
const { startSystem } = await import('../helpers/system.ts')

const EU1 = 'eu1.localhost'
const FILTER_LITERAL = 'kim.secret@example.com'
const FILTERED_USERS = `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${FILTER_LITERAL}"`)}`

const HTTP_SCOPE = '@opentelemetry/instrumentation-http'
const UNDICI_SCOPE = '@opentelemetry/instrumentation-undici'
const PG_SCOPE = '@opentelemetry/instrumentation-pg'
const REDIS_SCOPE = '@opentelemetry/instrumentation-ioredis'

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId
const idOf = (span: ReadableSpan): string => span.spanContext().spanId

/** Spans end when responses finish, which may be just after the client has its answer. */
/**
 * The finished spans of the trace whose root `isRoot` finds, once there are at least `expectAtLeast` and no more
 * arrive for 150 ms: some spans end after the response (a read's COMMIT is taken off the response path).
 */
async function spansOfTrace(isRoot: (span: ReadableSpan) => boolean, expectAtLeast: number): Promise<ReadableSpan[]> {
  let stableFor = 0
  let previous = -1
  for (let attempt = 0; attempt < 60; attempt++) {
    const root = exporter.getFinishedSpans().find(isRoot)
    if (root !== undefined) {
      const trace = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === root.spanContext().traceId)
      stableFor = trace.length === previous ? stableFor + 1 : 0
      previous = trace.length
      if (trace.length >= expectAtLeast && stableFor >= 3) return trace
    }
    await sleep(50)
  }
  throw new Error('the expected trace was not exported')
}

function isAncestor(ancestor: ReadableSpan, span: ReadableSpan, spans: readonly ReadableSpan[]): boolean {
  const byId = new Map(spans.map((s) => [idOf(s), s]))
  for (let current = parentOf(span); current !== undefined; current = byId.get(current) === undefined ? undefined : parentOf(byId.get(current)!)) {
    if (current === idOf(ancestor)) return true
  }
  return false
}

const isGatewayServerSpan = (span: ReadableSpan): boolean =>
  span.instrumentationScope.name === HTTP_SCOPE && span.kind === SpanKind.SERVER && span.attributes['http.route'] === '/scim/v2/*'

/** Every attribute value of every span, as text. */
const attributeText = (spans: readonly ReadableSpan[]): string => spans.map((s) => JSON.stringify(s.attributes)).join('\n')

function jsonLines(stream: PassThrough): () => Record<string, unknown>[] {
  let text = ''
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
  return () =>
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
}

t.test('one SCIM request is one trace: gateway → Redis → proxy → node → pg, with request attributes and no secrets', async (t) => {
  const gatewayLog = new PassThrough()
  const nodeLog = new PassThrough()
  const gatewayLines = jsonLines(gatewayLog)
  const nodeLines = jsonLines(nodeLog)
  const system = await startSystem(t, { regions: ['EU1'], logStream: gatewayLog, nodeLogStream: nodeLog })
  const { token } = await system.createToken('acme', 'EU1')
  const tokenSecret = token.slice('scg_eu1_'.length)
  exporter.reset()

  const response = await system.request(EU1, 'GET', FILTERED_USERS, { token })
  t.equal(response.status, 200)
  const spans = await spansOfTrace(isGatewayServerSpan, 10)
  const gatewayServer = spans.find(isGatewayServerSpan)!
  const proxyClient = spans.find((s) => s.instrumentationScope.name === UNDICI_SCOPE)
  const nodeServer = spans.find((s) => s.instrumentationScope.name === HTTP_SCOPE && s.kind === SpanKind.SERVER && s !== gatewayServer)
  const pgSpans = spans.filter((s) => s.instrumentationScope.name === PG_SCOPE)
  if (proxyClient === undefined || nodeServer === undefined) throw new Error(`missing spans: ${spans.map((s) => s.name).join(', ')}`)

  t.test('one trace id, correct parents', async (t) => {
    t.ok(isAncestor(gatewayServer, proxyClient, spans), 'the proxy client span is inside the gateway server span')
    // The client's traceparent was dropped: otherwise the node would see two and start a new trace.
    t.equal(parentOf(nodeServer), idOf(proxyClient), "the node server span's parent is the gateway's client span")
    t.ok(pgSpans.length >= 1, `pg spans: ${pgSpans.map((s) => s.name).join(', ')}`)
    for (const span of pgSpans) t.ok(isAncestor(nodeServer, span, spans), `${span.name} is inside the node server span`)
  })

  t.test('request attributes on both tiers and inherited by pg spans', async (t) => {
    const expected = { 'scimgate.region': 'EU1', 'scimgate.tenant_id': 'acme', 'scim.resource_type': 'Users', 'scim.operation': 'list' }
    for (const span of [gatewayServer, proxyClient, nodeServer, ...pgSpans]) t.match(span.attributes, expected, `${span.instrumentationScope.name} ${span.name}`)
  })

  t.test('a Redis token lookup for the uncached token', async (t) => {
    const auth = spans.find((s) => String(s.attributes['hook.name'] ?? '').includes('provisioning-auth'))
    if (auth === undefined) throw new Error('no provisioning-auth hook span')
    const lookups = spans.filter((s) => s.instrumentationScope.name === REDIS_SCOPE && isAncestor(auth, s, spans))
    t.ok(lookups.length >= 1, 'token lookup spans')
    for (const span of lookups) t.equal(span.attributes['db.query.text'], span.attributes['db.operation.name'], 'only the command name is recorded')
  })

  t.test('no token, no filter literal, parameterised SQL only', async (t) => {
    const text = attributeText(spans)
    t.notOk(text.includes(tokenSecret), 'no token in any attribute')
    t.notOk(text.toLowerCase().includes('kim.secret'), 'no filter literal in any attribute')
    t.notOk(text.toLowerCase().includes('authorization'), 'no authorization header recorded')
    const statements = pgSpans.map((s) => String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? ''))
    t.ok(statements.some((sql) => /user_name_lower = lower\(\$2\)/.test(sql)), 'the filter became a parameter')
    t.equal(gatewayServer.attributes['url.query'], 'filter=REDACTED')
    t.match(String(proxyClient.attributes['url.full']), /\/scim\/v2\/Users\?filter=REDACTED$/)
  })

  t.test('log lines carry trace and span ids, request id, region and tenant; never the token or the filter', async (t) => {
    await sleep(100)
    const traceId = gatewayServer.spanContext().traceId
    const gatewayDone = gatewayLines().find((line) => line.msg === 'request completed' && line.trace_id === traceId)
    t.match(gatewayDone, { region: 'EU1', tenantId: 'acme', reqId: String, span_id: /^[0-9a-f]{16}$/ }, 'gateway: request completed')
    const nodeDone = nodeLines().find((line) => line.msg === 'request completed' && line.trace_id === traceId)
    t.match(nodeDone, { region: 'EU1', tenantId: 'acme', reqId: gatewayDone?.reqId }, 'node: the same request id, region and tenant')
    const all = JSON.stringify([...gatewayLines(), ...nodeLines()])
    t.notOk(all.includes(tokenSecret), 'no token in the logs')
    t.notOk(all.toLowerCase().includes('kim.secret'), 'no filter literal in the logs')
    t.ok(gatewayLines().some((line) => String((line.req as { url?: string } | undefined)?.url).endsWith('?filter=REDACTED')), 'the logged URL keeps the parameter name only')
  })

  t.test('a cached token costs no Redis lookup', async (t) => {
    exporter.reset()
    t.equal((await system.request(EU1, 'GET', '/scim/v2/Users', { token })).status, 200)
    const again = await spansOfTrace(isGatewayServerSpan, 10)
    const auth = again.find((s) => String(s.attributes['hook.name'] ?? '').includes('provisioning-auth'))
    if (auth === undefined) throw new Error('no provisioning-auth hook span')
    t.same(
      again.filter((s) => s.instrumentationScope.name === REDIS_SCOPE && isAncestor(auth, s, again)).map((s) => s.name),
      [],
      'no Redis span under authentication',
    )
  })
})

t.test('a write: operation and resource type on every tier', async (t) => {
  const system = await startSystem(t, { regions: ['EU1'] })
  const { token } = await system.createToken('acme', 'EU1')
  exporter.reset()
  const created = await system.request(EU1, 'POST', '/scim/v2/Users', { token, body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'lee.private@example.com' } })
  t.equal(created.status, 201)
  const spans = await spansOfTrace(isGatewayServerSpan, 10)
  const servers = spans.filter((s) => s.kind === SpanKind.SERVER && s.instrumentationScope.name === HTTP_SCOPE)
  t.equal(servers.length, 2, 'gateway and node server spans in one trace')
  for (const span of servers) t.match(span.attributes, { 'scim.operation': 'create', 'scim.resource_type': 'Users', 'scimgate.tenant_id': 'acme' })
  t.notOk(attributeText(spans).includes('lee.private'), 'no user name from the body in any attribute')
})

t.test('the logger redacts credentials wherever they appear', async (t) => {
  const token = `scg_eu1_${'A1b2C3d4'.repeat(4)}abc123`
  const out = new PassThrough()
  const read = jsonLines(out)
  const logger = pino(loggerOptions('info', 'test') as LoggerOptions, out)
  logger.info({ req: { headers: { authorization: `Bearer ${token}`, 'x-scimgate-identity': 'eyJ.identity' } } }, 'request headers')
  logger.info({ headers: { authorization: `Bearer ${token}` } }, 'bare headers')
  logger.info({ err: { headers: { authorization: `Bearer ${token}` } } }, 'error with headers')
  logger.info({ token, gateway: { identity: 'eyJ.identity' } }, 'a token field')
  logger.info(`a token in the message: ${token}`)
  logger.info({ authorization: `Bearer ${token}` }, 'an authorization field')
  await sleep(10)
  const lines = read()
  t.equal(lines.length, 6)
  const text = JSON.stringify(lines)
  t.notOk(text.includes('A1b2C3d4'), 'no token anywhere')
  t.notOk(text.includes('eyJ.identity'), 'no internal identity anywhere')
  t.equal((lines[0]?.req as { headers: Record<string, string> }).headers.authorization, '[redacted]')
  t.notOk('trace_id' in (lines[0] ?? {}), 'no trace ids outside a span')
})

t.test('tracing is off unless configured', async (t) => {
  const cases: [Record<string, string>, boolean][] = [
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }, false],
  ]
  for (const [env, enabled] of cases) t.equal(isTracingEnabled(env), enabled, JSON.stringify(env))
})

/**
 * Runs the preload the way bin/scimgate.js does (Node's own type stripping where it can, else tsx;
 * lib/typescript-runtime.js decides), then `script` as a TypeScript module, as the product's modules are.
 */
async function runWithPreload(t: Test, env: Record<string, string>, script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(t.testdir({}), 'script.ts')
  await writeFile(file, `const loadedBy: string = ${JSON.stringify(stripsTypesNatively() ? 'node' : 'tsx')}\nvoid loadedBy\n${script}`)
  const source = `await import('./lib/tracing-preload.ts');\nawait import(${JSON.stringify(pathToFileURL(file).href)})`
  const child = spawn(process.execPath, [...typeScriptNodeArgs(), '--input-type=module', '-e', source], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? '', ...env },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

const SDK_LOADED = `import { createRequire } from 'node:module'
const loaded = Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('@opentelemetry/sdk-'))
console.log(JSON.stringify({ loaded }))`

t.test(`the preload: tracing off loads nothing of the SDK; on, it patches pg, ioredis, undici and fastify (ESM, ${stripsTypesNatively() ? "Node's type stripping" : 'tsx'})`, async (t) => {
  const off = await runWithPreload(t, {}, SDK_LOADED)
  t.equal(off.code, 0, off.stderr)
  t.same(JSON.parse(off.stdout), { loaded: false }, 'off: the SDK is not loaded')
  t.equal(off.stderr, '', 'no warning')
  const disabled = await runWithPreload(t, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SDK_DISABLED: 'true' }, SDK_LOADED)
  t.same(JSON.parse(disabled.stdout), { loaded: false }, 'OTEL_SDK_DISABLED=true: the SDK is not loaded')

  const on = await runWithPreload(
    t,
    { OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'preload-test' },
    `const { Redis } = await import('ioredis')
const { default: pg } = await import('pg')
const { request } = await import('undici')
const { default: Fastify } = await import('fastify')
const { trace } = await import('@opentelemetry/api')
const app = Fastify()
app.get('/preload', async () => 'ok')
const address = await app.listen({ port: 0, host: '127.0.0.1' })
await trace.getTracer('test').startActiveSpan('root', async (span) => {
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true })
  await redis.connect()
  await redis.get('scimgate-test:preload')
  redis.disconnect()
  const client = new pg.Client(${JSON.stringify(POSTGRES_URL)})
  await client.connect()
  await client.query('SELECT 1 AS preload')
  await client.end()
  await (await request(address + '/preload')).body.text()
  span.end()
})
await app.close()
${SDK_LOADED}
await (await import(${JSON.stringify(new URL('../../lib/tracing.ts', import.meta.url).href)})).shutdownTracing()`,
  )
  t.equal(on.code, 0, on.stderr)
  t.match(on.stdout, /"loaded":true/, 'on: the SDK is loaded')
  t.match(on.stdout, /name: 'get'/, 'an ioredis span was exported (the module was patched)')
  t.match(on.stdout, /'db.query.text': 'get'/, 'with the command name only')
  t.match(on.stdout, /@opentelemetry\/instrumentation-pg[\s\S]*SELECT 1 AS preload/, 'a pg span (the module was patched)')
  t.match(on.stdout, /@opentelemetry\/instrumentation-undici/, 'an undici span')
  t.match(on.stdout, /@fastify\/otel/, 'a fastify span')
})
