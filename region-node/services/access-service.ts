import { ScimError } from '../../lib/scim-error.ts'
import { decideAccess, type AccessDecision } from '../access/decide-access.ts'
import { createAccessStore, type UserKey } from '../storage/access-store.ts'
import type { TenantDatabase } from '../storage/database.ts'

export interface AccessService {
  decide(tenantId: string, key: UserKey): Promise<AccessDecision>
}

/** The sign-in question, answered from the region's own database in one query. */
export function createAccessService(deps: { database: TenantDatabase }): AccessService {
  return {
    async decide(tenantId, key) {
      const facts = await deps.database.read(tenantId, (db) => createAccessStore(db).facts(tenantId, key))
      // externalId is not unique (RFC 7643 §3.1): several users may carry it; refuse to guess.
      if (facts.matches > 1) throw new ScimError(409, 'uniqueness', `${facts.matches} users have this ${key.kind}; ask by id or userName`)
      return decideAccess(facts)
    },
  }
}
