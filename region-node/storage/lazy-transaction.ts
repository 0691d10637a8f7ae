// A transaction whose opening statements (BEGIN and the per-transaction
// settings) ride along with its first query, and whose queries issued in the
// same tick (`Promise.all`) go out together: one round trip each time. With
// `oneRoundTrip`, the work's statements are all sent at once and the closing
// statement (COMMIT) goes with them.
import type pg from 'pg'
import type { Queryable } from './database.ts'
import { runPipeline, type Statement, type StatementResult } from './pipeline.ts'

export interface LazyTransactionOptions {
  /** BEGIN and the settings: sent in front of the first batch. */
  readonly opening: readonly Statement[]
  /** COMMIT (or ROLLBACK for a look that changes nothing). */
  readonly closing: Statement
  /** Named prepared statements (see runPipeline). */
  readonly prepared: boolean
  /** The work sends all its statements in its first batch: the closing statement goes with them. */
  readonly oneRoundTrip?: boolean
}

export interface LazyTransaction extends Queryable {
  /** BEGIN has been sent: the transaction must be closed (`close`) or rolled back. */
  readonly begun: boolean
  /** The closing statement went out with the work's statements already. */
  readonly closed: boolean
  /** Sends the closing statement (nothing when nothing was begun or it was sent already). */
  close(): Promise<void>
  rollback(): Promise<void>
}

interface Pending {
  readonly statement: Statement
  resolve(result: StatementResult): void
  reject(error: Error): void
}

const ROLLBACK: Statement = { text: 'ROLLBACK', rows: false }

export function createLazyTransaction(client: pg.ClientBase, options: LazyTransactionOptions): LazyTransaction {
  let begun = false
  let closed = false
  let batch: Pending[] = []

  const flush = (): void => {
    const pending = batch
    batch = []
    const head = begun ? [] : options.opening
    const tail = options.oneRoundTrip === true ? [options.closing] : []
    begun = true
    if (options.oneRoundTrip === true) closed = true
    runPipeline(client, [...head, ...pending.map((p) => p.statement), ...tail], options.prepared).then(
      (results) => pending.forEach((p, index) => p.resolve(results[head.length + index]!)),
      (error: Error) => pending.forEach((p) => p.reject(error)),
    )
  }

  return {
    get begun() {
      return begun
    },
    get closed() {
      return closed
    },
    query<Row extends Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number | null }> {
      if (closed) return Promise.reject(new Error('this transaction sent its statements in one round trip already'))
      return new Promise((resolve, reject) => {
        batch.push({ statement: { text, values }, resolve: resolve as (result: StatementResult) => void, reject })
        if (batch.length === 1) queueMicrotask(flush)
      })
    },
    async close() {
      if (!begun || closed) return
      closed = true
      await runPipeline(client, [options.closing], options.prepared)
    },
    async rollback() {
      if (!begun) return
      closed = true
      await runPipeline(client, [ROLLBACK], options.prepared)
    },
  }
}
