import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { GatewayConfig } from '../config/gateway-config.ts'
import type { SigningKey } from '../lib/internal-identity.ts'
import { closeRedisConnection, createRedisConnection, waitForRedisReady } from '../lib/redis-connection.ts'
import { buildAdminApi } from './admin/admin-api.ts'
import { buildGateway } from './app.ts'
import { createTokenAuthenticator } from './tokens/token-authenticator.ts'
import { createTokenHasher } from './tokens/token-hasher.ts'
import { createTokenStore } from './tokens/token-store.ts'

export interface RunningGateway {
  readonly app: FastifyInstance
  readonly url: string
  readonly adminUrl: string | undefined
  close(): Promise<void>
}

/**
 * Wires Redis, the token store and cache, the gateway and (when an admin
 * credential is configured) the admin API, and listens. Redis may be down at
 * start: the gateway then answers 503 for uncached tokens until it returns.
 */
export async function startGateway(config: GatewayConfig, options: { signingKey: SigningKey; logger?: FastifyServerOptions['logger'] }): Promise<RunningGateway> {
  const onRedisError = (): void => undefined
  const redis = createRedisConnection(config.redis, 'commands', { onError: onRedisError, connectionName: 'scimgate-gateway' })
  const subscriber = createRedisConnection(config.redis, 'subscriber', { onError: onRedisError, connectionName: 'scimgate-gateway-sub' })
  const hasher = createTokenHasher(config.peppers.peppers, config.peppers.current)
  const tokenStore = createTokenStore(redis, { keyPrefix: config.redisKeyPrefix, hasher })
  const authenticator = createTokenAuthenticator({ store: tokenStore, subscriber, hasher })

  // Commands fail fast while Redis is not connected (no offline queue): give it a moment at start,
  // but start anyway when it is down; the gateway answers 503 for uncached tokens until it returns.
  const redisReady = await waitForRedisReady(redis, 3_000).then(
    () => true,
    () => false,
  )
  const app = await buildGateway(config, { redis, authenticator, signingKey: options.signingKey }, { logger: options.logger })
  const admin = config.adminTokenSha256 === undefined ? undefined : await buildAdminApi(config, { tokenStore, signingKey: options.signingKey }, { logger: options.logger })
  if (!redisReady) app.log.warn('Redis is not reachable yet; uncached tokens get 503 until it is')
  const url = await app.listen({ host: config.host, port: config.port })
  const adminUrl = admin === undefined ? undefined : await admin.listen({ host: config.adminHost, port: config.adminPort })

  return {
    app,
    url,
    adminUrl,
    async close() {
      await app.close()
      await admin?.close()
      await authenticator.close()
      await Promise.all([closeRedisConnection(redis), closeRedisConnection(subscriber)])
    },
  }
}
