import { ScimError } from '../../lib/scim-error.ts'

export const RETRY_AFTER_SECONDS = 5

interface PgLikeError {
  code?: string
  constraint?: string
  message?: string
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'])

/** True when PostgreSQL could not be reached or went away: worth a 503 and a retry, never a 500. */
export function isUnavailableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as PgLikeError
  // 08P01 (protocol violation) is our bug, not an outage
  if (code !== undefined && (CONNECTION_CODES.has(code) || (code.startsWith('08') && code !== '08P01') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300')) return true
  // pg reports pool/connection problems as plain Errors without a code
  return typeof message === 'string' && /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|Client was closed/i.test(message)
}

/** Serialization failures and deadlocks: the transaction may simply be run again. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = (error as PgLikeError | null)?.code
  return code === '40001' || code === '40P01'
}

/** Maps what PostgreSQL says into the SCIM error the client should see; anything else stays as it is (a 500 after logging). */
export function mapDatabaseError(error: unknown): unknown {
  if (error instanceof ScimError) return error
  if (isUnavailableError(error)) {
    return new ScimError(503, undefined, 'the region database is unavailable; retry later', { 'retry-after': String(RETRY_AFTER_SECONDS) })
  }
  const { code, constraint } = (error ?? {}) as PgLikeError
  if (code === '23505') {
    const what = constraint === 'users_tenant_user_name_key' ? 'userName already exists (userName is unique regardless of letter case)' : 'the resource already exists'
    return new ScimError(409, 'uniqueness', what)
  }
  if (code === '57014') {
    return new ScimError(503, undefined, 'the query took too long; narrow the filter or retry later', { 'retry-after': String(RETRY_AFTER_SECONDS) })
  }
  // 22021/22P05: text PostgreSQL cannot store (a NUL character), whatever path it came by
  if (code === '22P02' || code === '22007' || code === '22008' || code === '22003' || code === '54000' || code === '22021' || code === '22P05') {
    return new ScimError(400, 'invalidValue', 'a value is out of range or malformed')
  }
  return error
}
