// The floor's one-round-trip transaction (bench/floor/one-round-trip.ts) must
// be as correct as the node's BEGIN … COMMIT: settings last for the batch only,
// a failure rolls the whole batch back, named statements are parsed once.
import pg from 'pg'
import t from 'tap'
import { runOneRoundTrip } from '../../bench/floor/one-round-trip.ts'
import { POSTGRES_URL } from '../helpers/test-database.ts'

const setTenant = (tenant: string) => ({ name: 'ort_settings', text: "SELECT set_config('scimgate.tenant_id', $1, true)", values: [tenant], rows: false })
const readTenant = { name: 'ort_read', text: "SELECT current_setting('scimgate.tenant_id', true) AS tenant", values: [] }

t.test('one batch is one transaction', async (t) => {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 })
  t.teardown(() => pool.end())
  const client = await pool.connect()
  t.teardown(() => client.release(true))
  await client.query('CREATE TEMP TABLE ort (x int, at jsonb)')

  const [, tenant, inserted] = await runOneRoundTrip(client, [
    setTenant('tenant-a'),
    readTenant,
    { name: 'ort_insert', text: 'INSERT INTO ort VALUES ($1, $2) RETURNING x, at', values: [1, { k: 'v' }] },
  ])
  t.same(tenant, [{ tenant: 'tenant-a' }], 'the setting holds for the statements behind it')
  t.same(inserted, [{ x: 1, at: { k: 'v' } }], 'rows are parsed with pg’s type parsers')
  t.not((await client.query(readTenant.text)).rows[0].tenant, 'tenant-a', 'and ends with the batch')
  t.equal((client as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements.ort_insert, 'INSERT INTO ort VALUES ($1, $2) RETURNING x, at', 'named statements are remembered')

  const [, again] = await runOneRoundTrip(client, [setTenant('tenant-b'), readTenant])
  t.same(again, [{ tenant: 'tenant-b' }], 'a parsed statement runs again without a Parse')

  await t.rejects(
    runOneRoundTrip(client, [
      { name: 'ort_insert', text: 'INSERT INTO ort VALUES ($1, $2) RETURNING x, at', values: [2, null] },
      { name: 'ort_fail', text: 'SELECT 1 / $1::int AS boom', values: [0] },
    ]),
    /division by zero/,
  )
  t.equal((await client.query('SELECT count(*)::int AS n FROM ort WHERE x = 2')).rows[0].n, 0, 'a failure rolls back the statements before it')
  t.equal((await client.query('SELECT count(*)::int AS n FROM ort')).rows[0].n, 1)
})
