/** Progress on stderr: one rewritten line on a terminal, a line per ~10 % otherwise. */
export interface Progress {
  step(label: string): void
  count(label: string, done: number, total: number): void
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, enabled = true): Progress {
  const started = Date.now()
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`
  let lastDecile = new Map<string, number>()
  return {
    step(label) {
      if (!enabled) return
      if (stream.isTTY) stream.write('\r\x1b[K')
      stream.write(`[bench ${elapsed()}] ${label}\n`)
      lastDecile = new Map()
    },
    count(label, done, total) {
      if (!enabled) return
      const percent = total === 0 ? 100 : Math.floor((done / total) * 100)
      const line = `[bench ${elapsed()}] ${label}: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${percent}%)`
      if (stream.isTTY) {
        stream.write(`\r\x1b[K${line}${done >= total ? '\n' : ''}`)
        return
      }
      const decile = Math.floor(percent / 10)
      if (lastDecile.get(label) !== decile) {
        lastDecile.set(label, decile)
        stream.write(`${line}\n`)
      }
    },
  }
}

export const silentProgress: Progress = { step: () => undefined, count: () => undefined }
