import type { RegionCatalog } from '../../config/region-catalog.ts'
import type { TokenEventContext } from '../../gateway/tokens/token-events.ts'
import type { TokenStore } from '../../gateway/tokens/token-store.ts'

// The demo tokens of embedded mode are scimgate's own doing, not an admin's.
const SYSTEM_CONTEXT: TokenEventContext = { actor: { type: 'system' } }

/** Embedded mode: a token of tenant `demo` per region, new at every start (the previous run's are revoked). */
export async function issueDemoTokens(store: TokenStore, catalog: RegionCatalog): Promise<ReadonlyMap<string, string>> {
  const tokens = new Map<string, string>()
  for (const region of catalog.regions) {
    for (const old of await store.list('demo', region.code)) if (old.label === 'demo' && old.status === 'active') await store.revoke(old.tokenId, SYSTEM_CONTEXT)
    tokens.set(region.code, (await store.create({ tenantId: 'demo', region: region.code, label: 'demo' }, SYSTEM_CONTEXT)).token)
  }
  return tokens
}
