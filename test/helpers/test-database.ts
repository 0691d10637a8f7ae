import { randomBytes } from 'node:crypto'
import type { CursorKeys } from '../../config/cursor-keys.ts'
import { dropDatabase, ensureDatabase } from '../../region-node/ensure-database.ts'
import { migrateDatabase } from '../../region-node/migrations/migrate.ts'
import { startPgBouncer, type PgBouncer } from './private-pgbouncer.ts'

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/**
 * SCIMGATE_TEST_DATABASE_VIA=pgbouncer: the nodes of this test process reach their databases through
 * a private PgBouncer in transaction pooling mode (`npm test` runs the region node's suites once more
 * that way); creating, migrating and dropping go to the server directly.
 */
const VIA_PGBOUNCER = process.env.SCIMGATE_TEST_DATABASE_VIA === 'pgbouncer'
let bouncer: Promise<PgBouncer> | undefined

/**
 * The database settings the test nodes and stores use: no named prepared statements behind the private
 * PgBouncer (1.18 cannot keep them), or with DATABASE_PREPARED_STATEMENTS=off as `npm test` sets it there.
 */
export const TEST_DATABASE_SETTINGS = { preparedStatements: !VIA_PGBOUNCER && process.env.DATABASE_PREPARED_STATEMENTS !== 'off' } as const

async function nodeUrlOf(directUrl: string): Promise<string> {
  if (!VIA_PGBOUNCER) return directUrl
  const server = new URL(POSTGRES_URL)
  bouncer ??= startPgBouncer({ host: server.hostname, port: Number(server.port || 5432) })
  return (await bouncer).via(directUrl)
}

/** A fresh, migrated database of its own for one test file and region; dropped by the returned function. */
export async function createTestDatabase(label: string): Promise<{ url: string; directUrl: string; drop: () => Promise<void> }> {
  const name = `scimgate_test_${label.toLowerCase().replace(/[^a-z0-9]/g, '')}_${process.pid}_${randomBytes(4).toString('hex')}`
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  await ensureDatabase(url.toString())
  await migrateDatabase({ databaseUrl: url.toString() })
  return { url: await nodeUrlOf(url.toString()), directUrl: url.toString(), drop: () => dropDatabase(url.toString()) }
}

/** Cursor keys of a test's own (a random secret, never the development key). */
export function testCursorKeys(): CursorKeys {
  return { current: 'test', keys: [{ kid: 'test', secret: randomBytes(32).toString('hex') }], isDevelopment: false }
}
