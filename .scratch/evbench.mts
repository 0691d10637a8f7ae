import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import pg from 'pg'
import { createTestDatabase } from '/work/wt/nodedb/test/helpers/test-database.ts'
import { createPool, createTenantDatabase } from '/work/wt/nodedb/region-node/storage/database.ts'
import { tenantConcurrencyOf } from '/work/wt/nodedb/config/node-config.ts'
import { createUsersStore } from '/work/wt/nodedb/region-node/storage/users-store.ts'
import { eventAttachment, type EventAttachment } from '/work/wt/nodedb/region-node/storage/events-store.ts'
const db = await createTestDatabase('evbench')
const config = { url: db.url, poolSize: 10, rowSecurityRole: 'scimgate_app', statementTimeoutMs: 10_000, connectionTimeoutMs: 5_000 }
const tdb = createTenantDatabase(createPool(config, () => undefined), { ...tenantConcurrencyOf(config), connectionsPerTenant: 10 }, { rowSecurityRole: 'scimgate_app' })
const origin = { actor: { type: 'token' as const, id: 't1' }, clientKind: 'okta' as const, requestId: 'r' }
const variants: Record<string, (id: string) => EventAttachment | undefined> = {
  off: () => undefined,
  on: (id) => eventAttachment('a', origin, [{ type: 'user.created', resourceType: 'User', resourceId: id }]),
  // noNotify: (id) => { const a = eventAttachment('a', origin, [{ type: 'user.created', resourceType: 'User', resourceId: id }]); return { attach: (t, v) => { const r = a.attach(t, v); return { text: r.text.replace(/event_wake AS MATERIALIZED \(SELECT pg_notify\([^)]*\)\)\)/, 'event_wake AS MATERIALIZED (SELECT 1)'), values: r.values } } } },
  // noLock: (id) => { const a = eventAttachment('a', origin, [{ type: 'user.created', resourceType: 'User', resourceId: id }]); return { attach: (t, v) => { const r = a.attach(t, v); return { text: r.text.replace(/SELECT pg_advisory_xact_lock_shared\([^)]*\)\)\)/, 'SELECT 1)'), values: r.values } } } },
}
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' })
await admin.connect()
const dbName = new URL(db.directUrl).pathname.slice(1)
const ticks = (pid: number): number => { try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return Number(f[11]) + Number(f[12]) } catch { return 0 } }
async function pgTicks(): Promise<number> { const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName]); return rows.reduce((a: number, r: { pid: number }) => a + ticks(r.pid), 0) }
const cpu: Record<string, number[]> = {}
async function round(name: string, n: number, c: number): Promise<number> {
  const t0 = await pgTicks()
  const start = process.hrtime.bigint()
  let i = 0
  await Promise.all(Array.from({ length: c }, async () => { while (i++ < n) { const id = randomUUID(); await tdb.write('a', (q) => name === 'onGeneric' ? Promise.all([q.query("SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"), createUsersStore(q).insert('a', id, { userName: `u-${id}`, active: true }, variants[name]!(id))]) : createUsersStore(q).insert('a', id, { userName: `u-${id}`, active: true }, variants[name]!(id)), { oneRoundTrip: true }) } }))
  const wall = Number(process.hrtime.bigint() - start) / 1e6
  ;(cpu[name] ??= []).push(((await pgTicks()) - t0) * 10_000 / n)
  return wall
}
const results: Record<string, number[]> = {}
for (const name of Object.keys(variants)) await round(name, 300, 32)
for (let r = 0; r < 5; r++) for (const name of Object.keys(variants)) (results[name] ??= []).push(await round(name, 1000, 32))
for (const [name, times] of Object.entries(results)) { times.sort((a, b) => a - b); const c = cpu[name]!.slice(1).sort((a, b) => a - b); console.log(name.padEnd(9), 'median ms per 1000:', times[2]!.toFixed(0), '  PG CPU µs/create median:', c[2]!.toFixed(0), c.map((t) => t.toFixed(0)).join(' ')) }
await admin.end()
await tdb.close(); await db.drop()
