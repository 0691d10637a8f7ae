import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { tenantConcurrencyOf, type DatabaseConfig } from '../../config/node-config.ts'
import { createPool, createTenantDatabase, type TenantDatabase } from '../storage/database.ts'

declare module 'fastify' {
  interface FastifyInstance {
    database: TenantDatabase
  }
}

export const database = fp(
  async (app: FastifyInstance, config: DatabaseConfig) => {
    const pool = createPool(config, (error) => app.log.warn({ err: error }, 'idle database connection failed'))
    app.decorate('database', createTenantDatabase(pool, tenantConcurrencyOf(config), { rowSecurityRole: config.rowSecurityRole, preparedStatements: config.preparedStatements ?? true }))
    app.addHook('onClose', async () => {
      await app.database.close()
    })
  },
  { name: 'database' },
)
