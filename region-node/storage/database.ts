import pg from 'pg'
import type { DatabaseConfig } from '../../config/node-config.ts'
import { ConfigError } from '../../config/config-error.ts'
import { databaseUnavailable, isRetryableTransactionError, mapDatabaseError, RETRY_AFTER_SECONDS } from './pg-errors.ts'
import { rowSecurityBypasses } from './row-security-role.ts'
import { createLazyTransaction } from './lazy-transaction.ts'
import type { Statement } from './pipeline.ts'
import { createTenantSlots, type TenantSlots } from './tenant-slots.ts'

export interface Queryable {
  query<Row extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number | null }>
}

/** Every query runs for one tenant: the tenant id is set as `scimgate.tenant_id`, which the row-level security policies check. */
export interface ReadOptions {
  /** A list query (filters and sorts a client chooses): it runs under the shorter list statement timeout. */
  readonly list?: boolean
  /** The work sends all its statements at once (one call, or several in one tick): BEGIN, settings, them and COMMIT in one round trip. */
  readonly oneRoundTrip?: boolean
}

export interface WriteOptions {
  /** As for reads: the work's statements go out at once, with BEGIN, settings and COMMIT, in one round trip. */
  readonly oneRoundTrip?: boolean
}

/**
 * The Queryable a transaction's work gets: BEGIN and the settings ride along with its first statement, and
 * statements issued in the same tick (`Promise.all`) go out together, in order, in one round trip.
 */
export interface TenantDatabase {
  /** One read-only transaction with one snapshot; its COMMIT is sent after the result is handed back. */
  read<T>(tenantId: string, work: (db: Queryable) => Promise<T>, options?: ReadOptions): Promise<T>
  /** One transaction: committed before it resolves, rolled back whole if `work` throws. */
  write<T>(tenantId: string, work: (db: Queryable) => Promise<T>, options?: WriteOptions): Promise<T>
  ping(): Promise<void>
  /** Throws a ConfigError when the connections' effective role would see past row-level security. */
  verifyRowSecurity(): Promise<void>
  close(): Promise<void>
  readonly pool: pg.Pool
  /** Tenant slots held now (0 without per-tenant limits): with no request in progress, any held one leaked. */
  slotsInUse(): number
}

const MAX_TRANSACTION_ATTEMPTS = 3
const ignoreConnectionError = (): void => undefined
const rethrowMapped = (error: unknown): never => {
  throw mapDatabaseError(error)
}
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

export interface TenantDatabaseOptions {
  /** Role every transaction switches to; null when the login role is unprivileged already. */
  readonly rowSecurityRole?: string | null
  /** Named prepared statements, parsed once per connection (default on); off for PgBouncer before 1.21. */
  readonly preparedStatements?: boolean
}

const BEGIN_WRITE: Statement = { text: 'BEGIN', rows: false }
const BEGIN_READ: Statement = { text: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', rows: false }
const BEGIN_CHECK: Statement = { text: 'BEGIN READ ONLY', rows: false }
const COMMIT: Statement = { text: 'COMMIT', rows: false }
const ROLLBACK: Statement = { text: 'ROLLBACK', rows: false }

/**
 * Every query runs inside an explicit transaction that first sets, for that transaction only
 * (`set_config(…, true)`), the tenant (`scimgate.tenant_id`, checked by the row-level security
 * policies), the statement timeout and the unprivileged role (`rowSecurityRole`; null when the login
 * role is unprivileged already): right on a direct connection and behind PgBouncer in transaction
 * pooling mode alike. Reads are REPEATABLE READ, READ ONLY: a list's count and page see one snapshot.
 * BEGIN and the settings go out in the same round trip as the transaction's first statement (see
 * lazy-transaction.ts), and a read's COMMIT after its result is handed back.
 */
export function createTenantDatabase(pool: pg.Pool, concurrency?: TenantConcurrency, options: TenantDatabaseOptions = {}): TenantDatabase {
  const { rowSecurityRole = null, preparedStatements = true } = options
  // Connections whose role was checked. Each new connection is checked before its first use, so
  // no request is served past row-level security, even when the database was unreachable at start.
  const checked = new WeakSet<pg.PoolClient>()
  const settingsCache = new Map<string, string>()

  async function checkRole(client: pg.PoolClient): Promise<void> {
    if (checked.has(client)) return
    // The role requests really run as: the one every transaction switches to. One round trip, rolled back.
    const opening = rowSecurityRole === null ? [BEGIN_CHECK] : [BEGIN_CHECK, { text: "SELECT set_config('role', $1, true)", values: [rowSecurityRole], rows: false as const }]
    const look = createLazyTransaction(client, { opening, closing: ROLLBACK, prepared: false, oneRoundTrip: true })
    let reasons: string[]
    try {
      reasons = await rowSecurityBypasses(look)
    } catch (error) {
      await look.rollback().catch(() => undefined)
      throw error
    }
    if (reasons.length > 0) throw unsafeRoleError(reasons)
    checked.add(client)
  }

  const slots: TenantSlots | undefined =
    concurrency === undefined
      ? undefined
      : createTenantSlots({ perTenant: concurrency.connectionsPerTenant, maxWaitMs: concurrency.queueTimeoutMs, maxQueued: MAX_QUEUED_PER_TENANT, retryAfterSeconds: RETRY_AFTER_SECONDS })

  /** A pooled connection whose effective role was checked; a role that sees past row security is a ConfigError. */
  async function checkedClient(): Promise<pg.PoolClient> {
    let client: pg.PoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      // No connection to be had (refused, timed out, the pool's wait expired): the database is unavailable.
      throw databaseUnavailable(error)
    }
    if (checked.has(client)) return client
    // The pool stops listening for a client's 'error' when it hands it out: a connection lost during the
    // check would be an unhandled 'error' event, which ends the process. Its query fails with it anyway.
    client.on('error', ignoreConnectionError)
    try {
      await checkRole(client)
    } catch (error) {
      client.release(true)
      throw error instanceof ConfigError ? error : databaseUnavailable(error)
    } finally {
      client.off('error', ignoreConnectionError)
    }
    return client
  }

  interface Transaction {
    readonly readOnly: boolean
    readonly statementTimeoutMs: number | undefined
    readonly oneRoundTrip: boolean
  }

  /**
   * Runs `work` in one transaction of the tenant on a checked connection, within the tenant's share of
   * the pool. A read's COMMIT is sent after its result is handed back; the connection and the tenant's
   * slot are given back only after it.
   */
  async function inTransaction<T>(tenantId: string, transaction: Transaction, work: (db: Queryable) => Promise<T>): Promise<T> {
    let release = slots?.acquire(tenantId)
    if (release instanceof Promise) release = await release
    let client: pg.PoolClient
    try {
      client = await checkedClient()
    } catch (error) {
      release?.()
      throw error
    }
    // pg emits 'error' on the client before it rejects the queries a dead connection took with it.
    let connectionLost = false
    const onConnectionLost = (): void => {
      connectionLost = true
    }
    client.on('error', onConnectionLost)
    const giveBack = (broken?: Error): void => {
      client.off('error', onConnectionLost)
      client.release(broken)
      release?.()
    }
    const tx = createLazyTransaction(client, {
      opening: [transaction.readOnly ? BEGIN_READ : BEGIN_WRITE, transactionSettings(tenantId, transaction.statementTimeoutMs)],
      closing: COMMIT,
      prepared: preparedStatements,
      oneRoundTrip: transaction.oneRoundTrip,
    })
    let result: T
    try {
      result = await work(tx)
      if (!transaction.readOnly) await tx.close()
    } catch (error) {
      let broken: Error | undefined
      await tx.rollback().catch((rollbackError: Error) => {
        broken = rollbackError
      })
      giveBack(broken)
      throw connectionLost ? databaseUnavailable(error) : error
    }
    if (transaction.readOnly && tx.begun && !tx.closed) {
      // Nothing of the result depends on a read-only transaction's COMMIT: it is not on the response's path.
      tx.close().then(
        () => giveBack(),
        (error: Error) => giveBack(error),
      )
    } else {
      giveBack()
    }
    return result
  }

  /** One statement setting the tenant, and the timeout and role when there are any, for this transaction only. */
  function transactionSettings(tenantId: string, statementTimeoutMs: number | undefined): Statement {
    const values: string[] = ['scimgate.tenant_id', tenantId]
    if (statementTimeoutMs !== undefined) values.push('statement_timeout', String(statementTimeoutMs))
    if (rowSecurityRole !== null) values.push('role', rowSecurityRole)
    const count = values.length / 2
    let text = settingsCache.get(String(count))
    if (text === undefined) {
      const calls = Array.from({ length: count }, (_, index) => `set_config($${2 * index + 1}, $${2 * index + 2}, true)`)
      text = `SELECT ${calls.join(', ')}`
      settingsCache.set(String(count), text)
    }
    return { text, values, rows: false }
  }

  return {
    pool,
    slotsInUse: () => slots?.inUse() ?? 0,
    read(tenantId, work, options = {}) {
      const statementTimeoutMs = options.list === true ? concurrency?.listStatementTimeoutMs : concurrency?.statementTimeoutMs
      return inTransaction(tenantId, { readOnly: true, statementTimeoutMs, oneRoundTrip: options.oneRoundTrip === true }, work).catch(rethrowMapped)
    },
    async write(tenantId, work, options = {}) {
      const transaction = { readOnly: false, statementTimeoutMs: concurrency?.statementTimeoutMs, oneRoundTrip: options.oneRoundTrip === true }
      for (let attempt = 1; ; attempt++) {
        try {
          return await inTransaction(tenantId, transaction, work)
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
