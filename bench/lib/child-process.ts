import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { typeScriptNodeArgs } from '../../lib/typescript-runtime.js'
import { READY_PREFIX } from '../processes/ready.ts'

export interface BenchChild {
  readonly name: string
  readonly details: Record<string, unknown>
  /** The server process itself (for its CPU in /proc). */
  readonly pid: number
  stop(): Promise<void>
}

/** Where `--cpu-prof` profiles go when BENCH_CPU_PROF=1. */
export const PROFILE_DIR = fileURLToPath(new URL('../results/profiles/', import.meta.url))

/**
 * Runs one of bench/processes/*.ts as bin/scimgate.js runs the product (Node's type stripping, else tsx) and waits for its ready line.
 * Its stderr is passed through; BENCH_CPU_PROF=1 profiles every child.
 */
export async function startChild(name: string, script: string, config: unknown, timeoutMs = 30_000): Promise<BenchChild> {
  const profiling = process.env.BENCH_CPU_PROF === '1'
  // One directory per child: a loader thread (tsx's, or import-in-the-middle's with tracing on) writes a profile of its own next to the main thread's.
  const profileDir = `${PROFILE_DIR}${name}-${Date.now()}`
  if (profiling) mkdirSync(profileDir, { recursive: true })
  const flags = profiling ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []
  const child = spawn(process.execPath, [...typeScriptNodeArgs(), ...flags, fileURLToPath(new URL(`../processes/${script}`, import.meta.url))], {
    env: { ...process.env, BENCH_PROCESS_CONFIG: JSON.stringify(config), NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  const details = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => fail(new Error(`${name} did not start within ${timeoutMs} ms`)), timeoutMs)
    function fail(error: Error): void {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(error)
    }
    child.once('exit', (code) => fail(new Error(`${name} exited with ${code} before it was ready`)))
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const line = buffered.split('\n').find((l) => l.startsWith(READY_PREFIX))
      if (line === undefined) return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      resolve(JSON.parse(line.slice(READY_PREFIX.length)) as Record<string, unknown>)
    })
  })
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout!.resume()
  return { name, details, pid: child.pid!, stop: () => stopChild(child) }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', () => {
      clearTimeout(killer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
