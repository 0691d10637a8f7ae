// Settings every process has besides its own: the ops listener and the
// shutdown grace period.
import { ConfigError } from './config-error.ts'

export const DEFAULT_GATEWAY_OPS_PORT = 9464
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000

/** Region nodes default to 9465 + the region's position in the catalog, so every node of `scimgate dev` has its own. */
export function defaultNodeOpsPort(regionIndex: number): number {
  return DEFAULT_GATEWAY_OPS_PORT + 1 + regionIndex
}

/** How long a client may take to send its request; both tiers stay well under the identity providers' 60 s. */
export interface ClientTimeouts {
  /** Until the last request header has arrived (slow-loris headers). */
  readonly headersMs: number
  /** Until the whole request, body included, has arrived (slow bodies). */
  readonly requestMs: number
}

export const DEFAULT_CLIENT_TIMEOUTS: ClientTimeouts = Object.freeze({ headersMs: 10_000, requestMs: 30_000 })

export interface OpsListen {
  readonly host: string
  readonly port: number
}

/** OPS_HOST (default HOST, else 127.0.0.1) and OPS_PORT (`off` disables the ops listener; 0 = any free port). */
export function opsListenFromEnv(env: Readonly<Record<string, string | undefined>>, defaultPort: number): OpsListen | undefined {
  const text = env.OPS_PORT?.trim() ?? ''
  if (text.toLowerCase() === 'off') return undefined
  const port = text === '' ? defaultPort : Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('environment', ['OPS_PORT: must be a port number (0-65535) or off'])
  const host = env.OPS_HOST?.trim() || env.HOST?.trim() || '127.0.0.1'
  return { host, port }
}

/** SHUTDOWN_GRACE_MS (default 10 s): how long in-flight requests may take to finish on SIGTERM before the process exits anyway. */
export function shutdownGraceMsFromEnv(env: Readonly<Record<string, string | undefined>>): number {
  const text = env.SHUTDOWN_GRACE_MS?.trim() ?? ''
  const ms = text === '' ? DEFAULT_SHUTDOWN_GRACE_MS : Number(text)
  if (!Number.isInteger(ms) || ms < 0 || ms > 600_000) throw new ConfigError('environment', ['SHUTDOWN_GRACE_MS: must be a whole number of milliseconds up to 600000'])
  return ms
}
