// Row-level security is the second tenancy wall, and PostgreSQL lets three
// kinds of role past it: superusers, roles with BYPASSRLS, and the owners of
// the tables (who may also switch it off). The node checks the role its
// connections really run as (after DATABASE_ROW_SECURITY_ROLE's SET ROLE, or
// the login role when that is empty) before it serves anything.
import type { Queryable } from './database.ts'

/** The tables row-level security guards (region-node/migrations). */
const GUARDED_TABLES = ['users', 'groups', 'group_members']

interface RoleRow extends Record<string, unknown> {
  role: string
  superuser: boolean
  bypass_rls: boolean
  owned_tables: string[]
}

/** Why the connection's effective role would see past row-level security; empty when it would not. */
export async function rowSecurityBypasses(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<RoleRow>(
    `SELECT current_user AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypass_rls,
            ARRAY(SELECT c.relname::text FROM pg_class c
                  WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY ($1::text[])
                    AND pg_has_role(current_user, c.relowner, 'USAGE')
                  ORDER BY c.relname) AS owned_tables
       FROM pg_roles r WHERE r.rolname = current_user`,
    [GUARDED_TABLES],
  )
  const row = rows[0]
  if (row === undefined) return ['the current role is not in pg_roles']
  const reasons: string[] = []
  if (row.superuser) reasons.push(`role ${row.role} is a superuser`)
  if (row.bypass_rls) reasons.push(`role ${row.role} has BYPASSRLS`)
  // A superuser "has" every role; saying it owns the tables too would only repeat the first reason.
  if (!row.superuser && row.owned_tables.length > 0) reasons.push(`role ${row.role} owns (or is a member of the owner of) ${row.owned_tables.join(', ')}`)
  return reasons
}
