import { join } from 'node:path'
import { answers } from '../embedded-services.ts'
import type { Supervisor } from './supervisor.ts'

export interface ChosenDatabase {
  /** A URL of the server; each region gets its own database on it. */
  readonly serverUrl: string
  readonly embedded: boolean
}

const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres'

/**
 * DATABASE_URL, else the local server if it answers, else (or when forced) an embedded PostgreSQL
 * with its data under the data folder, run as the supervisor's first process (so it stops last).
 */
export async function chooseDatabase(
  env: Readonly<Record<string, string | undefined>>,
  options: { dataDir: string; forceEmbedded: boolean; supervisor: Supervisor; cli: string },
): Promise<ChosenDatabase> {
  if (!options.forceEmbedded && env.DATABASE_URL !== undefined) return { serverUrl: env.DATABASE_URL, embedded: false }
  if (!options.forceEmbedded && (await answers('127.0.0.1', 5432))) return { serverUrl: LOCAL_SERVER, embedded: false }
  const args = [options.cli, 'embedded-postgres', '--data-dir', join(options.dataDir, 'postgres'), '--port', env.EMBEDDED_POSTGRES_PORT ?? '54329']
  const server = options.supervisor.start({ name: 'postgres', command: process.execPath, args, env })
  return { serverUrl: (await server.nextReady()).url, embedded: true }
}
