import { join } from 'node:path'
import { answers, startEmbeddedPostgres } from '../embedded-services.ts'

export interface ChosenDatabase {
  /** A URL of the server; each region gets its own database on it. */
  readonly serverUrl: string
  readonly embedded: boolean
  stop(): Promise<void>
}

const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres'

/** DATABASE_URL, else the local server if it answers, else (or when forced) an embedded PostgreSQL under the data folder. */
export async function chooseDatabase(env: Readonly<Record<string, string | undefined>>, dataDir: string, forceEmbedded: boolean): Promise<ChosenDatabase> {
  const none = async (): Promise<void> => undefined
  if (!forceEmbedded && env.DATABASE_URL !== undefined) return { serverUrl: env.DATABASE_URL, embedded: false, stop: none }
  if (!forceEmbedded && (await answers('127.0.0.1', 5432))) return { serverUrl: LOCAL_SERVER, embedded: false, stop: none }
  const database = await startEmbeddedPostgres(join(dataDir, 'postgres'), Number(env.EMBEDDED_POSTGRES_PORT ?? 54329))
  return { serverUrl: database.url, embedded: true, stop: database.stop }
}
