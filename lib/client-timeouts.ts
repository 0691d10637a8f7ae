import type { FastifyServerOptions } from 'fastify'

/** How long a client may take to send its request; both tiers stay well under the identity providers' 60 s. */
export interface ClientTimeouts {
  /** Until the last request header has arrived (slow-loris headers). */
  readonly headersMs: number
  /** Until the whole request, body included, has arrived (slow bodies). */
  readonly requestMs: number
}

export const DEFAULT_CLIENT_TIMEOUTS: ClientTimeouts = Object.freeze({ headersMs: 10_000, requestMs: 30_000 })

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
