// The gateway in its own process: the product's startGateway with a one-region catalog.
import type { JWK } from 'jose'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadRegionCatalog, parseRegionCatalog } from '../../config/region-catalog.ts'
import { startGateway } from '../../gateway/server.ts'
import { importSigningKey } from '../../lib/internal-identity.ts'
import { announceReady, exitOnSignal, readConfig } from './ready.ts'

export interface GatewayProcessConfig {
  readonly region: string
  readonly upstream: string
  readonly privateJwk: JWK
  readonly env: Record<string, string>
}

const options = readConfig<GatewayProcessConfig>()
const defaults = loadRegionCatalog()
const catalog = parseRegionCatalog(
  {
    regions: defaults.regions
      .filter((r) => r.code === options.region)
      .map((r) => ({ ...r, hostnames: [...r.hostnames], upstreams: [options.upstream] })),
  },
  'bench catalog',
)
const config = loadGatewayConfig({ HOST: '127.0.0.1', PORT: '0', ADMIN_HOST: '127.0.0.1', ADMIN_PORT: '0', LOG_LEVEL: 'silent', ...options.env }, catalog)
const running = await startGateway(config, { signingKey: await importSigningKey(options.privateJwk), logger: false })
exitOnSignal(() => running.close())
announceReady({ url: running.url, adminUrl: running.adminUrl })
