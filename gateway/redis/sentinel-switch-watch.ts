// Moves a Sentinel-mode connection to the new primary as soon as the
// sentinels announce a switch (+switch-master). Without it a connection stays
// on a primary demoted by SENTINEL FAILOVER until Sentinel converts that
// server into a replica and disconnects its clients, which may take seconds:
// writes made there meanwhile are lost when it resynchronises from the new
// primary.
//
// ioredis's own `failoverDetector` does the same but, in ioredis 6.0.0, a
// switch announced while the client is reconnecting (asking the sentinels for
// the primary, as after a kill -9) closes the connector under the pending
// connect and the client ends for good ('end': no retry, every command fails).
// Here a connection is only ever reconnected when it is ready: one that is
// reconnecting asks the sentinels anyway, and is checked once it is ready.
import { Redis } from 'ioredis'
import { reconnectDelay } from './reconnect-delay.ts'

const SWITCH_CHANNEL = '+switch-master'

export interface SentinelSwitchWatchOptions {
  readonly sentinels: readonly { host: string; port: number }[]
  /** The monitored primary's name (`sentinel monitor <name> …`). */
  readonly name: string
  readonly onError: (error: Error) => void
}

const normalise = (address: string | undefined): string | undefined => address?.replace(/^::ffff:/, '')

/** Address of the server a ready connection talks to, as `host:port`. */
function serverOf(connection: Redis): string | undefined {
  const stream = connection.stream as { remoteAddress?: string; remotePort?: number } | undefined
  return stream?.remoteAddress === undefined ? undefined : `${normalise(stream.remoteAddress)}:${stream.remotePort}`
}

/** Subscribes to every sentinel's +switch-master; returns the function that stops it. */
export function watchSentinelSwitches(connection: Redis, options: SentinelSwitchWatchOptions): () => void {
  let announced: string | undefined
  /** A switch was announced while the connection was not ready: check where it landed once it is. */
  let checkWhenReady = false

  const moveIfElsewhere = (): void => {
    const server = serverOf(connection)
    if (announced !== undefined && server !== undefined && server !== announced) connection.disconnect(true)
  }

  const onSwitch = (channel: string, message: string): void => {
    // "<name> <old-ip> <old-port> <new-ip> <new-port>"
    const [name, , , host, port] = message.split(' ')
    if (channel !== SWITCH_CHANNEL || name !== options.name || host === undefined || port === undefined) return
    announced = `${normalise(host)}:${port}`
    if (connection.status === 'ready') moveIfElsewhere()
    else checkWhenReady = true
  }

  const watchers = options.sentinels.map((sentinel) => {
    const watcher = new Redis({
      host: sentinel.host,
      port: sentinel.port,
      connectionName: 'scimgate-switch-watch',
      retryStrategy: (times) => reconnectDelay(times),
      autoResubscribe: true,
      enableReadyCheck: false,
    })
    watcher.on('error', options.onError)
    watcher.on('message', onSwitch)
    // Queued until connected; resubscribed after every reconnection.
    watcher.subscribe(SWITCH_CHANNEL).catch(options.onError)
    return watcher
  })

  const onReady = (): void => {
    if (!checkWhenReady) return
    checkWhenReady = false
    moveIfElsewhere()
  }
  connection.on('ready', onReady)
  return () => {
    connection.off('ready', onReady)
    for (const watcher of watchers) watcher.disconnect()
  }
}
