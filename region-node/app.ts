import Fastify, { type FastifyInstance } from 'fastify'
import type { RegionNodeConfig } from '../config/node-config.ts'
import type { Registry } from 'prom-client'
import { clientTimeoutOptions } from '../lib/client-timeouts.ts'
import { loggerOptions } from '../lib/logger-options.ts'
import { scimErrorHandling, scimErrorServerOptions } from '../lib/scim-error-handling.ts'
import { createMetricsRegistry } from '../lib/metrics/request-metrics.ts'
import { DEFAULT_EVENT_LOG } from '../config/node-config.ts'
import { database } from './plugins/database.ts'
import { eventListener } from './plugins/event-listener.ts'
import { eventRetention } from './plugins/event-retention.ts'
import { registerFeedConsumerMetrics } from './plugins/feed-consumer-metrics.ts'
import { internalAuth } from './plugins/internal-auth.ts'
import { identityObserver, nodeObservability } from './plugins/metrics.ts'
import { scimJson } from './plugins/scim-json.ts'
import { tlsReload } from './plugins/tls-reload.ts'
import { accessRoutes } from './routes/access-routes.ts'
import { adminRoutes } from './routes/admin-routes.ts'
import { eventRoutes } from './routes/event-routes.ts'
import { rolesRoutes } from './routes/roles-routes.ts'
import { bulkRoutes } from './routes/bulk-routes.ts'
import { directoryRoutes } from './routes/directory-routes.ts'
import { discoveryRoutes } from './routes/discovery-routes.ts'
import { healthRoutes } from './routes/health-routes.ts'
import { resourceRoutes } from './routes/resource-routes.ts'
import { searchRoutes } from './routes/search-routes.ts'
import { createAccessService } from './services/access-service.ts'
import { createEventRecorder } from './services/event-recorder.ts'
import { createEventsService } from './services/events-service.ts'
import { createCursorCodec } from './scim/cursor.ts'
import { createDirectoryService } from './services/directory-service.ts'
import { createGroupsService } from './services/groups-service.ts'
import { createRolesService } from './services/roles-service.ts'
import { createUserCreateBatches } from './services/user-create-batches.ts'
import { createUsersService } from './services/users-service.ts'

export interface BuildOptions {
  /** Overrides the pino logger (tests pass a stream to inspect logs). */
  readonly logger?: import('fastify').FastifyServerOptions['logger']
  /** Where the node's metrics go (server.ts serves it on the ops port); default: a registry of its own. */
  readonly metricsRegistry?: Registry
}

/** Builds a region node; never listens and never reads the environment (server.ts and the CLI do). */
export async function buildRegionNode(config: RegionNodeConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // With a certificate the node speaks only TLS on its port: a plain-HTTP request fails the handshake.
    ...(config.tls === undefined ? {} : { https: { cert: config.tls.cert, key: config.tls.key, minVersion: 'TLSv1.2' as const } }),
    logger: options.logger ?? loggerOptions(config.logLevel, `region-node-${config.region.code}`, { region: config.region.code }),
    bodyLimit: config.limits.bodyLimitBytes,
    // Slow clients (slow-loris headers or bodies) cannot hold a socket for long.
    ...clientTimeoutOptions(config.limits.clientTimeouts),
    // Our ids are UUIDs; anything else is a 404 from the service, never a router error
    // Entra ID's test collection sends `/scim/v2/users`: endpoints match in any letter case (parameters keep theirs).
    routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true, caseSensitive: false },
    requestIdHeader: 'x-request-id',
    ...scimErrorServerOptions(),
    // Shutdown drains: in-flight requests finish, idle keep-alive connections close, requests arriving
    // meanwhile get a SCIM 503 (scimErrorHandling).
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance // an HTTPS instance has the same API; only its raw server type differs

  await app.register(scimErrorHandling, {
    bodyLimitBytes: config.limits.bodyLimitBytes,
    notFoundDetail: (request) => `no such endpoint: ${request.method} ${request.url.split('?')[0]}`,
  })
  if (config.tls !== undefined) await app.register(tlsReload, config.tls)
  await app.register(database, config.database)
  const metricsRegistry = options.metricsRegistry ?? createMetricsRegistry()
  await app.register(nodeObservability, { registry: metricsRegistry, region: config.region.code, pool: app.database.pool })
  await app.register(healthRoutes, { database: app.database })
  const eventLog = config.events ?? DEFAULT_EVENT_LOG
  await app.register(eventListener, { url: eventLog.listenUrl ?? config.database.url, connectTimeoutMs: config.database.connectionTimeoutMs })
  await app.register(eventRetention, { database: app.database, retentionDays: eventLog.retentionDays, intervalMs: eventLog.purgeIntervalMs, batchSize: eventLog.purgeBatchSize })

  const events = createEventRecorder({ enabled: eventLog.enabled })
  const cursors = createCursorCodec(config.cursorKeys, config.limits.cursorTtlSeconds)
  const services = {
    users: createUsersService({ database: app.database, limits: config.limits, cursors, events }),
    groups: createGroupsService({
      database: app.database,
      limits: config.limits,
      cursors,
      events,
      onSkippedMembers: (tenantId, groupId, ids) => app.log.info({ tenantId, groupId, skipped: ids.length }, 'membership push named ids the tenant does not have; skipped'),
    }),
  }

  const roles = createRolesService({ database: app.database, events })
  const access = createAccessService({ database: app.database })
  const tracking = registerFeedConsumerMetrics({
    registry: metricsRegistry,
    region: config.region.code,
    database: app.database,
    retentionDays: eventLog.retentionDays,
    maxConsumers: eventLog.maxFeedConsumers,
    log: app.log,
  })
  const eventLogReader = createEventsService({ database: app.database, waker: app.eventWaker, tracking })

  await app.register(internalAuth, { keySet: config.identityKeySet, region: config.region.code, onIdentified: identityObserver(config.region.code) })

  await app.register(async (scim) => {
    await scim.register(scimJson)
    scim.addHook('onRequest', scim.identityHook('scim'))
    await scim.register(discoveryRoutes, { limits: config.limits, roleCatalog: async (tenantId) => (await roles.get(tenantId)).roles })
    await scim.register(resourceRoutes, { ...services, limits: config.limits })
    await scim.register(searchRoutes, { ...services, limits: config.limits })
    await scim.register(bulkRoutes, { ...services, userBatches: createUserCreateBatches({ database: app.database, events }), limits: config.limits })
  }, { prefix: '/scim/v2' })

  await app.register(async (admin) => {
    await admin.register(scimJson)
    admin.addHook('onRequest', admin.identityHook('admin'))
    await admin.register(adminRoutes, { groups: services.groups })
    await admin.register(accessRoutes, { access })
    await admin.register(rolesRoutes, { roles })
    await admin.register(eventRoutes, { events: eventLogReader })
    await admin.register(directoryRoutes, { directory: createDirectoryService(app.database, cursors) })
  }, { prefix: '/admin/v1' })

  return app
}
