import type { Principal } from '../../lib/admin-api/contract.ts'
import { parseToken } from '../tokens/token-format.ts'
import { isUsable, type TokenRecord } from '../tokens/token-record.ts'
import type { TokenStore } from '../tokens/token-store.ts'
import { createAdminCredentialCheck } from './admin-credential.ts'

export type AdminAuthenticator = (credential: string | undefined) => Promise<Principal | undefined>

/** The principal of a usable admin or access credential record, else undefined. */
export function principalOf(record: TokenRecord | undefined, nowMs: number): Principal | undefined {
  if (record === undefined || !isUsable(record, nowMs)) return undefined
  if (record.kind === 'admin') return { kind: 'admin', tenantId: record.tenantId, region: record.region, credentialId: record.tokenId }
  if (record.kind === 'access') return { kind: 'access', region: record.region, credentialId: record.tokenId }
  return undefined
}

/**
 * Who a presented credential is: the operator (ADMIN_TOKEN_SHA256), a team
 * admin or an access credential (looked up by HMAC in the token store, no
 * cache: admin traffic is light and a revocation must show at once).
 * Provisioning tokens are never admin credentials. Throws when the store is unreachable.
 */
export function createAdminAuthenticator(options: { operatorSha256: string | undefined; tokenStore: TokenStore; now?: () => number }): AdminAuthenticator {
  const isOperator = options.operatorSha256 === undefined ? () => false : createAdminCredentialCheck(options.operatorSha256)
  const now = options.now ?? Date.now
  return async (credential) => {
    if (credential === undefined || credential === '') return undefined
    if (isOperator(credential)) return { kind: 'operator' }
    if (parseToken(credential) === undefined) return undefined
    return principalOf(await options.tokenStore.lookup(credential), now())
  }
}
