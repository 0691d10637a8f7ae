import { randomUUID } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import { tenantConcurrencyOf } from '../../../config/node-config.ts'
import { ScimError } from '../../../lib/scim-error.ts'
import { createPool, createTenantDatabase, type TenantDatabase } from '../../../region-node/storage/database.ts'
import { MAX_PREPARED_PER_CONNECTION, runPipeline, statementName } from '../../../region-node/storage/pipeline.ts'
import { createUsersStore } from '../../../region-node/storage/users-store.ts'
import { createTestDatabase, TEST_DATABASE_SETTINGS } from '../../helpers/test-database.ts'

const db = await createTestDatabase('pipeline')
t.teardown(db.drop)
// Named statements need a connection of their own to the server: not through PgBouncer 1.18.
const preparedWorks = TEST_DATABASE_SETTINGS.preparedStatements
const config = { url: db.url, poolSize: 4, rowSecurityRole: 'scimgate_app', statementTimeoutMs: 10_000, connectionTimeoutMs: 2_000 }

/** Counts the ReadyForQuery messages (one per round trip) and ParseCompletes on every connection of a pool. */
function countMessages(pool: pg.Pool): { roundTrips: number; parses: number } {
  const counts = { roundTrips: 0, parses: 0 }
  pool.on('connect', (client) => {
    const connection = (client as unknown as { connection: { on(event: string, listener: () => void): void } }).connection
    connection.on('readyForQuery', () => (counts.roundTrips += 1))
    connection.on('parseComplete', () => (counts.parses += 1))
  })
  return counts
}

function database(t: { teardown(fn: () => unknown): void }, preparedStatements: boolean, poolSize = config.poolSize): { database: TenantDatabase; counts: ReturnType<typeof countMessages> } {
  const pool = createPool({ ...config, poolSize }, () => undefined)
  const counts = countMessages(pool)
  const created = createTenantDatabase(pool, tenantConcurrencyOf({ ...config, poolSize }), { rowSecurityRole: config.rowSecurityRole, preparedStatements })
  t.teardown(() => created.close())
  return { database: created, counts }
}

async function withClient<T>(t: { teardown(fn: () => unknown): void }, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  t.teardown(() => client.end())
  return use(client)
}

t.test('a pipeline answers each statement, in one round trip', async (t) => {
  await withClient(t, async (client) => {
    let roundTrips = 0
    ;(client as unknown as { connection: pg.Connection }).connection.on('readyForQuery', () => (roundTrips += 1))
    const results = await runPipeline(
      client,
      [{ text: 'SELECT $1::int + 1 AS n', values: [1] }, { text: "SELECT 'b' AS s" }, { text: 'SELECT generate_series(1, $1::int) AS i', values: [3] }],
      false,
    )
    t.same(results.map((r) => r.rows), [[{ n: 2 }], [{ s: 'b' }], [{ i: 1 }, { i: 2 }, { i: 3 }]])
    t.equal(results[2]?.rowCount, 3)
    t.equal(roundTrips, 1, 'three statements, one Sync, one ReadyForQuery')
  })
})

t.test('a statement whose rows are not wanted is sent without Describe: its rows are dropped, the others still answered', async (t) => {
  await withClient(t, async (client) => {
    let descriptions = 0
    ;(client as unknown as { connection: pg.Connection }).connection.on('rowDescription', () => (descriptions += 1))
    for (const prepared of [false, true]) {
      if (prepared && !preparedWorks) continue
      descriptions = 0
      const results = await runPipeline(client, [{ text: "SELECT set_config('application_name', $1, false) AS a", values: ['x'], rows: false }, { text: 'SELECT 2 AS n' }], prepared)
      t.same(results.map((r) => r.rows), [[], [{ n: 2 }]], `prepared ${prepared}`)
      t.equal(descriptions, 1, 'one RowDescription: the wanted statement only')
    }
  })
})

t.test('an error in the middle: the statements after it do not run, the transaction rolls back whole', async (t) => {
  await withClient(t, async (client) => {
    await client.query('CREATE TEMP TABLE seen (n int PRIMARY KEY)')
    const failed = await runPipeline(
      client,
      [{ text: 'BEGIN' }, { text: 'INSERT INTO seen VALUES (1)' }, { text: 'INSERT INTO seen VALUES (1)' }, { text: 'INSERT INTO seen VALUES (2)' }, { text: 'COMMIT' }],
      preparedWorks,
    ).then(
      () => undefined,
      (error: unknown) => error,
    )
    t.match(failed, { code: '23505' }, 'the duplicate key is the error')
    await t.rejects(runPipeline(client, [{ text: 'SELECT 1' }], preparedWorks), { code: '25P02' }, 'the transaction is left aborted for the caller to roll back')
    await runPipeline(client, [{ text: 'ROLLBACK' }], preparedWorks)
    const { rows } = await client.query('SELECT count(*)::int AS n FROM seen')
    t.same(rows, [{ n: 0 }], 'nothing of the pipeline was kept')
    // The connection stays usable, and the statement that never ran (never parsed) can be used now.
    const [again] = await runPipeline(client, [{ text: 'INSERT INTO seen VALUES (2) RETURNING n' }], preparedWorks)
    t.same(again?.rows, [{ n: 2 }])
  })
})

t.test('a value that cannot be sent fails the pipeline before anything is written', async (t) => {
  await withClient(t, async (client) => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await t.rejects(runPipeline(client, [{ text: 'SELECT 1' }, { text: 'SELECT $1::jsonb', values: [cyclic] }], preparedWorks))
    const [after] = await runPipeline(client, [{ text: 'SELECT 1 AS one' }], preparedWorks)
    t.same(after?.rows, [{ one: 1 }], 'the connection is still in step')
  })
})

t.test('named statements: parsed once per connection, reused across requests, capped', { skip: preparedWorks ? false : 'PgBouncer 1.18 cannot keep named statements' }, async (t) => {
  await withClient(t, async (client) => {
    let parses = 0
    ;(client as unknown as { connection: pg.Connection }).connection.on('parseComplete', () => (parses += 1))
    const statement = { text: 'SELECT $1::text AS v', values: ['a'] }
    await runPipeline(client, [statement], true)
    const [second] = await runPipeline(client, [{ ...statement, values: ['b'] }], true)
    t.same(second?.rows, [{ v: 'b' }])
    t.equal(parses, 1, 'the second request binds the statement parsed by the first')
    const [named] = await runPipeline(client, [{ text: 'SELECT name FROM pg_prepared_statements WHERE name = $1', values: [statementName(statement.text)] }], true)
    t.equal(named?.rows.length, 1, 'the server holds it under the name derived from its text')

    // A Parse that fails is not remembered: the next use parses again instead of binding a missing statement.
    await t.rejects(runPipeline(client, [{ text: 'SELECT no_such_column FROM pg_class LIMIT 1' }], true))
    await t.rejects(runPipeline(client, [{ text: 'SELECT no_such_column FROM pg_class LIMIT 1' }], true), { code: '42703' })

    for (let i = 0; i < MAX_PREPARED_PER_CONNECTION + 10; i++) await runPipeline(client, [{ text: `SELECT ${i} AS n` }], true)
    const [held] = await runPipeline(client, [{ text: 'SELECT count(*)::int AS n FROM pg_prepared_statements' }], true)
    t.ok((held?.rows[0] as { n: number }).n <= MAX_PREPARED_PER_CONNECTION + 1, 'the least recently used are closed past the cap')
    const [reused] = await runPipeline(client, [{ text: 'SELECT 3 AS n' }], true)
    t.same(reused?.rows, [{ n: 3 }], 'a closed statement is parsed again when it comes back')
  })
})

t.test('a request of one statement is one round trip: BEGIN, settings, the statement and COMMIT', async (t) => {
  for (const prepared of preparedWorks ? [true, false] : [false]) {
    const { database: tenantDb, counts } = database(t, prepared, 1)
    const id = randomUUID()
    await tenantDb.write('a', (q) => createUsersStore(q).insert('a', id, { userName: `kim-${prepared}` }), { oneRoundTrip: true })
    const before = counts.roundTrips
    await tenantDb.write('a', (q) => createUsersStore(q).insert('a', randomUUID(), { userName: `lee-${prepared}` }), { oneRoundTrip: true })
    t.equal(counts.roundTrips - before, 1, `a create is one round trip (prepared ${prepared})`)
    const found = await tenantDb.read('a', (q) => createUsersStore(q).findWithGroups('a', id, 10), { oneRoundTrip: true })
    t.equal(found?.user.attributes.userName, `kim-${prepared}`)
    t.equal(counts.roundTrips - before, 2, 'a read by id is one round trip')
    const parsesBefore = counts.parses
    await tenantDb.read('a', (q) => createUsersStore(q).findWithGroups('a', id, 10), { oneRoundTrip: true })
    // BEGIN, set_config, the SELECT and COMMIT: parsed again each time only when not prepared.
    t.equal(counts.parses - parsesBefore, prepared ? 0 : 4, 'statements parsed')
    t.equal(await tenantDb.read('b', (q) => createUsersStore(q).find('b', id), { oneRoundTrip: true }), undefined, 'the tenant setting rode along')
  }
})

t.test('lazy begin: BEGIN and settings ride on the first statement; statements of one tick go together', async (t) => {
  const { database: tenantDb, counts } = database(t, preparedWorks, 1)
  await tenantDb.read('a', async () => undefined)
  const before = counts.roundTrips
  const [one, two] = await tenantDb.read('a', (q) => Promise.all([q.query('SELECT 1 AS n'), q.query("SELECT current_setting('scimgate.tenant_id') AS tenant")]))
  t.same([one.rows, two.rows], [[{ n: 1 }], [{ tenant: 'a' }]])
  // The read's COMMIT goes out after the result: wait for the connection to come back.
  await tenantDb.read('a', async () => undefined)
  t.equal(counts.roundTrips - before, 2, 'BEGIN + settings + two statements, then COMMIT')
  const rejected = await tenantDb.write('a', async (q) => {
    await q.query('SELECT 1')
    return q.query('SELECT 2')
  }, { oneRoundTrip: true }).catch((error: unknown) => error)
  t.match(rejected, /one round trip/, 'a second batch in a one-round-trip transaction is refused')
})

t.test('an error in a one-round-trip write rolls the whole transaction back', async (t) => {
  const { database: tenantDb } = database(t, preparedWorks)
  const id = randomUUID()
  const failed = await tenantDb
    .write('a', (q) => {
      const users = createUsersStore(q)
      return Promise.all([users.insert('a', id, { userName: 'first' }), users.insert('a', randomUUID(), { userName: 'first' })])
    }, { oneRoundTrip: true })
    .catch((error: unknown) => error)
  t.match(failed, { status: 409 }, 'the duplicate userName is a 409')
  t.equal(await tenantDb.read('a', (q) => createUsersStore(q).find('a', id)), undefined, 'the first insert is gone too')
  const again = await tenantDb.write('a', (q) => createUsersStore(q).insert('a', id, { userName: 'first' }), { oneRoundTrip: true })
  t.equal(again.id, id, 'the connection works after the rollback')
})

t.test('a connection killed mid-pipeline is a 503 with Retry-After', async (t) => {
  const { database: tenantDb } = database(t, preparedWorks)
  const marker = `killme_${randomUUID().replaceAll('-', '')}`
  const killer = setInterval(() => {
    // The admin connection goes to PostgreSQL directly; it ends the backend running the marked statement.
    void withAdmin((admin) => admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`, [`%${marker}%`]))
  }, 100)
  t.teardown(() => clearInterval(killer))
  const error = await tenantDb.read('a', (q) => q.query(`SELECT pg_sleep(5) AS ${marker}`), { oneRoundTrip: true }).catch((e: unknown) => e)
  clearInterval(killer)
  t.ok(error instanceof ScimError, 'a SCIM error')
  t.equal((error as ScimError).status, 503)
  t.ok((error as ScimError).headers['retry-after'], 'with Retry-After')
  const { rows } = await tenantDb.read('a', (q) => q.query('SELECT 1 AS n'), { oneRoundTrip: true })
  t.same(rows, [{ n: 1 }], 'the next request gets a working connection')
})

async function withAdmin<T>(use: (client: pg.Client) => Promise<T>): Promise<T | undefined> {
  const client = new pg.Client({ connectionString: db.directUrl })
  try {
    await client.connect()
    return await use(client)
  } catch {
    return undefined
  } finally {
    await client.end().catch(() => undefined)
  }
}
