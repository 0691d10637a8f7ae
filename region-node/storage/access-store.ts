import type { AccessFacts } from '../access/decide-access.ts'
import { GROUP_ACCESS_SCHEMA } from '../scim/schema/urns.ts'
import type { Queryable } from './database.ts'
import { isUuid } from './sql-params.ts'

export type UserKey = { readonly kind: 'userName' | 'externalId' | 'id'; readonly value: string }

export interface AccessStore {
  /** The user, its groups' access extensions and the tenant's default roles, in one query (never a group's members). */
  facts(tenantId: string, key: UserKey): Promise<AccessFacts & { readonly matches: number }>
}

const USER_MATCH: Record<UserKey['kind'], string> = {
  // user_name_lower is a stored column: the unique index serves it (see the first migration)
  userName: 'u.user_name_lower = lower($2)',
  externalId: 'u.external_id = $2',
  id: 'u.id = $2::uuid',
}

export function createAccessStore(db: Queryable): AccessStore {
  return {
    async facts(tenantId, key) {
      if (key.kind === 'id' && !isUuid(key.value)) return { user: undefined, groups: [], defaultRoles: [], matches: 0 }
      const { rows } = await db.query<{ user_id: string; active: boolean; default_roles: string[] | null; group_id: string | null; display_name: string | null; access: unknown }>(
        `SELECT u.id::text AS user_id, u.active, s.default_roles, g.id::text AS group_id, g.display_name, g.attributes -> $3::text AS access
         FROM users u
         LEFT JOIN group_members m ON m.tenant_id = u.tenant_id AND m.member_id = u.id
         LEFT JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
         LEFT JOIN tenant_settings s ON s.tenant_id = u.tenant_id
         WHERE u.tenant_id = $1 AND ${USER_MATCH[key.kind]}
         ORDER BY g.display_name, g.id`,
        [tenantId, key.value, GROUP_ACCESS_SCHEMA],
      )
      const first = rows[0]
      if (first === undefined) return { user: undefined, groups: [], defaultRoles: [], matches: 0 }
      const matches = new Set(rows.map((r) => r.user_id)).size
      return {
        user: { id: first.user_id, active: first.active },
        groups: rows.flatMap((r) => (r.group_id === null || r.user_id !== first.user_id ? [] : [{ id: r.group_id, displayName: r.display_name ?? '', access: r.access ?? null }])),
        defaultRoles: first.default_roles ?? [],
        matches,
      }
    },
  }
}
