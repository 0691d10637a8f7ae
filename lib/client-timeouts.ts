import type { FastifyServerOptions } from 'fastify'
import type { ClientTimeouts } from '../config/process-settings.ts'

/**
 * fastify's server options for the timeouts: fastify's own requestTimeout is 0 (off) by default, and Node checks
 * its timers only every 30 s unless told otherwise, which would let a slow client hold a socket that much longer.
 */
export function clientTimeoutOptions(timeouts: ClientTimeouts): Pick<FastifyServerOptions, 'requestTimeout'> & { http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } } {
  return {
    requestTimeout: timeouts.requestMs,
    http: {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs),
    },
  }
}
