import { ScimError } from '../../lib/scim-error.ts'
import { readCatalogUpdate, type RoleCatalog } from '../access/role-catalog.ts'
import type { TenantDatabase } from '../storage/database.ts'
import { createTenantSettingsStore } from '../storage/tenant-settings-store.ts'
import type { EventRecorder } from './event-recorder.ts'
import { ALWAYS_RECORD } from './event-recorder.ts'
import type { RequestScope } from './service-context.ts'

export interface RolesService {
  get(tenantId: string): Promise<RoleCatalog>
  /** Replaces the catalog; 409 naming the groups when a removed role is still granted. */
  replace(scope: RequestScope, body: unknown): Promise<RoleCatalog>
}

const NAMED_GROUPS = 20

export function createRolesService(deps: { database: TenantDatabase; events?: EventRecorder }): RolesService {
  const events = deps.events ?? ALWAYS_RECORD
  return {
    get: (tenantId) => deps.database.read(tenantId, (db) => createTenantSettingsStore(db).catalog(tenantId)),

    async replace(scope, body) {
      return deps.database.write(scope.tenantId, async (db) => {
        const store = createTenantSettingsStore(db)
        // Locked: group writes that set roles share-lock this row, so none slips a removed role in meanwhile.
        const current = await store.catalog(scope.tenantId, 'update')
        const next = readCatalogUpdate(body, current)
        const removed = current.roles.filter((role) => !next.roles.includes(role))
        const granting = await store.groupsGranting(scope.tenantId, removed, NAMED_GROUPS)
        if (granting.length > 0) {
          const names = granting.map((g) => `${JSON.stringify(g.displayName)} (${g.id}) grants ${JSON.stringify(g.role)}`)
          throw new ScimError(409, undefined, `roles still granted by groups cannot be removed: ${names.join('; ')}${granting.length === NAMED_GROUPS ? '; …' : ''}`)
        }
        await store.saveCatalog(scope.tenantId, next)
        const added = next.roles.filter((role) => !current.roles.includes(role))
        await events.record(db, scope, [{ type: 'role_catalog.changed', resourceType: 'Tenant', resourceId: scope.tenantId, data: { added, removed, roles: next.roles, defaultRoles: next.defaultRoles } }])
        return next
      })
    },
  }
}
