// Several statements to PostgreSQL in ONE round trip: Parse (when the
// connection has not parsed that named statement yet) / Bind / Describe /
// Execute for each, then a single Sync (the extended query protocol's
// pipelining). pg 8 sends a Sync after every statement; this is a pg
// "Submittable" that writes the messages itself and reads the answers back.
//
// After an error the server skips everything up to the Sync: the statements
// after the failing one never ran, and an open transaction is left aborted
// (the caller rolls it back). Named statements are remembered per connection
// only once their ParseComplete arrived, so a Parse the server skipped is sent
// again next time; the least recently used ones are closed past a cap.
import { createHash } from 'node:crypto'
import pg from 'pg'

export interface Statement {
  readonly text: string
  readonly values?: readonly unknown[]
  /** false: its rows are not wanted (BEGIN, settings, COMMIT): no Describe is sent, rows that come are dropped. */
  readonly rows?: false
}

export interface StatementResult<Row = Record<string, unknown>> {
  readonly rows: Row[]
  readonly rowCount: number | null
}

/** Named statements kept per connection (each holds a plan in the server process); older ones are closed first. */
export const MAX_PREPARED_PER_CONNECTION = 100

/** The messages of the wire protocol this module writes (pg's Connection). */
interface WireConnection {
  parse(message: { text: string; name: string; types: readonly number[] }): void
  bind(message: { portal: string; statement: string; values: readonly unknown[]; binary: boolean }): void
  describe(message: { type: 'P'; name: string }): void
  execute(message: { portal: string; rows: number }): void
  close(message: { type: 'S'; name: string }): void
  sync(): void
  sendCopyFail(message: string): void
  stream: { cork?: () => void; uncork?: () => void }
  on(event: 'parseComplete' | 'closeComplete', listener: () => void): void
}

type Acknowledgement = { readonly kind: 'parse'; readonly name: string } | { readonly kind: 'close'; readonly name: string }

/** What one connection has prepared, and the Parse/Close messages in flight whose completion is still due. */
interface ConnectionStatements {
  /** Names the server has parsed, least recently used first (a Map keeps insertion order). */
  readonly parsed: Map<string, true>
  readonly due: Acknowledgement[]
  /** Names whose Parse is written but not yet acknowledged: a second use in the same pipeline only binds. */
  readonly parsing: Set<string>
}

/** What pg's Result does besides holding rows (not in its type declarations). */
interface ResultAccumulator extends StatementResult {
  addFields(fields: unknown[]): void
  parseRow(fields: unknown[]): Record<string, unknown>
  addRow(row: Record<string, unknown>): void
  addCommandComplete(message: { text: string }): void
}
const PgResult = pg.Result as unknown as new () => ResultAccumulator
// pg's own mapping of JavaScript values to parameters (dates, arrays, JSON, Buffers): the same as for its queries.
const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils

const connections = new WeakMap<WireConnection, ConnectionStatements>()

function statementsOf(connection: WireConnection): ConnectionStatements {
  let state = connections.get(connection)
  if (state !== undefined) return state
  const created: ConnectionStatements = { parsed: new Map(), due: [], parsing: new Set() }
  // Acknowledgements arrive in the order the messages were written. Only this module's pipelines queue
  // any, and a pg client runs one query at a time, so others' ParseCompletes arrive while `due` is empty.
  connection.on('parseComplete', () => {
    const next = created.due.shift()
    if (next?.kind === 'parse' && next.name !== '') {
      created.parsing.delete(next.name)
      created.parsed.set(next.name, true)
    }
  })
  connection.on('closeComplete', () => {
    created.due.shift()
  })
  connections.set(connection, created)
  state = created
  return state
}

/** After an error (or a lost connection): Parses never acknowledged did not happen; Closes never acknowledged left the statement in place. */
function settleUnacknowledged(state: ConnectionStatements): void {
  for (const pending of state.due) if (pending.kind === 'close') state.parsed.set(pending.name, true)
  state.due.length = 0
  state.parsing.clear()
}

const names = new Map<string, string>()
const MAX_REMEMBERED_NAMES = 2_000

/** A stable name per SQL text: the same text always gets the same server-side prepared statement. */
export function statementName(text: string): string {
  let name = names.get(text)
  if (name === undefined) {
    if (names.size >= MAX_REMEMBERED_NAMES) names.clear()
    name = `sg_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`
    names.set(text, name)
  }
  return name
}

type Callback = (error: Error | null, results?: StatementResult[]) => void

/** A pg Submittable: one pipeline of statements ending in one Sync. */
class Pipeline {
  callback: Callback | undefined
  private readonly results: ResultAccumulator[]
  private current = 0
  private state: ConnectionStatements | undefined
  private failure: Error | undefined
  private finished = false
  private readonly statements: readonly Statement[]
  private readonly prepared: boolean

  constructor(statements: readonly Statement[], prepared: boolean, callback: Callback) {
    this.statements = statements
    this.prepared = prepared
    this.callback = callback
    this.results = statements.map(() => new PgResult())
  }

  /** For tracing (the pg instrumentation names spans after it); built only when read. */
  get text(): string {
    return this.statements.map((s) => s.text).join(';\n')
  }

  submit(connection: WireConnection): Error | null {
    let values: unknown[][]
    try {
      // Mapped before anything is written: a value that cannot be sent fails the pipeline whole.
      values = this.statements.map((s) => (s.values ?? []).map((value) => prepareValue(value)))
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error))
    }
    const state = statementsOf(connection)
    this.state = state
    connection.stream.cork?.()
    try {
      this.statements.forEach((statement, index) => {
        const name = this.prepared ? statementName(statement.text) : ''
        if (name !== '' && state.parsing.has(name)) {
          // Parsed earlier in this very pipeline.
        } else if (name === '' || !state.parsed.delete(name)) {
          if (name !== '' && state.parsed.size >= MAX_PREPARED_PER_CONNECTION) {
            const [oldest] = state.parsed.keys()
            if (oldest !== undefined) {
              state.parsed.delete(oldest)
              connection.close({ type: 'S', name: oldest })
              state.due.push({ kind: 'close', name: oldest })
            }
          }
          connection.parse({ text: statement.text, name, types: [] })
          state.due.push({ kind: 'parse', name })
          if (name !== '') state.parsing.add(name)
        } else {
          // Parsed already: moved to the most recently used end.
          state.parsed.set(name, true)
        }
        connection.bind({ portal: '', statement: name, values: values[index]!, binary: false })
        if (statement.rows !== false) connection.describe({ type: 'P', name: '' })
        connection.execute({ portal: '', rows: 0 })
      })
      connection.sync()
    } finally {
      connection.stream.uncork?.()
    }
    return null
  }

  handleRowDescription(message: { fields: unknown[] }): void {
    this.results[this.current]?.addFields(message.fields)
  }

  handleDataRow(message: { fields: unknown[] }): void {
    const result = this.results[this.current]
    if (result === undefined || this.failure !== undefined || this.statements[this.current]!.rows === false) return
    try {
      result.addRow(result.parseRow(message.fields))
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error))
    }
  }

  handleCommandComplete(message: { text: string }): void {
    this.results[this.current]?.addCommandComplete(message)
    this.current += 1
  }

  handleEmptyQuery(): void {
    this.current += 1
  }

  handlePortalSuspended(): void {
    // Every Execute asks for all rows: a portal is never suspended.
  }

  handleCopyInResponse(connection: WireConnection): void {
    connection.sendCopyFail('no COPY in a pipeline')
  }

  handleCopyData(): void {}

  /** A server error (the server then skips to Sync: pg drops this query before the ReadyForQuery) or a lost connection. */
  handleError(error: Error): void {
    if (this.state !== undefined) settleUnacknowledged(this.state)
    this.finish(this.failure ?? error)
  }

  handleReadyForQuery(): void {
    if (this.state !== undefined) settleUnacknowledged(this.state)
    if (this.failure !== undefined) return this.finish(this.failure)
    if (this.current !== this.statements.length) return this.finish(new Error(`pipeline answered ${this.current} of ${this.statements.length} statements`))
    this.finish(null, this.results)
  }

  private finish(error: Error | null, results?: StatementResult[]): void {
    if (this.finished) return
    this.finished = true
    this.callback?.(error, results)
  }
}

/**
 * Runs the statements in order in one round trip and resolves with each one's result. Rejects with the first
 * error; the statements after it did not run. `prepared`: named statements (name derived from the SQL text),
 * parsed once per connection; off for poolers that cannot keep them (PgBouncer before 1.21).
 */
export function runPipeline(client: pg.ClientBase, statements: readonly Statement[], prepared: boolean): Promise<StatementResult[]> {
  return new Promise((resolve, reject) => {
    const pipeline = new Pipeline(statements, prepared, (error, results) => (error === null ? resolve(results ?? []) : reject(error)))
    client.query(pipeline as unknown as pg.Submittable)
  })
}
