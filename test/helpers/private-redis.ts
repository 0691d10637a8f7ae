// Private Redis topologies for tests that need faults: Debian's redis-server
// and redis-sentinel started on free ports under a temporary folder, never the
// shared server on 6379. Every process is stopped at teardown.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, freePortPair } from './free-port.ts'

export interface Teardown {
  teardown(fn: () => unknown): void
}

export interface RedisProcess {
  readonly port: number
  readonly url: string
  /** kill -9: the server dies without a word. */
  kill(): Promise<void>
  /** Starts it again on the same port and folder (after kill or stop). */
  restart(): Promise<void>
  stop(): Promise<void>
}

/** Sends one inline command and resolves with the first reply line (`+PONG`, `-ERR …`), or undefined if nothing answers. */
export function redisCommand(port: number, command: string, timeoutMs = 1_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let reply = ''
    const done = (value: string | undefined): void => {
      socket.destroy()
      resolve(value)
    }
    socket.setTimeout(timeoutMs, () => done(undefined))
    socket.once('error', () => done(undefined))
    socket.on('connect', () => socket.write(`${command}\r\n`))
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8')
      if (reply.includes('\r\n')) done(reply.slice(0, reply.indexOf('\r\n')))
    })
  })
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(50)
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`)
}

async function startProcess(command: string, args: readonly string[], port: number): Promise<ChildProcess> {
  const child = spawn(command, [...args], { stdio: 'ignore' })
  await waitUntil(`${command} on ${port}`, async () => (await redisCommand(port, 'PING', 300)) === '+PONG')
  return child
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function makeFolder(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scimgate-redis-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A redis-server or redis-sentinel process that can be killed, stopped and started again with the same arguments. */
async function startRedisProcess(command: string, args: readonly string[], port: number): Promise<RedisProcess> {
  let child = await startProcess(command, args, port)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      child.kill('SIGKILL')
      await exited(child)
    },
    async restart() {
      child = await startProcess(command, args, port)
    },
    async stop() {
      child.kill('SIGTERM')
      await exited(child)
    },
  }
}

/** One redis-server; `extraArgs` are redis.conf directives as command-line options (`--replicaof`, `--cluster-enabled`, …). */
export async function startRedisServer(t: Teardown, options: { port?: number; dir?: string; extraArgs?: readonly string[] } = {}): Promise<RedisProcess> {
  const port = options.port ?? (await freePort())
  const dir = options.dir ?? (await makeFolder(t))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', `dump-${port}.rdb`, ...(options.extraArgs ?? [])]
  const server = await startRedisProcess('redis-server', args, port)
  t.teardown(() => server.kill())
  return server
}

export interface SentinelGroup {
  readonly masterName: string
  readonly servers: readonly RedisProcess[]
  readonly sentinels: readonly RedisProcess[]
  /** REDIS_SENTINELS / REDIS_SENTINEL_NAME for a gateway. */
  readonly env: Readonly<Record<string, string>>
  /** The port the sentinels currently name as primary. */
  primaryPort(): Promise<number>
  /** SENTINEL FAILOVER, resolved once the sentinels name the other server. */
  failover(): Promise<void>
  /** kill -9 of the current primary, resolved once the sentinels have promoted the replica (the old one stays down). */
  killPrimary(): Promise<RedisProcess>
}

/** One primary, one replica, three sentinels (quorum 2), with short timeouts so a failover takes a few seconds. */
export async function startSentinelGroup(t: Teardown, masterName = 'scimgate'): Promise<SentinelGroup> {
  const dir = await makeFolder(t)
  const primary = await startRedisServer(t, { dir })
  const replica = await startRedisServer(t, { dir, extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] })
  await waitUntil('replication link', async () => ((await redisInfo(replica.port, 'replication')) ?? '').includes('master_link_status:up'))
  const servers = [primary, replica]
  const sentinels: RedisProcess[] = []
  for (let index = 0; index < 3; index++) {
    const port = await freePort()
    const file = join(dir, `sentinel-${port}.conf`)
    await writeFile(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 4000`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'),
    )
    const sentinel = await startRedisProcess('redis-sentinel', [file], port)
    t.teardown(() => sentinel.kill())
    sentinels.push(sentinel)
  }

  const primaryPort = async (): Promise<number> => {
    const reply = spawnSync('redis-cli', ['-p', String(sentinels[0]!.port), '--raw', 'SENTINEL', 'get-master-addr-by-name', masterName], { encoding: 'utf8' })
    return Number(reply.stdout.trim().split('\n')[1])
  }
  // Every sentinel must know the replica and the other sentinels before a failover can be agreed on.
  await waitUntil('sentinels agree', async () => {
    const views = sentinels.map((s) => spawnSync('redis-cli', ['-p', String(s.port), '--raw', 'SENTINEL', 'master', masterName], { encoding: 'utf8' }).stdout)
    return views.every((view) => /\nnum-slaves\n1\n/.test(view) && /\nnum-other-sentinels\n2\n/.test(view))
  }, 20_000)

  const waitForPrimaryOtherThan = (port: number): Promise<void> =>
    waitUntil('failover', async () => {
      const now = await primaryPort()
      return now !== port && (await redisCommand(now, 'PING')) === '+PONG' && ((await redisInfo(now, 'replication')) ?? '').includes('role:master')
    }, 20_000)

  return {
    masterName,
    servers,
    sentinels,
    env: { REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','), REDIS_SENTINEL_NAME: masterName },
    primaryPort,
    async failover() {
      const before = await primaryPort()
      spawnSync('redis-cli', ['-p', String(sentinels[0]!.port), 'SENTINEL', 'FAILOVER', masterName])
      await waitForPrimaryOtherThan(before)
    },
    async killPrimary() {
      const before = await primaryPort()
      // As an operator would: only a group whose replica is in sync survives losing its primary.
      const replica = servers.find((s) => s.port !== before)!
      await waitUntil('replica in sync', async () => ((await redisInfo(replica.port, 'replication')) ?? '').includes('master_link_status:up'), 20_000)
      const victim = servers.find((s) => s.port === before)!
      await victim.kill()
      await waitForPrimaryOtherThan(before)
      return victim
    },
  }
}

function redisInfo(port: number, section: string): Promise<string | undefined> {
  const reply = spawnSync('redis-cli', ['-p', String(port), 'INFO', section], { encoding: 'utf8', timeout: 2_000 })
  return Promise.resolve(reply.status === 0 ? reply.stdout : undefined)
}

export interface RedisCluster {
  readonly nodes: readonly RedisProcess[]
  /** REDIS_CLUSTER_NODES for a gateway. */
  readonly env: Readonly<Record<string, string>>
  /** The hash slot of a key (CLUSTER KEYSLOT). */
  keySlot(key: string): number
}

/** Three primaries, no replicas, slots spread by redis-cli --cluster create. */
export async function startRedisCluster(t: Teardown): Promise<RedisCluster> {
  const dir = await makeFolder(t)
  const nodes: RedisProcess[] = []
  for (let index = 0; index < 3; index++) {
    const port = await freePortPair(10_000)
    nodes.push(await startRedisServer(t, { port, dir, extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'] }))
  }
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 })
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`)
  await waitUntil('cluster state ok', async () => nodes.every((n) => spawnSync('redis-cli', ['-p', String(n.port), 'CLUSTER', 'INFO'], { encoding: 'utf8' }).stdout.includes('cluster_state:ok')))
  return {
    nodes,
    env: { REDIS_CLUSTER_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(',') },
    keySlot: (key) => Number(spawnSync('redis-cli', ['-p', String(nodes[0]!.port), 'CLUSTER', 'KEYSLOT', key], { encoding: 'utf8' }).stdout.trim()),
  }
}
