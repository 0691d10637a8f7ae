import { SEED_ROLES, type RoleCatalog } from '../access/role-catalog.ts'
import { GROUP_ACCESS_SCHEMA } from '../scim/schema/urns.ts'
import type { Queryable } from './database.ts'

export interface GrantingGroupName {
  readonly id: string
  readonly displayName: string
  readonly role: string
}

export interface TenantSettingsStore {
  /** The catalog; a tenant without a row has the seed catalog. `lock`: SHARE (group writes) or UPDATE (catalog writes) until commit. */
  catalog(tenantId: string, lock?: 'share' | 'update'): Promise<RoleCatalog>
  saveCatalog(tenantId: string, catalog: RoleCatalog): Promise<void>
  /** Groups that still grant one of `roles` (at most `limit`). */
  groupsGranting(tenantId: string, roles: readonly string[], limit: number): Promise<GrantingGroupName[]>
}

export function createTenantSettingsStore(db: Queryable): TenantSettingsStore {
  return {
    async catalog(tenantId, lock) {
      // A row to lock must exist: concurrent group and catalog writes then queue on it.
      if (lock !== undefined) await db.query('INSERT INTO tenant_settings (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING', [tenantId])
      const suffix = lock === 'share' ? ' FOR SHARE' : lock === 'update' ? ' FOR UPDATE' : ''
      const { rows } = await db.query<{ roles: string[] | null; default_roles: string[] }>(`SELECT roles, default_roles FROM tenant_settings WHERE tenant_id = $1${suffix}`, [tenantId])
      const row = rows[0]
      return { roles: row?.roles ?? [...SEED_ROLES], defaultRoles: row?.default_roles ?? [] }
    },

    async saveCatalog(tenantId, catalog) {
      await db.query(
        `INSERT INTO tenant_settings (tenant_id, roles, default_roles) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET roles = excluded.roles, default_roles = excluded.default_roles, updated = now()`,
        [tenantId, catalog.roles, catalog.defaultRoles],
      )
    },

    async groupsGranting(tenantId, roles, limit) {
      if (roles.length === 0) return []
      const { rows } = await db.query<{ id: string; display_name: string; role: string }>(
        `SELECT g.id::text AS id, g.display_name, r.value ->> 'value' AS role
         FROM groups g, jsonb_array_elements(CASE WHEN jsonb_typeof(g.attributes -> $2::text -> 'roles') = 'array' THEN g.attributes -> $2::text -> 'roles' ELSE '[]'::jsonb END) AS r(value)
         WHERE g.tenant_id = $1 AND r.value ->> 'value' = ANY($3::text[])
         ORDER BY g.display_name, g.id
         LIMIT $4`,
        [tenantId, GROUP_ACCESS_SCHEMA, roles, limit],
      )
      return rows.map((r) => ({ id: r.id, displayName: r.display_name, role: r.role }))
    },
  }
}
