import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { assertJsonDepth } from '../scim/json-depth.ts'

/**
 * Reads `application/scim+json` and `application/json` with fastify's safe JSON parser (prototype poisoning
 * refused), then refuses bodies nested deeper than any SCIM body is.
 */
export const scimJson = fp(
  async (app: FastifyInstance) => {
    const parse = app.getDefaultJsonParser('error', 'error')
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'string' }, (request, body, done) => {
      parse(request, body as string, (error, value) => {
        if (error !== null) return done(error, undefined)
        try {
          assertJsonDepth(value)
        } catch (depthError) {
          return done(depthError as Error, undefined)
        }
        done(null, value)
      })
    })
  },
  { name: 'scim-json' },
)
