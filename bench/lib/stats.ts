export interface LatencyStats {
  readonly samples: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly mean: number
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index]!
}

export function latencyStats(millis: readonly number[]): LatencyStats {
  const sorted = [...millis].sort((a, b) => a - b)
  const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length)
  return { samples: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), mean }
}

export function median(values: readonly number[]): number {
  return latencyStats(values).p50
}

/**
 * The order in which round `round` (1-based) runs the sides it compares: as given in odd rounds, reversed in even
 * ones. The side that runs second in a round pays more (the caches and the autovacuum debt of the first), so a fixed
 * order would favour one side in every round.
 */
export function roundOrder<T>(sides: readonly T[], round: number): readonly T[] {
  return round % 2 === 1 ? sides : [...sides].reverse()
}
