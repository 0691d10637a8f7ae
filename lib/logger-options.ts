import { hostname } from 'node:os'
import { trace } from '@opentelemetry/api'
import type { FastifyRequest, FastifyServerOptions } from 'fastify'
import { redactUrl } from './tracing/redact-url.ts'

/** Never log credentials: the provisioning token and the internal identity are redacted wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers["x-scimgate-identity"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers["x-scimgate-identity"]',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers["x-scimgate-identity"]',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
  'gateway.identity',
  '*.gateway.identity',
]

export const CENSOR = '[redacted]'

// The shape of a provisioning token (README: scg_<region>_ + 38 base62 characters), caught in message text too.
const TOKEN_IN_TEXT = /scg_[a-z][a-z0-9]{1,15}_[0-9A-Za-z]{38}/g

/** trace_id and span_id of the active span on every line; nothing when tracing is off (the api's no-op answers undefined). */
export function traceContextMixin(): Record<string, string> {
  const span = trace.getActiveSpan()
  if (span === undefined) return {}
  const { traceId, spanId } = span.spanContext()
  return { trace_id: traceId, span_id: spanId }
}

type SerializedRequest = { [key: string]: unknown; method?: string; url?: string; host?: string; remoteAddress?: string; remotePort?: number }

/** fastify's request serializer, with the query values (a SCIM filter holds user names and e-mail addresses) redacted. */
function serializeRequest(value: FastifyRequest): SerializedRequest {
  const request = value as Partial<FastifyRequest> | null
  // Anything else logged under `req` is left as it is, to the redaction paths.
  if (typeof request !== 'object' || request === null || typeof request.url !== 'string') return value as unknown as SerializedRequest
  return { method: request.method, url: redactUrl(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort }
}

/** `bindings` (e.g. `{ region: 'EU1' }`) appear on every line of this logger. */
export function loggerOptions(level: string, name: string, bindings: Readonly<Record<string, string>> = {}): FastifyServerOptions['logger'] {
  return {
    level,
    name,
    base: { pid: process.pid, hostname: hostname(), ...bindings },
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    mixin: traceContextMixin,
    serializers: { req: serializeRequest },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg: unknown) => (typeof arg === 'string' ? arg.replace(TOKEN_IN_TEXT, CENSOR) : arg))
        return method.apply(this, scrubbed as Parameters<typeof method>)
      },
    },
  }
}
