// A /Bulk run of consecutive POST /Users operations as one multi-row insert
// (RFC 7644 §3.7), with the results those operations would have had one by one.
import { randomUUID } from 'node:crypto'
import { DependencyUnavailableError, isScimError, ScimError } from '../../lib/scim-error.ts'
import { formatVersion } from '../scim/etag.ts'
import { isRetryableTransactionError, uniquenessError } from '../storage/pg-errors.ts'
import { insertUsers, type NewUser } from '../storage/user-batches.ts'
import { ALWAYS_RECORD } from './event-recorder.ts'
import type { RequestScope, ServiceDependencies } from './service-context.ts'
import { prepareNewUser } from './users-service.ts'

export type CreateResult = { readonly kind: 'created'; readonly id: string; readonly location: string; readonly version: string } | { readonly kind: 'failed'; readonly error: ScimError }

export interface UserCreateBatches {
  /**
   * Creates the users as POST /Users would, one after the other, but in one transaction and statement. Stops
   * after the operation whose error is the `maxErrors`-th (RFC 7644 §3.7.3): the results are those of the
   * operations that ran, a prefix of `bodies`. undefined when the database refused the batch as a whole
   * (the caller then runs the operations one by one, each with its own outcome).
   */
  create(scope: RequestScope, bodies: readonly unknown[], maxErrors: number | undefined): Promise<CreateResult[] | undefined>
}

/** How many operations run: all, or up to and including the one whose error is the `maxErrors`-th. */
function operationsToRun(failed: readonly boolean[], maxErrors: number | undefined): number {
  if (maxErrors === undefined) return failed.length
  let errors = 0
  for (let index = 0; index < failed.length; index++) {
    if (failed[index] === true && ++errors >= maxErrors) return index + 1
  }
  return failed.length
}

/** Thrown inside the transaction to roll it back: more errors than allowed before its last operation. */
class FewerOperations extends Error {
  readonly count: number

  constructor(count: number) {
    super('the batch stops earlier')
    this.count = count
  }
}

export function createUserCreateBatches(deps: Pick<ServiceDependencies, 'database' | 'events'>): UserCreateBatches {
  const events = deps.events ?? ALWAYS_RECORD
  return {
    async create(scope, bodies, maxErrors) {
      const prepared = bodies.map((body): NewUser | ScimError => {
        try {
          return { id: randomUUID(), attributes: prepareNewUser(body) }
        } catch (error) {
          if (isScimError(error)) return error
          throw error
        }
      })
      let count = operationsToRun(prepared.map((p) => p instanceof ScimError), maxErrors)
      for (;;) {
        const ran = prepared.slice(0, count)
        try {
          const created = await deps.database.write(scope.tenantId, async (db) => {
            const rows = await insertUsers(db, scope.tenantId, ran.filter((p): p is NewUser => !(p instanceof ScimError)), events.userCreationLog(scope))
            // A taken userName is an error too: when errors reach the limit before the end, the later rows must not stay.
            const shorter = operationsToRun(ran.map((p) => p instanceof ScimError || !rows.has(p.id)), maxErrors)
            if (shorter < ran.length) throw new FewerOperations(shorter)
            return rows
          })
          return ran.map((p): CreateResult => {
            if (p instanceof ScimError) return { kind: 'failed', error: p }
            const row = created.get(p.id)
            if (row === undefined) return { kind: 'failed', error: uniquenessError('users_tenant_user_name_key') }
            return { kind: 'created', id: row.id, location: `${scope.baseUrl}/Users/${row.id}`, version: formatVersion(row.version) }
          })
        } catch (error) {
          if (error instanceof FewerOperations) {
            count = error.count
            continue
          }
          // The database went away: the batch may have been committed all the same, so running its operations
          // again one by one could answer 409 for users this very request created. Each gets the 503 instead.
          if (error instanceof DependencyUnavailableError) {
            return ran.slice(0, operationsToRun(ran.map(() => true), maxErrors)).map((p): CreateResult => ({ kind: 'failed', error: p instanceof ScimError ? p : error }))
          }
          // Concurrent batches with common userNames can deadlock past the write's retries: one by one cannot.
          if (isScimError(error) || isRetryableTransactionError(error)) return undefined
          throw error
        }
      }
    },
  }
}
