import type { FastifyInstance } from 'fastify'
import type { TenantDatabase } from '../storage/database.ts'

/** /livez needs nothing; /readyz needs PostgreSQL, so a load balancer stops sending work while it is gone. */
export async function healthRoutes(app: FastifyInstance, options: { database: TenantDatabase }): Promise<void> {
  app.get('/livez', async () => ({ status: 'ok' }))
  app.get('/readyz', async (request, reply) => {
    try {
      await options.database.ping()
      return { status: 'ok' }
    } catch {
      return reply.code(503).header('retry-after', '5').send({ status: 'unavailable', reason: 'database' })
    }
  })
}
