import { fileURLToPath } from 'node:url'
import { runner } from 'node-pg-migrate'

export const MIGRATIONS_DIR = fileURLToPath(new URL('./sql', import.meta.url))

export interface MigrateOptions {
  readonly databaseUrl: string
  readonly log?: (message: string) => void
}

/** Applies every pending migration; returns the names it applied. Safe to run on every start. */
export async function migrateDatabase(options: MigrateOptions): Promise<string[]> {
  const applied = await runner({
    databaseUrl: options.databaseUrl,
    dir: MIGRATIONS_DIR,
    migrationsTable: 'scimgate_migrations',
    direction: 'up',
    checkOrder: true,
    singleTransaction: true,
    log: options.log ?? (() => undefined),
  })
  return applied.map((m) => m.name)
}
