// Child processes of the benchmark announce themselves with one line on stdout
// and exit cleanly on SIGTERM (so `--cpu-prof` gets to write its profile).
export const READY_PREFIX = 'BENCH-READY '

export function announceReady(details: Record<string, unknown>): void {
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(details)}\n`)
}

export function exitOnSignal(close: () => Promise<unknown>): void {
  let closing = false
  const stop = (): void => {
    if (closing) return
    closing = true
    const timer = setTimeout(() => process.exit(0), 5_000)
    timer.unref()
    close().finally(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // The parent died: do not linger.
  process.on('disconnect', stop)
}

export function readConfig<T>(): T {
  const text = process.env.BENCH_PROCESS_CONFIG
  if (text === undefined) throw new Error('BENCH_PROCESS_CONFIG is not set')
  return JSON.parse(text) as T
}
