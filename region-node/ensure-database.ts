import pg from 'pg'

/** Creates the database named in `url` when it does not exist yet (local runs and tests; production databases are provisioned by ops). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''))
  if (!/^[A-Za-z0-9_]{1,63}$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} must be letters, digits and underscores`)
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if ((rowCount ?? 0) > 0) return false
    try {
      // CREATE DATABASE takes no parameters; the name was checked against a strict pattern above
      await client.query(`CREATE DATABASE "${name}"`)
    } catch (error) {
      if ((error as { code?: string }).code !== '42P04') throw error
      return false
    }
    return true
  } finally {
    await client.end()
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''))
  if (!/^[A-Za-z0-9_]{1,63}$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} must be letters, digits and underscores`)
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  } finally {
    await client.end()
  }
}
