import pg from 'pg'
import { DependencyUnavailableError, ScimError } from '../../lib/scim-error.ts'

export const RETRY_AFTER_SECONDS = 5

interface PgLikeError {
  code?: string
  constraint?: string
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'])

/**
 * True when the error's code says PostgreSQL could not be reached or went
 * away: a socket error, SQLSTATE class 08 (connection exception, but 08P01 —
 * a protocol violation — is our bug), 57P01–57P03 (shutdown, crash, not yet
 * accepting) or 53300 (too many connections). pg's own connection failures
 * carry no code; database.ts classifies those by where they happen.
 */
export function isUnavailableError(error: unknown): boolean {
  if (error instanceof DependencyUnavailableError) return true
  if (typeof error !== 'object' || error === null) return false
  const { code } = error as PgLikeError
  if (code === undefined) return false
  if (error instanceof pg.DatabaseError) return (code.startsWith('08') && code !== '08P01') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300'
  return CONNECTION_CODES.has(code)
}

/** The 503 a request gets while the region's database is unavailable. */
export function databaseUnavailable(cause: unknown): DependencyUnavailableError {
  return cause instanceof DependencyUnavailableError ? cause : new DependencyUnavailableError('the region database is unavailable; retry later', RETRY_AFTER_SECONDS, { cause })
}

/** Serialization failures and deadlocks: the transaction may simply be run again. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = (error as PgLikeError | null)?.code
  return code === '40001' || code === '40P01'
}

/** 409 uniqueness for a unique index a write collided with. */
export function uniquenessError(constraint: string | undefined): ScimError {
  const what = constraint === 'users_tenant_user_name_key' ? 'userName already exists (userName is unique regardless of letter case)' : 'the resource already exists'
  return new ScimError(409, 'uniqueness', what)
}

/** Maps what PostgreSQL says into the SCIM error the client should see; anything else stays as it is (a 500 after logging). */
export function mapDatabaseError(error: unknown): unknown {
  if (error instanceof ScimError) return error
  if (isUnavailableError(error)) return databaseUnavailable(error)
  const { code, constraint } = (error ?? {}) as PgLikeError
  if (code === '23505') return uniquenessError(constraint)
  if (code === '57014') {
    return new ScimError(503, undefined, 'the query took too long; narrow the filter or retry later', { 'retry-after': String(RETRY_AFTER_SECONDS) })
  }
  // 22021/22P05: text PostgreSQL cannot store (a NUL character), whatever path it came by
  if (code === '22P02' || code === '22007' || code === '22008' || code === '22003' || code === '54000' || code === '22021' || code === '22P05') {
    return new ScimError(400, 'invalidValue', 'a value is out of range or malformed')
  }
  return error
}
