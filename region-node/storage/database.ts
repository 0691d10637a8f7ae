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
  /** One read-only transaction with one snapshot. */
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
  // No startup options (`-c role=…`): PgBouncer refuses them, and in its transaction mode a session
  // setting would reach whichever client gets the server connection next. Every setting is made per
  // transaction instead (see createTenantDatabase).
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

/**
 * Every query runs inside an explicit transaction that first sets, for that transaction only
 * (`set_config(…, true)`), the tenant (`scimgate.tenant_id`, checked by the row-level security
 * policies), the statement timeout and the unprivileged role (`rowSecurityRole`; null when the login
 * role is unprivileged already): right on a direct connection and behind PgBouncer in transaction
 * pooling mode alike. Reads are REPEATABLE READ, READ ONLY: a list's count and page see one snapshot.
 */
export function createTenantDatabase(pool: pg.Pool, concurrency?: TenantConcurrency, rowSecurityRole: string | null = null): TenantDatabase {
  // Connections whose role was checked. Each new connection is checked before its first use, so
  // no request is served past row-level security, even when the database was unreachable at start.
  const checked = new WeakSet<pg.PoolClient>()

  async function checkRole(client: pg.PoolClient): Promise<void> {
    if (checked.has(client)) return
    // The role requests really run as: the one every transaction switches to.
    await client.query('BEGIN READ ONLY')
    let reasons: string[]
    try {
      if (rowSecurityRole !== null) await client.query("SELECT set_config('role', $1, true)", [rowSecurityRole])
      reasons = await rowSecurityBypasses(client as unknown as Queryable)
    } finally {
      await client.query('ROLLBACK')
    }
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

  /** A pooled connection whose effective role was checked; a role that sees past row security is a ConfigError. */
  async function checkedClient(): Promise<pg.PoolClient> {
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
    return client
  }

  async function withTenantClient<T>(tenantId: string, transactional: boolean, work: (db: Queryable) => Promise<T>, statementTimeoutMs: number | undefined): Promise<T> {
    const client = await checkedClient()
    let broken: Error | undefined
    // pg emits 'error' on the client before it rejects the queries a dead connection took with it.
    let connectionLost = false
    const onConnectionLost = (): void => {
      connectionLost = true
    }
    client.on('error', onConnectionLost)
    try {
      await client.query(transactional ? 'BEGIN' : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      await client.query(...transactionSettings(tenantId, statementTimeoutMs))
      const result = await work(client as unknown as Queryable)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError
      })
      throw connectionLost ? databaseUnavailable(error) : error
    } finally {
      client.off('error', onConnectionLost)
      client.release(broken)
    }
  }

  /** One query setting the tenant, and the timeout and role when there are any, for this transaction only. */
  function transactionSettings(tenantId: string, statementTimeoutMs: number | undefined): [string, string[]] {
    const settings: [string, string][] = [['scimgate.tenant_id', tenantId]]
    if (statementTimeoutMs !== undefined) settings.push(['statement_timeout', String(statementTimeoutMs)])
    if (rowSecurityRole !== null) settings.push(['role', rowSecurityRole])
    const calls = settings.map((_, index) => `set_config($${2 * index + 1}, $${2 * index + 2}, true)`)
    return [`SELECT ${calls.join(', ')}`, settings.flat()]
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
      const client = await checkedClient()
      client.release()
    },
    async close() {
      await pool.end()
    },
  }
}
