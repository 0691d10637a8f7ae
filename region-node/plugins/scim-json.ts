import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Reads `application/scim+json` with fastify's safe JSON parser (prototype poisoning refused). */
export const scimJson = fp(
  async (app: FastifyInstance) => {
    app.addContentTypeParser(['application/scim+json'], { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))
  },
  { name: 'scim-json' },
)
