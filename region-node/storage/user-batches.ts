// Many new users in one statement (a /Bulk run of POST /Users): a multi-row
// insert that skips the rows whose userName is taken, by an existing user or
// by an earlier row of the same batch, instead of failing the statement.
import type { ScimResource } from '../scim/schema/types.ts'
import type { Queryable } from './database.ts'
import type { CreationLog } from './events-store.ts'
import { toStoredResource, type StoredResource } from './stored-resource.ts'
import { indexedColumns } from './users-store.ts'

export interface NewUser {
  readonly id: string
  readonly attributes: ScimResource
}

/**
 * Inserts the users in their order (the first of two rows with the same userName, in any letter case, wins);
 * returns the rows created, by id. `log`: a `user.created` event per created row, written by the same statement.
 */
export async function insertUsers(db: Queryable, tenantId: string, users: readonly NewUser[], log?: CreationLog): Promise<Map<string, StoredResource>> {
  const created = new Map<string, StoredResource>()
  if (users.length === 0) return created
  const rows = users.map((user) => ({ id: user.id, ...indexedColumns(user.attributes), attributes: user.attributes }))
  const events = log?.ctes('inserted', 3)
  const { rows: inserted } = await db.query<{ id: string; seq: string; version: number; created: Date; last_modified: Date }>(
    `WITH input AS (
       SELECT * FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (id uuid, user_name text, external_id text, display_name text, active boolean, attributes jsonb))
         WITH ORDINALITY AS i(id, user_name, external_id, display_name, active, attributes, n)),
     inserted AS (
       INSERT INTO users AS r (tenant_id, id, user_name, external_id, display_name, active, attributes)
       SELECT $1, id, user_name, external_id, display_name, active, attributes FROM input ORDER BY n
       ON CONFLICT DO NOTHING
       RETURNING r.id, r.seq, r.version, r.created, r.last_modified)${events === undefined ? '' : `, ${events.sql}`}
     SELECT id, seq, version, created, last_modified FROM inserted`,
    [tenantId, JSON.stringify(rows), ...(events?.values ?? [])],
  )
  const byId = new Map(users.map((user) => [user.id, user.attributes]))
  for (const row of inserted) created.set(row.id, toStoredResource({ ...row, attributes: byId.get(row.id) ?? {} }))
  return created
}
