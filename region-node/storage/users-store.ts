import type { ScimResource } from '../scim/schema/types.ts'
import type { Queryable } from './database.ts'
import type { EventAttachment } from './events-store.ts'
import { countRows, findRow, listRows, updateRow } from './resource-rows.ts'
import { RESOURCE_COLUMNS, toListedResource, toStoredResource, type ListQuery, type ListedResource, type ResourceRow, type StoredResource, type UpdateOutcome } from './stored-resource.ts'

export interface GroupReference {
  readonly value: string
  readonly display: string
}

export interface UsersStore {
  /** `log`: the change's events, written by the same statement. */
  insert(tenantId: string, id: string, attributes: ScimResource, log?: EventAttachment): Promise<StoredResource>
  find(tenantId: string, id: string): Promise<StoredResource | undefined>
  /** The user and its derived `groups` in one round trip (GET /Users/{id} reads both). */
  /** The user and at most `limit` of its groups (ask one more than you show to learn whether there are more). */
  findWithGroups(tenantId: string, id: string, limit: number): Promise<{ user: StoredResource; groups: GroupReference[] } | undefined>
  /** Locks the row for the rest of the transaction. */
  findForUpdate(tenantId: string, id: string): Promise<StoredResource | undefined>
  update(tenantId: string, id: string, attributes: ScimResource, expectedVersion: number | undefined, log?: EventAttachment): Promise<UpdateOutcome>
  /** Removes the user and every membership of it, in the caller's transaction. */
  delete(tenantId: string, id: string, log?: EventAttachment): Promise<boolean>
  list(tenantId: string, query: ListQuery): Promise<ListedResource[]>
  count(tenantId: string, where: string, values: readonly unknown[]): Promise<number>
  /** RFC 7643 §4.1.2: the derived `groups` attribute, for many users at once. */
  /** Groups of the users, at most `limit` rows in all. */
  groupsOf(tenantId: string, userIds: readonly string[], limit: number): Promise<Map<string, GroupReference[]>>
  /**
   * The page `query` selects and its users' groups, at most `limit` group rows in all (ask one more than the
   * budget to learn whether they fit), in one statement: one snapshot, and it can go out with the count.
   */
  listWithGroups(tenantId: string, query: ListQuery, limit: number): Promise<{ rows: ListedResource[]; groups: Map<string, GroupReference[]>; groupRows: number }>
  /** Each user's group count, counting no further than `cap`. */
  groupCountsUpTo(tenantId: string, userIds: readonly string[], cap: number): Promise<Map<string, number>>
  existingIds(tenantId: string, ids: readonly string[]): Promise<Set<string>>
}

/** The columns a user's attributes are indexed by, besides the JSON document. */
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null)

export function indexedColumns(attributes: ScimResource): { user_name: string; external_id: string | null; display_name: string | null; active: boolean } {
  return { user_name: String(attributes.userName), external_id: text(attributes.externalId), display_name: text(attributes.displayName), active: attributes.active !== false }
}

interface MembershipRow extends Record<string, unknown> {
  member_id: string
  group_id: string
  display_name: string
}

function byMember(rows: readonly MembershipRow[]): Map<string, GroupReference[]> {
  const result = new Map<string, GroupReference[]>()
  for (const row of rows) {
    const list = result.get(row.member_id)
    const group = { value: row.group_id, display: row.display_name }
    if (list === undefined) result.set(row.member_id, [group])
    else list.push(group)
  }
  return result
}

const INSERT_USER = `INSERT INTO users AS r (tenant_id, id, user_name, external_id, display_name, active, attributes)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${RESOURCE_COLUMNS}`

/**
 * UsersStore.insert without building a store: POST /Users runs only this, and a store is a dozen
 * closures (each named at creation under tsx's keepNames).
 */
export async function insertUser(db: Queryable, tenantId: string, id: string, attributes: ScimResource, log?: EventAttachment): Promise<StoredResource> {
  const values = [tenantId, id, String(attributes.userName), text(attributes.externalId), text(attributes.displayName), attributes.active !== false, attributes]
  const statement = log === undefined ? { text: INSERT_USER, values } : log.attach(INSERT_USER, values)
  const { rows } = await db.query<ResourceRow>(statement.text, statement.values)
  return toStoredResource(rows[0]!)
}

/** UsersStore.count and listWithGroups without a store object: the list path calls them once each per request. */
export function countUsers(db: Queryable, tenantId: string, where: string, values: readonly unknown[]): Promise<number> {
  return countRows(db, 'users', tenantId, where, values)
}

export async function listUsersWithGroups(db: Queryable, tenantId: string, query: ListQuery, limit: number): Promise<{ rows: ListedResource[]; groups: Map<string, GroupReference[]>; groupRows: number }> {
  const values = [tenantId, ...query.values, query.limit, query.offset, limit]
  const n = values.length
  // The page once (materialized); the groups of all its users under one LIMIT, aggregated per user and joined
  // back (linear in the page and its groups); the page re-sorted by its own columns.
  const { rows } = await db.query<ResourceRow & { sort_key: unknown; groups: GroupReference[] | null }>(
    `WITH page AS MATERIALIZED (
       SELECT ${RESOURCE_COLUMNS}, ${query.sortKey} AS sort_key FROM users r
       WHERE r.tenant_id = $1 AND ${query.where} ORDER BY ${query.orderBy} LIMIT $${n - 2} OFFSET $${n - 1}),
     page_groups AS (
       SELECT mg.member_id, json_agg(json_build_object('value', mg.id, 'display', mg.display_name) ORDER BY mg.seq) AS groups
       FROM (SELECT m.member_id, g.id, g.display_name, g.seq
             FROM page p
             JOIN group_members m ON m.tenant_id = $1 AND m.member_id = p.id
             JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
             ORDER BY g.seq LIMIT $${n}) mg
       GROUP BY mg.member_id)
     SELECT p.id, p.seq, p.version, p.created, p.last_modified, p.attributes, p.sort_key, pgr.groups
     FROM page p LEFT JOIN page_groups pgr ON pgr.member_id = p.id
     ORDER BY ${query.pageOrderBy}`,
    values,
  )
  const groups = new Map<string, GroupReference[]>()
  let groupRows = 0
  for (const row of rows) {
    if (row.groups === null) continue
    groups.set(row.id, row.groups)
    groupRows += row.groups.length
  }
  return { rows: rows.map(toListedResource), groups, groupRows }
}

export function createUsersStore(db: Queryable): UsersStore {
  return {
    insert: (tenantId, id, attributes, log) => insertUser(db, tenantId, id, attributes, log),

    find: (tenantId, id) => findRow(db, 'users', tenantId, id, false),

    async findWithGroups(tenantId, id, limit) {
      const { rows } = await db.query<ResourceRow & { groups: GroupReference[] }>(
        `SELECT ${RESOURCE_COLUMNS},
                COALESCE((SELECT json_agg(json_build_object('value', mg.id, 'display', mg.display_name) ORDER BY mg.seq)
                          FROM (SELECT g.id, g.display_name, g.seq
                                FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
                                WHERE m.tenant_id = r.tenant_id AND m.member_id = r.id
                                ORDER BY g.seq LIMIT $3) mg), '[]'::json) AS groups
         FROM users r WHERE r.tenant_id = $1 AND r.id = $2`,
        [tenantId, id, limit],
      )
      const row = rows[0]
      return row === undefined ? undefined : { user: toStoredResource(row), groups: row.groups }
    },

    findForUpdate: (tenantId, id) => findRow(db, 'users', tenantId, id, true),

    update: (tenantId, id, attributes, expectedVersion, log) => updateRow(db, 'users', tenantId, id, expectedVersion, { ...indexedColumns(attributes), attributes }, log),

    async delete(tenantId, id, log) {
      await db.query('DELETE FROM group_members WHERE tenant_id = $1 AND member_id = $2', [tenantId, id])
      const text = 'DELETE FROM users WHERE tenant_id = $1 AND id = $2'
      const statement = log === undefined ? { text, values: [tenantId, id] } : log.attach(text, [tenantId, id])
      const { rowCount } = await db.query(statement.text, statement.values)
      return (rowCount ?? 0) > 0
    },

    list: (tenantId, query) => listRows(db, 'users', tenantId, query),

    count: (tenantId, where, values) => countUsers(db, tenantId, where, values),

    async groupCountsUpTo(tenantId, userIds, cap) {
      const result = new Map<string, number>()
      if (userIds.length === 0) return result
      const { rows } = await db.query<{ user_id: string; groups: number }>(
        `SELECT p.id::text AS user_id,
                (SELECT count(*) FROM (SELECT 1 FROM group_members m WHERE m.tenant_id = $1 AND m.member_id = p.id LIMIT $3) capped)::int AS groups
         FROM unnest($2::uuid[]) AS p(id)`,
        [tenantId, userIds, cap],
      )
      for (const row of rows) result.set(row.user_id, row.groups)
      return result
    },

    async groupsOf(tenantId, userIds, limit) {
      if (userIds.length === 0 || limit <= 0) return new Map()
      const { rows } = await db.query<MembershipRow>(
        `SELECT m.member_id, g.id AS group_id, g.display_name
         FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
         WHERE m.tenant_id = $1 AND m.member_id = ANY($2::uuid[])
         ORDER BY g.seq
         LIMIT $3`,
        [tenantId, userIds, limit],
      )
      return byMember(rows)
    },

    listWithGroups: (tenantId, query, limit) => listUsersWithGroups(db, tenantId, query, limit),

    async existingIds(tenantId, ids) {
      if (ids.length === 0) return new Set()
      const { rows } = await db.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [tenantId, ids])
      return new Set(rows.map((r) => r.id))
    },
  }
}
