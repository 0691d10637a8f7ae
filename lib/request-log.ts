import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'

/**
 * Adds `bindings` to the request's log lines; "request completed" is logged through reply.log, which is the same
 * logger. The request's own logger (a pino child fastify made for it) takes the bindings in place: a second child
 * per request is what this saves. Without a per-request logger (logging off), nothing is logged anyway.
 */
export function bindRequestLog(request: FastifyRequest, reply: FastifyReply, bindings: Record<string, unknown>): void {
  const log = request.log as FastifyBaseLogger & { setBindings?: (bindings: Record<string, unknown>) => void }
  if (log === request.server.log) return
  if (typeof log.setBindings === 'function') log.setBindings(bindings)
  else request.log = reply.log = log.child(bindings)
}
