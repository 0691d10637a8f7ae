import { useCallback, useEffect, useState } from 'preact/hooks'

export type Loaded<T> = { state: 'loading' } | { state: 'done'; value: T } | { state: 'failed'; error: unknown }

/** Runs `load` whenever a key changes; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, keys: readonly unknown[]): [Loaded<T>, () => void] {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' })
  const [round, setRound] = useState(0)
  useEffect(() => {
    let current = true
    setResult({ state: 'loading' })
    load().then(
      (value) => current && setResult({ state: 'done', value }),
      (error: unknown) => current && setResult({ state: 'failed', error }),
    )
    return () => {
      current = false
    }
  }, [...keys, round])
  return [result, useCallback(() => setRound((r) => r + 1), [])]
}
