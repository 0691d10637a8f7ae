// Row operations Users and Groups share; `table` is one of our two table
// names (never client input), everything else is bound.
import type { Queryable } from './database.ts'
import type { EventAttachment } from './events-store.ts'
import { RESOURCE_COLUMNS, toListedResource, toStoredResource, type ListQuery, type ListedResource, type ResourceRow, type StoredResource, type UpdateOutcome } from './stored-resource.ts'

export type ResourceTableName = 'users' | 'groups'

export async function findRow(db: Queryable, table: ResourceTableName, tenantId: string, id: string, forUpdate: boolean): Promise<StoredResource | undefined> {
  const { rows } = await db.query<ResourceRow>(`SELECT ${RESOURCE_COLUMNS} FROM ${table} r WHERE r.tenant_id = $1 AND r.id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id])
  return rows[0] === undefined ? undefined : toStoredResource(rows[0])
}

export async function listRows(db: Queryable, table: ResourceTableName, tenantId: string, query: ListQuery): Promise<ListedResource[]> {
  const values = [tenantId, ...query.values, query.limit, query.offset]
  const { rows } = await db.query<ResourceRow & { sort_key: unknown }>(
    `SELECT ${RESOURCE_COLUMNS}, ${query.sortKey} AS sort_key FROM ${table} r
     WHERE r.tenant_id = $1 AND ${query.where} ORDER BY ${query.orderBy} LIMIT $${values.length - 1} OFFSET $${values.length}`,
    values,
  )
  return rows.map(toListedResource)
}

export async function countRows(db: Queryable, table: ResourceTableName, tenantId: string, where: string, values: readonly unknown[]): Promise<number> {
  const { rows } = await db.query<{ total: string }>(`SELECT count(*) AS total FROM ${table} r WHERE r.tenant_id = $1 AND ${where}`, [tenantId, ...values])
  return Number(rows[0]?.total ?? 0)
}

/** The columns an update may set, per table; assignments name only these (they are interpolated, values are bound). */
const UPDATABLE_COLUMNS = {
  users: ['user_name', 'external_id', 'display_name', 'active', 'attributes'],
  groups: ['display_name', 'external_id', 'attributes'],
} as const satisfies Record<ResourceTableName, readonly string[]>

export type ColumnAssignments<Table extends ResourceTableName> = Readonly<Partial<Record<(typeof UPDATABLE_COLUMNS)[Table][number], unknown>>>

/**
 * Updates one row (locking it first), bumping version and lastModified, and
 * setting each column of `assignments` to its value (none: only the version moves).
 */
export async function updateRow<Table extends ResourceTableName>(
  db: Queryable,
  table: Table,
  tenantId: string,
  id: string,
  expectedVersion: number | undefined,
  assignments: ColumnAssignments<Table>,
  log?: EventAttachment,
): Promise<UpdateOutcome> {
  const allowed: readonly string[] = UPDATABLE_COLUMNS[table]
  const entries = Object.entries(assignments).filter(([column]) => allowed.includes(column))
  // $1 tenant, $2 id, $3 the expected version (null = any); assigned values from $4 on.
  const sets = entries.map(([column], index) => `${column} = $${index + 4}, `).join('')
  // With `log`, the events are written by this statement even when no row matches: the caller then fails the transaction.
  const text = `WITH current AS (SELECT version FROM ${table} WHERE tenant_id = $1 AND id = $2 FOR UPDATE)
     UPDATE ${table} AS r SET ${sets}version = r.version + 1, last_modified = clock_timestamp()
     FROM current
     WHERE r.tenant_id = $1 AND r.id = $2 AND ($3::int IS NULL OR current.version = $3::int)
     RETURNING ${RESOURCE_COLUMNS}`
  const values = [tenantId, id, expectedVersion ?? null, ...entries.map(([, value]) => value)]
  const statement = log === undefined ? { text, values } : log.attach(text, values)
  const { rows } = await db.query<ResourceRow>(statement.text, statement.values)
  if (rows[0] !== undefined) return { kind: 'updated', resource: toStoredResource(rows[0]) }
  const current = await db.query<{ version: number }>(`SELECT version FROM ${table} WHERE tenant_id = $1 AND id = $2`, [tenantId, id])
  return current.rows[0] === undefined ? { kind: 'missing' } : { kind: 'versionMismatch', current: current.rows[0].version }
}
