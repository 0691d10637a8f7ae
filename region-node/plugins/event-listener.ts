import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import { createEventWaker, type EventWaker } from '../events/event-waker.ts'
import { EVENT_CHANNEL } from '../storage/events-store.ts'

declare module 'fastify' {
  interface FastifyInstance {
    eventWaker: EventWaker
  }
}

export interface EventListenerOptions {
  /** A direct session (LISTEN does not survive PgBouncer's transaction pooling). */
  readonly url: string
  readonly connectTimeoutMs: number
}

const MAX_BACKOFF_MS = 10_000

/**
 * One LISTEN connection per node wakes the feed's long-poll readers when a
 * transaction that appended events of their tenant commits (NOTIFY is sent at
 * commit). It reconnects by itself; after a reconnect every reader re-reads,
 * since notifications sent meanwhile are lost.
 */
export const eventListener = fp(
  async (app: FastifyInstance, options: EventListenerOptions) => {
    const waker = createEventWaker()
    app.decorate('eventWaker', waker)
    let client: pg.Client | undefined
    let closing = false
    let backoffMs = 250
    let retry: NodeJS.Timeout | undefined

    const scheduleReconnect = (): void => {
      if (closing || retry !== undefined) return
      retry = setTimeout(() => {
        retry = undefined
        void connect()
      }, backoffMs)
      retry.unref()
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS)
    }

    async function connect(): Promise<void> {
      const candidate = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: options.connectTimeoutMs, application_name: 'scimgate-event-listener', keepAlive: true })
      const lost = (): void => {
        if (client === candidate) client = undefined
        candidate.removeAllListeners('notification')
        void candidate.end().catch(() => undefined)
        scheduleReconnect()
      }
      candidate.on('error', (error) => {
        app.log.warn({ err: error }, 'event listener connection failed; reconnecting')
        lost()
      })
      candidate.on('end', lost)
      candidate.on('notification', (message) => {
        if (message.channel === EVENT_CHANNEL && message.payload !== undefined) waker.wake(message.payload)
      })
      try {
        await candidate.connect()
        await candidate.query(`LISTEN ${EVENT_CHANNEL}`)
      } catch (error) {
        app.log.warn({ err: error }, 'event listener could not connect; retrying')
        lost()
        return
      }
      if (closing) {
        await candidate.end().catch(() => undefined)
        return
      }
      client = candidate
      backoffMs = 250
      waker.wakeAll()
    }

    void connect()
    // Long-poll readers return at once when the node shuts down.
    app.addHook('preClose', async () => {
      closing = true
      waker.close()
    })
    app.addHook('onClose', async () => {
      clearTimeout(retry)
      const current = client
      client = undefined
      if (current !== undefined) {
        current.removeAllListeners('end')
        await current.end().catch(() => undefined)
      }
    })
  },
  { name: 'event-listener' },
)
