import pg from 'pg'

/** The database named in `url`, checked against a strict pattern: CREATE/DROP DATABASE take no parameters. */
function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''))
  if (!/^[A-Za-z0-9_]{1,63}$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} must be letters, digits and underscores`)
  return name
}

/** Runs `work` connected to the server's `postgres` database. */
async function onServer<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** Creates the database named in `url` when it does not exist yet (local runs and tests; production databases are provisioned by ops). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url)
  return onServer(url, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if ((rowCount ?? 0) > 0) return false
    try {
      await client.query(`CREATE DATABASE "${name}"`)
    } catch (error) {
      // another process created it first
      if ((error as { code?: string }).code !== '42P04') throw error
      return false
    }
    return true
  })
}

/**
 * Drops the database named in `url`. A pool's `end()` resolves before the server has closed its sessions:
 * `settleMs` waits that long at most for them to go, where FORCE would otherwise terminate a session its
 * client is still closing (and that client reports the termination as an error of its own).
 */
export async function dropDatabase(url: string, settleMs = 0): Promise<void> {
  const name = databaseName(url)
  await onServer(url, async (client) => {
    const deadline = Date.now() + settleMs
    for (;;) {
      const { rows } = await client.query<{ sessions: number }>('SELECT count(*)::int AS sessions FROM pg_stat_activity WHERE datname = $1', [name])
      if (rows[0]!.sessions === 0 || Date.now() >= deadline) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  })
}
