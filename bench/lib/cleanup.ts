const active = new Set<Cleanup>()

/** Runs every cleanup not yet run (on SIGINT, so databases and processes do not outlive an interrupted run). */
export async function runAllCleanups(): Promise<void> {
  for (const cleanup of [...active].reverse()) await cleanup.run()
}

/** Collects teardowns (the `t.teardown` shape of test/helpers) and runs them last-in first-out, even after a failure. */
export class Cleanup {
  readonly #tasks: (() => unknown)[] = []

  constructor() {
    active.add(this)
  }

  teardown(fn: () => unknown): void {
    this.#tasks.push(fn)
  }

  async run(onError: (error: unknown) => void = (error) => process.stderr.write(`[bench] cleanup failed: ${String(error)}\n`)): Promise<void> {
    active.delete(this)
    while (this.#tasks.length > 0) {
      const task = this.#tasks.pop()!
      try {
        await task()
      } catch (error) {
        onError(error)
      }
    }
  }
}
