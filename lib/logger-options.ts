import type { FastifyServerOptions } from 'fastify'

/** Never log credentials: the provisioning token and the internal identity are redacted wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-scimgate-identity"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-scimgate-identity"]',
  'authorization',
  'token',
]

export function loggerOptions(level: string, name: string): FastifyServerOptions['logger'] {
  return {
    level,
    name,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  }
}
