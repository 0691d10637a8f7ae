// `scimgate dev` runs each tier as its own process, as deploy/ does: the
// gateway and one node per region. The supervisor starts them, prefixes their
// output with their name, restarts one that dies (with backoff) without
// touching the others, and stops them all gracefully.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

/** What a child announces once it listens (`process.send` from the gateway and node commands). */
export interface ReadyMessage {
  readonly type: 'ready'
  readonly url: string
  readonly adminUrl?: string
  readonly opsUrl?: string
}

export interface ProcessSpec {
  /** Shown before every line of the process's output. */
  readonly name: string
  readonly command: string
  readonly args: readonly string[]
  readonly env: Readonly<Record<string, string | undefined>>
}

export interface SupervisedProcess {
  readonly name: string
  /** The running child's pid; undefined between a crash and its restart. */
  readonly pid: number | undefined
  /** The latest ready announcement (of the current or a previous run). */
  readonly ready: ReadyMessage | undefined
  /**
   * Resolves with the next ready announcement (the first one, or the one after a restart). Rejects when
   * the process exits before it was ever ready: failing to come up at start is not restarted.
   */
  nextReady(): Promise<ReadyMessage>
}

export interface SupervisorOptions {
  readonly print: (line: string) => void
  /** First restart delay; doubles after each crash that follows a short run, up to maxBackoffMs. */
  readonly initialBackoffMs?: number
  readonly maxBackoffMs?: number
  /** How long a stopping child may drain before it is killed. */
  readonly stopGraceMs?: number
}

export interface Supervisor {
  start(spec: ProcessSpec): SupervisedProcess
  /** Every process started, by name. */
  readonly processes: ReadonlyMap<string, SupervisedProcess>
  /** SIGTERM to every child (in reverse start order), SIGKILL after the grace period. */
  stopAll(): Promise<void>
}

/** A run that lasted this long counts as healthy: the next crash restarts after the initial delay again. */
const STABLE_RUN_MS = 10_000

export function createSupervisor(options: SupervisorOptions): Supervisor {
  const initialBackoffMs = options.initialBackoffMs ?? 250
  const maxBackoffMs = options.maxBackoffMs ?? 5_000
  const stopGraceMs = options.stopGraceMs ?? 15_000
  const entries: Entry[] = []
  const processes = new Map<string, SupervisedProcess>()
  let stopping = false

  interface Entry {
    readonly spec: ProcessSpec
    child: ChildProcess | undefined
    ready: ReadyMessage | undefined
    waiters: { resolve: (message: ReadyMessage) => void; reject: (error: Error) => void }[]
    backoffMs: number
    restartTimer: NodeJS.Timeout | undefined
    exited: Promise<void>
  }

  const prefix = (name: string): string => `${name.padEnd(8)}| `

  function launch(entry: Entry): void {
    const { spec } = entry
    const startedAt = Date.now()
    // Own process group: a terminal's Ctrl-C reaches only the supervisor, which stops the children in order.
    const child = spawn(spec.command, [...spec.args], { env: { ...spec.env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true })
    entry.child = child
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream }).on('line', (line) => options.print(prefix(spec.name) + line))
    }
    child.on('message', (message: unknown) => {
      if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'ready') return
      entry.ready = message as ReadyMessage
      for (const waiter of entry.waiters.splice(0)) waiter.resolve(entry.ready)
    })
    child.on('error', (error) => options.print(`${prefix(spec.name)}could not start: ${error.message}`))
    entry.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        entry.child = undefined
        resolve()
        if (stopping) return
        const how = signal ?? `code ${code}`
        if (entry.ready === undefined) {
          options.print(`${prefix(spec.name)}exited (${how}) before it was ready`)
          for (const waiter of entry.waiters.splice(0)) waiter.reject(new Error(`${spec.name} exited (${how}) before it was ready`))
          return
        }
        const ranMs = Date.now() - startedAt
        if (ranMs >= STABLE_RUN_MS) entry.backoffMs = initialBackoffMs
        const delay = entry.backoffMs
        entry.backoffMs = Math.min(entry.backoffMs * 2, maxBackoffMs)
        options.print(`${prefix(spec.name)}exited (${how}); restarting in ${delay} ms`)
        entry.restartTimer = setTimeout(() => {
          entry.restartTimer = undefined
          if (!stopping) launch(entry)
        }, delay)
      }),
    )
  }

  async function stop(entry: Entry): Promise<void> {
    if (entry.restartTimer !== undefined) clearTimeout(entry.restartTimer)
    const child = entry.child
    if (child === undefined) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs)
    await entry.exited
    clearTimeout(killer)
  }

  return {
    start(spec) {
      const entry: Entry = { spec, child: undefined, ready: undefined, waiters: [], backoffMs: initialBackoffMs, restartTimer: undefined, exited: Promise.resolve() }
      entries.push(entry)
      launch(entry)
      const supervised: SupervisedProcess = {
        name: spec.name,
        get pid() {
          return entry.child?.pid
        },
        get ready() {
          return entry.ready
        },
        nextReady: () => new Promise((resolve, reject) => entry.waiters.push({ resolve, reject })),
      }
      processes.set(spec.name, supervised)
      return supervised
    },
    processes,
    async stopAll() {
      stopping = true
      for (const entry of [...entries].reverse()) await stop(entry)
    },
  }
}
