import pg from 'pg'
import type { DatabaseConfig } from '../../config/node-config.ts'
import { ConfigError } from '../../config/config-error.ts'
import { databaseUnavailable, isRetryableTransactionError, mapDatabaseError, RETRY_AFTER_SECONDS } from './pg-errors.ts'
import { rowSecurityBypasses } from './row-security-role.ts'
import { createTenantSlots, type TenantSlots } from './tenant-slots.ts'

export interface Queryable {
  query<Row extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>
}

/** Every query runs for one tenant: the tenant id is set as `scimgate.tenant_id`, which the row-level security policies check. */
export interface ReadOptions {
  /** A list query (filters and sorts a client chooses): it runs under the shorter list statement timeout. */
  readonly list?: boolean
}

export interface TenantDatabase {
  read<T>(tenantId: string, work: (db: Queryable) => Promise<T>, options?: ReadOptions): Promise<T>
  /** One transaction: committed before it resolves, rolled back whole if `work` throws. */
  write<T>(tenantId: string, work: (db: Queryable) => Promise<T>): Promise<T>
  ping(): Promise<void>
  /** Throws a ConfigError when the connections' effective role would see past row-level security. */
  verifyRowSecurity(): Promise<void>
  close(): Promise<void>
  readonly pool: pg.Pool
}

const MAX_TRANSACTION_ATTEMPTS = 3
// Requests of one tenant waiting for its share of the pool; the wait timeout is the real bound, this one only
// caps the waiters one tenant can pile up (a throughput benchmark keeps 1,000 requests of one tenant in flight).
const MAX_QUEUED_PER_TENANT = 5_000

export function createPool(config: DatabaseConfig, onError: (error: Error) => void): pg.Pool {
  const startupOptions = [`-c statement_timeout=${config.statementTimeoutMs}`]
  if (config.rowSecurityRole !== null) startupOptions.push(`-c role=${config.rowSecurityRole}`)
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    connectionTimeoutMillis: config.connectionTimeoutMs,
    idleTimeoutMillis: 30_000,
    options: startupOptions.join(' '),
    application_name: 'scimgate-region-node',
  })
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', onError)
  return pool
}

/** The effective role of a connection lets it past row-level security: it must serve nothing. */
function unsafeRoleError(reasons: readonly string[]): ConfigError {
  return new ConfigError('the database role (DATABASE_URL, DATABASE_ROW_SECURITY_ROLE)', [
    ...reasons.map((reason) => `${reason}: row-level security would not separate tenants`),
    'connect as (or set DATABASE_ROW_SECURITY_ROLE to) an unprivileged role that is a member of scimgate_app',
  ])
}

/** The tenant share of the pool, how long a tenant over its share may wait, and the statement timeouts. */
export interface TenantConcurrency {
  readonly connectionsPerTenant: number
  readonly queueTimeoutMs: number
  readonly statementTimeoutMs: number
  readonly listStatementTimeoutMs: number
}

export function createTenantDatabase(pool: pg.Pool, concurrency?: TenantConcurrency): TenantDatabase {
  // Connections whose role was checked. Each new connection is checked before its first use, so
  // no request is served past row-level security, even when the database was unreachable at start.
  const checked = new WeakSet<pg.PoolClient>()

  async function checkRole(client: pg.PoolClient): Promise<void> {
    if (checked.has(client)) return
    const reasons = await rowSecurityBypasses(client as unknown as Queryable)
    if (reasons.length > 0) throw unsafeRoleError(reasons)
    checked.add(client)
  }

  const slots: TenantSlots | undefined =
    concurrency === undefined
      ? undefined
      : createTenantSlots({ perTenant: concurrency.connectionsPerTenant, maxWaitMs: concurrency.queueTimeoutMs, maxQueued: MAX_QUEUED_PER_TENANT, retryAfterSeconds: RETRY_AFTER_SECONDS })

  async function withClient<T>(tenantId: string, transactional: boolean, work: (db: Queryable) => Promise<T>, statementTimeoutMs?: number): Promise<T> {
    const release = slots === undefined ? undefined : await slots.acquire(tenantId)
    try {
      return await withTenantClient(tenantId, transactional, work, statementTimeoutMs ?? concurrency?.statementTimeoutMs)
    } finally {
      release?.()
    }
  }

  async function withTenantClient<T>(tenantId: string, transactional: boolean, work: (db: Queryable) => Promise<T>, statementTimeoutMs: number | undefined): Promise<T> {
    let client: pg.PoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      // No connection to be had (refused, timed out, the pool's wait expired): the database is unavailable.
      throw databaseUnavailable(error)
    }
    try {
      await checkRole(client)
    } catch (error) {
      client.release(true)
      throw error instanceof ConfigError ? error : databaseUnavailable(error)
    }
    let broken: Error | undefined
    // pg emits 'error' on the client before it rejects the queries a dead connection took with it.
    let connectionLost = false
    const onConnectionLost = (): void => {
      connectionLost = true
    }
    client.on('error', onConnectionLost)
    try {
      if (transactional) await client.query('BEGIN')
      // Every checkout sets both, so a list's shorter timeout never outlives its read on the pooled connection.
      if (statementTimeoutMs === undefined) await client.query('SELECT set_config($1, $2, $3)', ['scimgate.tenant_id', tenantId, transactional])
      else await client.query('SELECT set_config($1, $2, $4), set_config($3, $5, $4)', ['scimgate.tenant_id', tenantId, 'statement_timeout', transactional, String(statementTimeoutMs)])
      const result = await work(client as unknown as Queryable)
      if (transactional) await client.query('COMMIT')
      return result
    } catch (error) {
      if (transactional) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError
        })
      }
      throw connectionLost ? databaseUnavailable(error) : error
    } finally {
      client.off('error', onConnectionLost)
      // A read leaves its session-level tenant setting on the connection: every checkout sets the
      // tenant before its first query, so the next one overwrites it (saving a round trip per read).
      client.release(broken)
    }
  }

  return {
    pool,
    async read(tenantId, work, options = {}) {
      try {
        return await withClient(tenantId, false, work, options.list === true ? concurrency?.listStatementTimeoutMs : undefined)
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
        throw databaseUnavailable(error)
      }
    },
    async verifyRowSecurity() {
      let client: pg.PoolClient
      try {
        client = await pool.connect()
      } catch (error) {
        throw databaseUnavailable(error)
      }
      try {
        await checkRole(client)
      } catch (error) {
        client.release(true)
        throw error instanceof ConfigError ? error : databaseUnavailable(error)
      }
      client.release()
    },
    async close() {
      await pool.end()
    },
  }
}
