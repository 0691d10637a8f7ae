// TRUSTED_PROXIES is validated at start: the overlays set it from their
// network settings, and a wrong entry must not crash the gateway later.
import t from 'tap'
import { loadGatewayConfig } from '../../config/gateway-config.ts'
import { loadRegionCatalog } from '../../config/region-catalog.ts'
import { generateIdentityKeyPair } from '../../lib/internal-identity.ts'
import { gatewaySecretsEnv } from '../helpers/test-secrets.ts'
import { problemsOf } from '../helpers/config-problems.ts'

t.test('TRUSTED_PROXIES takes addresses and CIDRs only ', async (t) => {
  const catalog = loadRegionCatalog()
  const env = { REDIS_URL: 'redis://127.0.0.1:6379', ...gatewaySecretsEnv(await generateIdentityKeyPair()) }
  t.same(loadGatewayConfig({ ...env, TRUSTED_PROXIES: '10.20.0.0/20, 10.20.16.7,fd00::/8,loopback' }, catalog).trustedProxies, ['10.20.0.0/20', '10.20.16.7', 'fd00::/8', 'loopback'])
  t.same(
    problemsOf(() => loadGatewayConfig({ ...env, TRUSTED_PROXIES: 'SET-BY-OVERLAY,10.0.0.0/33,10.0.0.1/8/1' }, catalog)),
    ['TRUSTED_PROXIES: SET-BY-OVERLAY is not an IP address or CIDR', 'TRUSTED_PROXIES: 10.0.0.0/33 is not an IP address or CIDR', 'TRUSTED_PROXIES: 10.0.0.1/8/1 is not an IP address or CIDR'],
  )
})
