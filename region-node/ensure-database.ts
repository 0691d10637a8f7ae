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

export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url)
  await onServer(url, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))
}
