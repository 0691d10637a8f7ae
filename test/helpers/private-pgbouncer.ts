// A private PgBouncer in transaction pooling mode (Debian's pgbouncer on a free
// port, started by the test) in front of a PostgreSQL server, as operators run
// it. It runs as the `postgres` system user when the tests run as root
// (pgbouncer refuses root).
import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './free-port.ts'

export interface PgBouncer {
  readonly port: number
  /** The same database URL, through PgBouncer. */
  via(databaseUrl: string): string
  /** kill -9 / start again on the same port. */
  kill(): Promise<void>
  restart(): Promise<void>
  stop(): Promise<void>
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export async function startPgBouncer(target: { host: string; port: number }, options: { poolSize?: number } = {}): Promise<PgBouncer> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'scimgate-pgbouncer-'))
  await chmod(dir, 0o755)
  const users = join(dir, 'users.txt')
  const config = join(dir, 'pgbouncer.ini')
  await writeFile(users, '"postgres" ""\n', { mode: 0o644 })
  await writeFile(
    config,
    [
      '[databases]',
      `* = host=${target.host} port=${target.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      'max_client_conn = 1000',
      `default_pool_size = ${options.poolSize ?? 20}`,
      // node-postgres sends none of the others; `options` (startup settings) stays refused on purpose.
      'ignore_startup_parameters = extra_float_digits',
      'server_connect_timeout = 2',
      'server_login_retry = 1',
      'query_wait_timeout = 10',
      '',
    ].join('\n'),
    { mode: 0o644 },
  )
  const args = [...(process.getuid?.() === 0 ? ['-u', 'postgres'] : []), config]
  let child: ChildProcess
  const start = async (): Promise<void> => {
    const started = spawn('pgbouncer', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    child = started
    // The test process must be able to end; its 'exit' handler below stops the bouncer.
    child.unref()
    // Its log says whether it listens: a port taken while it was down (by anything that answers) makes it
    // exit with "nowhere to listen on", which would otherwise leave a test waiting out its bounds on 503s.
    const log = started.stderr as net.Socket
    let head = ''
    const listening = new Promise<boolean>((resolve) => {
      // Read on all along: a full pipe would stop the bouncer.
      log.on('data', (chunk: Buffer) => {
        if (head.length < 4_000) head += chunk.toString('utf8')
        if (head.includes(`listening on 127.0.0.1:${port}`)) resolve(true)
      })
      started.once('exit', () => resolve(false))
    })
    const listens = await listening
    log.unref()
    if (!listens) throw new Error(`pgbouncer did not start on port ${port}: ${head}`)
    for (let attempt = 0; attempt < 100 && !(await answers(port)); attempt++) await sleep(50)
  }
  // Waiting for the exit keeps the test process alive (the child itself is unref'd): with nothing else
  // pending, a teardown waiting on an unref'd child would let the process end mid-teardown.
  const exited = (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
    child.ref()
    return new Promise((resolve) => child.once('exit', () => resolve()))
  }
  await start()
  const bouncer: PgBouncer = {
    port,
    via(databaseUrl) {
      const url = new URL(databaseUrl)
      url.hostname = '127.0.0.1'
      url.port = String(port)
      return url.toString()
    },
    async kill() {
      child.kill('SIGKILL')
      await exited()
    },
    restart: start,
    async stop() {
      child.kill('SIGTERM')
      await exited()
      await rm(dir, { recursive: true, force: true })
    },
  }
  // A test process that ends without its teardown must not leave the bouncer behind.
  process.once('exit', () => child.kill('SIGKILL'))
  return bouncer
}
