import pg from 'pg'
import type { DatabaseConfig } from '../../config/node-config.ts'
import { isRetryableTransactionError, mapDatabaseError } from './pg-errors.ts'

export interface Queryable {
  query<Row extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>
}

/** Every query runs for one tenant: the tenant id is set as `scimgate.tenant_id`, which the row-level security policies check. */
export interface TenantDatabase {
  /** One read-only transaction with one snapshot. */
  read<T>(tenantId: string, work: (db: Queryable) => Promise<T>): Promise<T>
  /** One transaction: committed before it resolves, rolled back whole if `work` throws. */
  write<T>(tenantId: string, work: (db: Queryable) => Promise<T>): Promise<T>
  ping(): Promise<void>
  close(): Promise<void>
  readonly pool: pg.Pool
}

const MAX_TRANSACTION_ATTEMPTS = 3

export function createPool(config: DatabaseConfig, onError: (error: Error) => void): pg.Pool {
  // No startup options (`-c role=…`): PgBouncer refuses them, and in its transaction mode a session
  // setting would leak to whichever client gets the server connection next. Every setting is made
  // per transaction instead (see createTenantDatabase).
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    connectionTimeoutMillis: config.connectionTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'scimgate-region-node',
  })
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', onError)
  return pool
}

/**
 * Every query runs inside an explicit transaction that first sets, for that transaction only, the
 * tenant (`scimgate.tenant_id`, checked by the row-level security policies), the unprivileged role
 * and the statement timeout: correct on a direct connection and behind PgBouncer in transaction
 * pooling mode alike. Reads are REPEATABLE READ, READ ONLY: a list's count and page see one snapshot.
 */
export function createTenantDatabase(pool: pg.Pool, config: Pick<DatabaseConfig, 'rowSecurityRole' | 'statementTimeoutMs'>): TenantDatabase {
  const settings = [`set_config('scimgate.tenant_id', $1, true)`, `set_config('statement_timeout', $2, true)`]
  if (config.rowSecurityRole !== null) settings.push(`set_config('role', $3, true)`)
  const settingsSql = `SELECT ${settings.join(', ')}`
  const settingsValues = (tenantId: string): string[] => [tenantId, String(config.statementTimeoutMs), ...(config.rowSecurityRole === null ? [] : [config.rowSecurityRole])]

  async function withClient<T>(tenantId: string, transactional: boolean, work: (db: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      throw mapDatabaseError(error)
    }
    let broken: Error | undefined
    // A connection lost between two queries (PgBouncer or PostgreSQL restarting) is reported as an
    // 'error' event on the checked-out client; unheard, it would end the process.
    const onLost = (error: Error): void => {
      broken = error
    }
    client.on('error', onLost)
    try {
      await client.query(transactional ? 'BEGIN' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      await client.query(settingsSql, settingsValues(tenantId))
      const result = await work(client as unknown as Queryable)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError
      })
      throw error
    } finally {
      client.off('error', onLost)
      client.release(broken)
    }
  }

  return {
    pool,
    async read(tenantId, work) {
      try {
        return await withClient(tenantId, false, work)
      } catch (error) {
        throw mapDatabaseError(error)
      }
    },
    async write(tenantId, work) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await withClient(tenantId, true, work)
        } catch (error) {
          if (attempt < MAX_TRANSACTION_ATTEMPTS && isRetryableTransactionError(error)) continue
          throw mapDatabaseError(error)
        }
      }
    },
    async ping() {
      try {
        await pool.query('SELECT 1')
      } catch (error) {
        throw mapDatabaseError(error)
      }
    },
    async close() {
      await pool.end()
    },
  }
}
