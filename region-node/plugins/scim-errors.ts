import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ScimError } from '../../lib/scim-error.ts'
import { sendScimError } from '../../lib/scim-reply.ts'

/** Maps fastify's own request errors (body parsing, limits, content type) to SCIM errors. */
function fromFastifyError(error: FastifyError): ScimError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ScimError(413, undefined, 'the request body is too large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ScimError(415, undefined, 'send application/scim+json or application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ScimError(400, 'invalidSyntax', 'the request body is empty')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ScimError(400, 'invalidSyntax', 'the request body is not valid JSON')
    default:
      break
  }
  if (error instanceof SyntaxError || error.statusCode === 400) return new ScimError(400, 'invalidSyntax', 'the request body is not valid JSON')
  if (error.statusCode === 413) return new ScimError(413, undefined, 'the request body is too large')
  if (error.statusCode === 415) return new ScimError(415, undefined, 'send application/scim+json or application/json')
  return undefined
}

/** RFC 7644 §3.12: every failure leaves as a SCIM error body; nothing internal leaks. */
export const scimErrors = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const scimError = error instanceof ScimError ? error : fromFastifyError(error)
      if (scimError !== undefined) {
        if (scimError.status >= 500) request.log.warn({ status: scimError.status, detail: scimError.message }, 'request failed')
        return sendScimError(reply, scimError.status, scimError.message, scimError.scimType, { ...scimError.headers })
      }
      request.log.error({ err: error }, 'unexpected error')
      return sendScimError(reply, 500, `internal error; quote request id ${request.id}`)
    })
    app.setNotFoundHandler((request, reply) => sendScimError(reply, 404, `no such endpoint: ${request.method} ${request.url.split('?')[0]}`))
  },
  { name: 'scim-errors' },
)
