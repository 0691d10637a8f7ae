import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadRegionCatalog, parseRegionCatalog } from '../../config/region-catalog.ts'
import { sha256Hex } from '../../gateway/admin/admin-credential.ts'
import { startGateway, type RunningGateway } from '../../gateway/server.ts'
import { generateIdentityKeyPair, type IdentityKeyPair } from '../../lib/internal-identity.ts'
import { deleteKeysUnderPrefix } from './redis-keys.ts'
import { ADMIN_TOKEN, type Teardown } from './system.ts'
import { gatewaySecretsEnv } from './test-secrets.ts'

const REDIS_URL = 'redis://127.0.0.1:6379'

/**
 * A real gateway (with its admin API) whose catalog holds only the named regions, each sent to the given
 * nodes, and the identity keys it signs with; its Redis keys live under a prefix of its own (`label` names it) and are deleted at teardown.
 */
export async function startGatewayForUpstreams(
  t: Teardown,
  upstreams: Readonly<Record<string, readonly string[]>>,
  label: string,
  env: Record<string, string> = {},
): Promise<{ running: RunningGateway; keys: IdentityKeyPair }> {
  const catalog = parseRegionCatalog(
    { regions: loadRegionCatalog().regions.filter((r) => r.code in upstreams).map((r) => ({ ...r, hostnames: [...r.hostnames], upstreams: [...upstreams[r.code]!] })) },
    `${label} catalog`,
  )
  const redisPrefix = `scimgate-test:${label}:${randomBytes(6).toString('hex')}:`
  const redis = new Redis(REDIS_URL)
  t.teardown(async () => {
    await deleteKeysUnderPrefix(redis, redisPrefix)
    redis.disconnect()
  })
  const keys = await generateIdentityKeyPair()
  const config = loadGatewayConfig(
    { HOST: '127.0.0.1', PORT: '0', ADMIN_HOST: '127.0.0.1', ADMIN_PORT: '0', REDIS_URL, SCIMGATE_REDIS_PREFIX: redisPrefix, ADMIN_TOKEN_SHA256: sha256Hex(ADMIN_TOKEN), LOG_LEVEL: 'silent', ...gatewaySecretsEnv(keys), ...env },
    catalog,
  )
  const running = await startGateway(config, { signingKey: keys.signingKey, logger: false })
  t.teardown(() => running.close())
  return { running, keys }
}
