import { randomBytes } from 'node:crypto'
import type { CursorKeys } from '../../config/cursor-keys.ts'
import { dropDatabase, ensureDatabase } from '../../region-node/ensure-database.ts'
import { migrateDatabase } from '../../region-node/migrations/migrate.ts'

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** A fresh, migrated database of its own for one test file and region; dropped by the returned function. */
export async function createTestDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `scimgate_test_${label.toLowerCase().replace(/[^a-z0-9]/g, '')}_${process.pid}_${randomBytes(4).toString('hex')}`
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  await ensureDatabase(url.toString())
  await migrateDatabase({ databaseUrl: url.toString() })
  return { url: url.toString(), drop: () => dropDatabase(url.toString()) }
}

/** Cursor keys of a test's own (a random secret, never the development key). */
export function testCursorKeys(): CursorKeys {
  return { current: 'test', keys: [{ kid: 'test', secret: randomBytes(32).toString('hex') }], isDevelopment: false }
}
