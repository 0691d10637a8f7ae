// CPU per request from /proc: utime + stime of the processes under test and of
// the PostgreSQL backends serving the bench's database, over the same interval
// as the requests it is divided by. On two shared cores this is the steadier
// figure beside a throughput.
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import type pg from 'pg'

let ticksPerSecond: number | undefined
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** utime + stime of one process in clock ticks; undefined when it is gone or not visible. */
function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return undefined
  }
}

/** The pid and its children (nginx's master and workers). */
export function withChildren(pid: number): number[] {
  const pids = [pid]
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

export interface CpuPerRequest {
  /** Milliseconds of CPU of the processes under test per request. */
  readonly processMs: number
  /** Milliseconds of CPU of the database's PostgreSQL backends per request; null when they are not visible here. */
  readonly postgresMs: number | null
}

interface Snapshot {
  readonly processes: number
  readonly backends: Map<number, number> | null
}

/** What is measured: the processes under test, and the database whose backends count. */
export interface CpuScope {
  readonly pids: () => readonly number[]
  /** A pool on the bench database: its backends are found in pg_stat_activity. */
  readonly database: pg.Pool
}

async function backendTicks(database: pg.Pool): Promise<Map<number, number> | null> {
  const { rows } = await database.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
  const ticks = new Map<number, number>()
  for (const { pid } of rows) {
    const value = processTicks(pid)
    if (value !== undefined) ticks.set(pid, value)
  }
  return rows.length > 0 && ticks.size === 0 ? null : ticks
}

async function snapshot(scope: CpuScope): Promise<Snapshot> {
  const processes = scope.pids().reduce((sum, pid) => sum + (processTicks(pid) ?? 0), 0)
  return { processes, backends: await backendTicks(scope.database) }
}

/** Starts measuring; `stop(requests)` gives CPU per request over the interval. */
export async function startCpu(scope: CpuScope): Promise<{ stop(requests: number): Promise<CpuPerRequest> }> {
  const before = await snapshot(scope)
  return {
    async stop(requests) {
      const after = await snapshot(scope)
      const ms = (ticks: number): number => (ticks * 1000) / clockTicks() / Math.max(1, requests)
      let postgres: number | null = null
      if (before.backends !== null && after.backends !== null) {
        // A backend that appeared meanwhile counts whole; one that ended meanwhile is lost (pools keep theirs open).
        let ticks = 0
        for (const [pid, value] of after.backends) ticks += value - (before.backends.get(pid) ?? 0)
        postgres = ms(ticks)
      }
      return { processMs: ms(after.processes - before.processes), postgresMs: postgres }
    },
  }
}
