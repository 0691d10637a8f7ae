// A region node or gateway as its own process (`node bin/scimgate.js node|gateway`),
// as deployed, so a test can kill -9 or SIGTERM it. It reports where it listens
// over the IPC channel (cli/announce-ready.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Teardown } from './system.ts'

const CLI = fileURLToPath(new URL('../../bin/scimgate.js', import.meta.url))

export interface ScimgateProcess {
  readonly url: string
  readonly pid: number
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>
  signal(name: NodeJS.Signals): void
}

export async function startScimgateProcess(t: Teardown, args: readonly string[], env: Record<string, string>): Promise<ScimgateProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', OPS_PORT: 'off', SCIMGATE_DEV_SECRETS: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return exited
  })
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: { type?: string; url?: string }) => {
      if (message.type === 'ready' && message.url !== undefined) resolve(message.url)
    })
    void exited.then(([code, signal]) => reject(new Error(`scimgate ${args.join(' ')} exited (${signal ?? code}) before it was ready: ${stderr}`)))
  })
  return { url, pid: child.pid!, exited, signal: (name) => child.kill(name) }
}
