import pg from 'pg'
import t from 'tap'
import { DependencyUnavailableError } from '../../../lib/scim-error.ts'
import { isUnavailableError, mapDatabaseError } from '../../../region-node/storage/pg-errors.ts'

function databaseError(code: string): pg.DatabaseError {
  const error = new pg.DatabaseError('server says no', 0, 'error')
  error.code = code
  return error
}

t.test('unavailability is decided by SQLSTATE or socket error code, never by message text', async (t) => {
  for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '53300']) t.ok(isUnavailableError(databaseError(code)), `SQLSTATE ${code}`)
  t.notOk(isUnavailableError(databaseError('08P01')), 'a protocol violation is our bug')
  t.notOk(isUnavailableError(databaseError('23505')))
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']) t.ok(isUnavailableError(Object.assign(new Error('socket'), { code })), code)
  // pg's own words, without a code: database.ts decides these by where they happen, not here by what they say.
  for (const message of ['Connection terminated unexpectedly', 'timeout exceeded when trying to connect', 'Client was closed and is not queryable']) {
    t.notOk(isUnavailableError(new Error(message)), message)
  }
  t.ok(mapDatabaseError(databaseError('57P01')) instanceof DependencyUnavailableError)
  t.match(mapDatabaseError(databaseError('23505')), { status: 409, scimType: 'uniqueness' })
})
