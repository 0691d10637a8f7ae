// The one error policy of every fastify app (region node, gateway, admin API):
// whatever fails — a handler, fastify's body parsing and routing, or Node's
// HTTP parser before fastify sees a request — leaves as a SCIM error body
// (RFC 7644 §3.12) in `application/scim+json`. What a failure means is decided
// once, in classifyError; nothing internal leaks.
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import { ScimError, scimErrorBody } from './scim-error.ts'
import { SCIM_CONTENT_TYPE, sendScimError } from './scim-reply.ts'

/**
 * The SCIM error a failure stands for; undefined = unexpected (our bug: logged,
 * then a 500 that names only the request id). Dependencies that are down are
 * DependencyUnavailableErrors already, raised where they are called.
 */
export function classifyError(error: FastifyError | Error, bodyLimitBytes: number): ScimError | undefined {
  if (error instanceof ScimError) return error
  const { code, statusCode } = error as Partial<FastifyError>
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ScimError(413, undefined, `the request body exceeds ${bodyLimitBytes} bytes`)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ScimError(415, undefined, 'send application/scim+json or application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ScimError(400, 'invalidSyntax', 'the request body is empty')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ScimError(400, 'invalidSyntax', 'the request body is not valid JSON')
    default:
      break
  }
  if (error instanceof SyntaxError) return new ScimError(400, 'invalidSyntax', 'the request body is not valid JSON')
  if (statusCode === 413) return new ScimError(413, undefined, `the request body exceeds ${bodyLimitBytes} bytes`)
  if (statusCode === 415) return new ScimError(415, undefined, 'send application/scim+json or application/json')
  if (statusCode === 400) return new ScimError(400, 'invalidSyntax', 'the request is not valid')
  if (statusCode !== undefined && statusCode > 400 && statusCode < 500) return new ScimError(statusCode, undefined, 'the request is not valid')
  return undefined
}

/** The status line and SCIM body Node's HTTP parser errors get (fastify never sees these requests). */
function clientErrorAnswer(error: NodeJS.ErrnoException): { status: number; detail: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      // Node counts the request line with the headers: a URI too long ends here too.
      return { status: 431, detail: 'the request line or headers are too large' }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, detail: 'the request took too long to arrive' }
    default:
      return { status: 400, detail: 'the request is not valid HTTP' }
  }
}

function answerClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const { status, detail } = clientErrorAnswer(error)
  const body = JSON.stringify(scimErrorBody(status, detail, status === 400 ? 'invalidSyntax' : undefined))
  this.log.debug({ code: error.code }, 'HTTP parser refused a request')
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: ${SCIM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}

/** Server options every app is built with, so requests refused before routing get SCIM errors too. */
export function scimErrorServerOptions(): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler' | 'return503OnClosing'> {
  return {
    // fastify's own drain answer is plain JSON: scimErrorHandling answers requests arriving during shutdown instead.
    return503OnClosing: false,
    // Requests fastify refuses before routing (a malformed URL, a body on GET).
    frameworkErrors: (_error, _request, reply) => {
      sendScimError(reply, 400, 'the request is not valid HTTP for this service', 'invalidSyntax')
    },
    clientErrorHandler: answerClientError,
  }
}

export interface ScimErrorHandlingOptions {
  /** The body limit named in 413 answers. */
  readonly bodyLimitBytes: number
  /** The detail of a 404 for a path no route serves. */
  readonly notFoundDetail: (request: FastifyRequest) => string
}

/** Seconds a client should wait before retrying elsewhere while this process shuts down. */
const DRAINING_RETRY_AFTER_SECONDS = 1

/**
 * The error and not-found handlers of an app (register first, at the root),
 * and the answer to requests that arrive while it shuts down: in-flight
 * requests finish, late ones get a SCIM 503 and the connection closes.
 */
export const scimErrorHandling = fp(
  async (app: FastifyInstance, options: ScimErrorHandlingOptions) => {
    let closing = false
    app.addHook('preClose', (done) => {
      closing = true
      done()
    })
    // A callback hook: an async one costs every request a promise. Once answered, `done` is not called.
    app.addHook('onRequest', (_request, reply, done) => {
      if (!closing) return done()
      reply.header('connection', 'close')
      sendScimError(reply, 503, 'this server is shutting down; retry', undefined, { 'retry-after': String(DRAINING_RETRY_AFTER_SECONDS) })
    })
    app.setErrorHandler((error: FastifyError, request, reply): FastifyReply => {
      const scimError = classifyError(error, options.bodyLimitBytes)
      if (scimError === undefined) {
        request.log.error({ err: error }, 'unexpected error')
        return sendScimError(reply, 500, `internal error; quote request id ${request.id}`)
      }
      if (scimError.status >= 500) request.log.warn({ status: scimError.status, detail: scimError.message, err: scimError.cause }, 'request failed')
      return sendScimError(reply, scimError.status, scimError.message, scimError.scimType, { ...scimError.headers })
    })
    app.setNotFoundHandler((request, reply) => sendScimError(reply, 404, options.notFoundDetail(request)))
  },
  { name: 'scim-error-handling' },
)
