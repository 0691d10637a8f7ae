// One implicit transaction in one round trip: every statement of a request is
// sent as Parse (the first time on a connection) / Bind / Describe / Execute,
// and a single Sync closes the batch. PostgreSQL runs the messages up to a Sync
// as one implicit transaction: committed at the Sync when all succeeded, rolled
// back whole when one failed (the messages after an error are skipped). So the
// tenant, role and statement timeout set with set_config(…, true) in the first
// statement hold for exactly the statements behind it, as the node's BEGIN …
// COMMIT does, but without four round trips and without the BEGIN and COMMIT
// statements. pg's own `pipeline` client option would also save the round trips,
// but it sends a Sync after every statement (one ReadyForQuery each), which
// makes each statement its own transaction unless BEGIN/COMMIT ride along: the
// single Sync is the cheaper correct choice.
import pg from 'pg'

export interface Step {
  /** A named prepared statement: parsed once per connection, planned with PostgreSQL's plan cache. */
  readonly name: string
  readonly text: string
  readonly values: readonly unknown[]
  /** false: the step's rows are not needed (no Describe, rows ignored). */
  readonly rows?: boolean
}

export type Row = Record<string, unknown>

interface PgConnection {
  parsedStatements: Record<string, string>
  stream: { cork?: () => void; uncork?: () => void }
  parse(query: { text: string; name: string; types?: unknown[] }): void
  bind(config: { portal: string; statement: string; values: readonly unknown[]; valueMapper: (value: unknown) => unknown }): void
  describe(config: { type: 'P'; name: string }): void
  execute(config: { portal: string; rows?: number }): void
  sync(): void
}

interface PgResult {
  fields: unknown[]
  rows: Row[]
  addFields(fields: unknown[]): void
  parseRow(fields: unknown[]): Row
}

const ResultClass = (pg as unknown as { Result: new (rowMode?: string) => PgResult }).Result
// pg's own mapping of JavaScript values to parameters (arrays, dates, objects as JSON), as its Query uses.
const prepareValue = (pg as unknown as { utils: { prepareValue: (value: unknown) => unknown } }).utils.prepareValue

/** The wire-level work of one request: a pg "submittable" the client writes in one go and answers once. */
class OneRoundTrip {
  callback: ((error: Error | null, rows?: Row[][]) => void) | undefined
  readonly #steps: readonly Step[]
  readonly #results: PgResult[] = []
  readonly #parsing: string[] = []
  #current = 0
  #error: Error | undefined

  readonly #valueMapper: (value: unknown) => unknown

  constructor(steps: readonly Step[], valueMapper: (value: unknown) => unknown) {
    this.#steps = steps
    this.#valueMapper = valueMapper
  }

  submit(connection: PgConnection): null {
    connection.stream.cork?.()
    try {
      for (const step of this.#steps) {
        if (connection.parsedStatements[step.name] === undefined && !this.#parsing.includes(step.name)) {
          connection.parse({ text: step.text, name: step.name })
          this.#parsing.push(step.name)
        }
        connection.bind({ portal: '', statement: step.name, values: step.values, valueMapper: this.#valueMapper })
        if (step.rows !== false) connection.describe({ type: 'P', name: '' })
        connection.execute({ portal: '' })
        this.#results.push(new ResultClass())
      }
      connection.sync()
    } finally {
      connection.stream.uncork?.()
    }
    // Marked parsed now: a failed batch costs the connection (it is discarded), so a name is never parsed twice.
    for (const name of this.#parsing) connection.parsedStatements[name] = this.#steps.find((s) => s.name === name)!.text
    return null
  }

  handleRowDescription(message: { fields: unknown[] }): void {
    this.#results[this.#current]!.addFields(message.fields)
  }

  handleDataRow(message: { fields: unknown[] }): void {
    if (this.#steps[this.#current]!.rows === false) return
    const result = this.#results[this.#current]!
    result.rows.push(result.parseRow(message.fields))
  }

  handleCommandComplete(): void {
    this.#current++
  }

  handleEmptyQuery(): void {
    this.#current++
  }

  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}

  handleError(error: Error): void {
    // The client forgets this query on an error; ReadyForQuery then goes to nobody, so answer now.
    this.#error = error
    this.callback?.(error)
    this.callback = undefined
  }

  handleReadyForQuery(): void {
    const callback = this.callback
    this.callback = undefined
    if (this.#error === undefined) callback?.(null, this.#results.map((r) => r.rows))
  }
}

/**
 * Runs the steps as one implicit transaction in one round trip on `client`; resolves with each step's rows.
 * On a failure the client must be released as broken (its statements and transaction state are unknown).
 */
export function runOneRoundTrip(client: pg.PoolClient, steps: readonly Step[]): Promise<Row[][]> {
  return new Promise((resolve, reject) => {
    const work = new OneRoundTrip(steps, prepareValue)
    work.callback = (error, rows) => (error === null ? resolve(rows!) : reject(error))
    ;(client as unknown as { query(submittable: OneRoundTrip): void }).query(work)
  })
}
