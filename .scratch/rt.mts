// Round trips, statements parsed, and CPU per request (node process and PostgreSQL backends), for one tree.
import { readFileSync } from 'node:fs'
import pg from 'pg'
const root = process.env.TREE!
const { startTestNode } = await import(`${root}/test/helpers/region-node.ts`)
const teardowns: (() => unknown)[] = []
const node = await startTestNode({ teardown: (f: () => unknown) => teardowns.push(f) }, { database: { poolSize: 8 } })
const counts = { rfq: 0, parse: 0 }
const pool = node.app.database.pool as pg.Pool
pool.on('connect', (client) => {
  const c = (client as unknown as { connection: pg.Connection }).connection
  c.on('readyForQuery', () => counts.rfq++)
  c.on('parseComplete', () => counts.parse++)
})
const dbName = new URL(node.config.database.url).pathname.slice(1)
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' })
await admin.connect()
const ticks = (pid: number): number => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return Number(f[11]) + Number(f[12]) }
async function backendTicks(): Promise<number> {
  const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName])
  let sum = 0
  for (const r of rows) try { sum += ticks(r.pid) } catch {}
  return sum
}
const headers = await node.identity('t1')
const inject = (method: string, url: string, body?: unknown) => node.app.inject({ method, url: `/scim/v2${url}`, headers: { ...headers, 'content-type': 'application/scim+json' }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) })
const user = (i: number) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `user${i}@example.com`, name: { givenName: 'Kim', familyName: `Lee${i}` }, emails: [{ value: `user${i}@example.com`, type: 'work', primary: true }], displayName: `Kim Lee ${i}`, active: true, externalId: `ext-${i}` })
let next = 0
const ids: string[] = []
for (let i = 0; i < 200; i++) { const r = await inject('POST', '/Users', user(next++)); ids.push(r.json().id) }
const ops: Record<string, (i: number) => Promise<unknown>> = {
  'GET /Users/{id}': (i) => inject('GET', `/Users/${ids[i % ids.length]}`),
  'GET /Users?filter=userName eq': (i) => inject('GET', `/Users?filter=${encodeURIComponent(`userName eq "user${i % 200}@example.com"`)}`),
  'POST /Users': () => inject('POST', '/Users', user(next++)),
}
const N = Number(process.env.N ?? 2000), C = 8
for (const [name, op] of Object.entries(ops).filter(([n]) => process.env.ONLY === undefined || n.startsWith(process.env.ONLY))) {
  for (let i = 0; i < 200; i++) await op(i) // warm
  await new Promise((r) => setTimeout(r, 50))
  const before = { ...counts }, cpu = process.cpuUsage(), pgTicks = await backendTicks(), start = process.hrtime.bigint()
  let k = 0
  await Promise.all(Array.from({ length: C }, async () => { while (k < N) await op(k++) }))
  const wall = Number(process.hrtime.bigint() - start) / 1e6
  await new Promise((r) => setTimeout(r, 50))
  const used = process.cpuUsage(cpu), pgUsed = ((await backendTicks()) - pgTicks) * 10 // ms (100 Hz ticks)
  console.log(`${name.padEnd(32)} round trips/req ${((counts.rfq - before.rfq) / N).toFixed(2)}  parses/req ${((counts.parse - before.parse) / N).toFixed(2)}  node CPU µs/req ${(((used.user + used.system) / N)).toFixed(0)}  PG CPU µs/req ${(pgUsed * 1000 / N).toFixed(0)}  wall ms ${wall.toFixed(0)}`)
}
await admin.end()
for (const f of teardowns.reverse()) await f()
