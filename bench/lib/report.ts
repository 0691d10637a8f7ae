import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import type { CpuPerRequest } from './cpu.ts'
import type { BenchResult } from './result.ts'

export interface MachineInfo {
  readonly cpus: number
  readonly cpuModel: string
  readonly memory: string
  readonly node: string
  readonly postgres: string
  readonly redis: string
}

function tryRun(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return 'unknown'
  }
}

export function machineInfo(postgresVersion: string): MachineInfo {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    postgres: postgresVersion,
    redis: tryRun('redis-server', ['--version']).split(' ').find((part) => part.startsWith('v='))?.slice(2) ?? 'unknown',
  }
}

function formatNumber(value: number | null, unit = ''): string {
  if (value === null) return '—'
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2
  const text = value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
  return unit === '' ? text : `${text} ${unit}`
}

function formatCpu(cpu: CpuPerRequest | undefined): string {
  if (cpu === undefined) return ''
  const ms = (v: number): string => (v >= 10 ? v.toFixed(1) : v.toFixed(3))
  return `${ms(cpu.processMs)} + ${cpu.postgresMs === null ? '?' : ms(cpu.postgresMs)} ms`
}

/**
 * The results as one Markdown table (also readable on a terminal), pasteable into the README: CPU per
 * request is the processes under test + their PostgreSQL backends, for the value and for the baseline.
 */
export function formatTable(results: readonly BenchResult[], heading: string): string {
  const rows = results.map((r) =>
    r.notMeasured !== undefined
      ? [r.name, 'not measured', '—', '—', r.target, 'not measured', '', '']
      : [
          r.name,
          formatNumber(r.value, r.unit),
          formatNumber(r.baseline, r.baseline === null ? '' : r.unit),
          r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
          r.target,
          r.met === null ? '' : r.met ? 'yes' : 'NO',
          formatCpu(r.cpu?.value),
          formatCpu(r.cpu?.baseline),
        ],
  )
  const header = ['benchmark', 'value', 'baseline', 'ratio', 'target', 'met', 'CPU/req (process + PG)', 'baseline CPU/req']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  const notes = results.filter((r) => r.notMeasured !== undefined).map((r) => `- not measured: ${r.name}: ${r.notMeasured}`)
  return [heading, '', line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n')
}

export function writeResults(directory: string, results: readonly BenchResult[], run: Record<string, unknown>): string {
  mkdirSync(directory, { recursive: true })
  const file = `${directory}/latest.json`
  writeFileSync(file, `${JSON.stringify(results.map((r) => ({ ...r, mode: run.mode })), null, 2)}\n`)
  writeFileSync(`${directory}/latest-run.json`, `${JSON.stringify({ ...run, results }, null, 2)}\n`)
  return file
}
