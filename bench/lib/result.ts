import type { CpuPerRequest } from './cpu.ts'

/** One figure of the benchmark: a value measured against a baseline of the same run. */
export interface BenchResult {
  readonly name: string
  readonly value: number
  readonly baseline: number | null
  /** value / baseline (null when there is no baseline). */
  readonly ratio: number | null
  /** Human-readable target, e.g. "≥ 0.45 × direct". */
  readonly target: string
  /** Whether the target is met; null for figures that only give context. */
  readonly met: boolean | null
  readonly unit: string
  readonly context?: Readonly<Record<string, unknown>>
  /** CPU per request (or per operation) of the measured side and of its baseline, over the same intervals. */
  readonly cpu?: { readonly value: CpuPerRequest; readonly baseline?: CpuPerRequest }
  /** Why the figure could not be taken (a missing tool): then neither value nor met mean anything. */
  readonly notMeasured?: string
}

export function ratioOf(value: number, baseline: number): number {
  return baseline === 0 ? Number.NaN : value / baseline
}

export function round(value: number, digits = 3): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** A figure that must stay at or below `maxRatio` times its baseline. */
export function atMost(name: string, value: number, baseline: number, maxRatio: number, unit: string, baselineLabel: string, context?: Record<string, unknown>): BenchResult {
  const ratio = ratioOf(value, baseline)
  return { name, value: round(value), baseline: round(baseline), ratio: round(ratio), target: `≤ ${maxRatio} × ${baselineLabel}`, met: ratio <= maxRatio, unit, ...(context === undefined ? {} : { context }) }
}

/** A figure that must reach at least `minRatio` times its baseline. */
export function atLeast(name: string, value: number, baseline: number, minRatio: number, unit: string, baselineLabel: string, context?: Record<string, unknown>): BenchResult {
  const ratio = ratioOf(value, baseline)
  return { name, value: round(value), baseline: round(baseline), ratio: round(ratio), target: `≥ ${minRatio} × ${baselineLabel}`, met: ratio >= minRatio, unit, ...(context === undefined ? {} : { context }) }
}

/** A figure shown for context only (no target). */
export function info(name: string, value: number, baseline: number | null, unit: string, context?: Record<string, unknown>): BenchResult {
  const ratio = baseline === null ? null : ratioOf(value, baseline)
  return { name, value: round(value), baseline: baseline === null ? null : round(baseline), ratio: ratio === null || !Number.isFinite(ratio) ? null : round(ratio), target: '—', met: null, unit, ...(context === undefined ? {} : { context }) }
}

export function isWellFormed(result: BenchResult): boolean {
  const finiteOrNull = (v: number | null): boolean => v === null || Number.isFinite(v)
  return (
    typeof result.name === 'string' &&
    result.name.length > 0 &&
    Number.isFinite(result.value) &&
    finiteOrNull(result.baseline) &&
    finiteOrNull(result.ratio) &&
    typeof result.target === 'string' &&
    (result.met === null || typeof result.met === 'boolean')
  )
}

/** A row that could not be measured: it names its target and says why, and is never "met". */
export function notMeasured(name: string, target: string, unit: string, reason: string): BenchResult {
  return { name, value: 0, baseline: null, ratio: null, target, met: null, unit, notMeasured: reason }
}

/** The same figure with CPU per request beside it. */
export function withCpu(result: BenchResult, value: CpuPerRequest | undefined, baseline?: CpuPerRequest): BenchResult {
  return value === undefined ? result : { ...result, cpu: { value, ...(baseline === undefined ? {} : { baseline }) } }
}
