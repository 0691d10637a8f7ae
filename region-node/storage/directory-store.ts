// What the admin console reads of a tenant's directory: small keyset pages
// (by insertion order for users and groups, by member id for members), so a
// tenant of 100,000 users costs the same page as one of ten. Searches match
// userName by prefix (indexed) and names by substring.
import type { Queryable } from './database.ts'
import { likePattern } from './sql-params.ts'

export interface DirectoryUserRow {
  readonly id: string
  readonly seq: string
  readonly userName: string
  readonly displayName: string | null
  readonly attributes: Record<string, unknown>
  readonly active: boolean
  readonly externalId: string | null
  readonly lastModified: Date
}

export interface DirectoryGroupRow {
  readonly id: string
  readonly seq: string
  readonly displayName: string
  readonly externalId: string | null
  readonly attributes: Record<string, unknown>
  readonly memberCount: number
  readonly version: number
  readonly lastModified: Date
}

export interface DirectoryMemberRow {
  readonly id: string
  readonly type: 'User' | 'Group'
  readonly display: string | null
}

export interface DirectoryStore {
  /** Users after `afterSeq` in insertion order; `limit` rows at most. */
  users(tenantId: string, query: { search: string | undefined; active: boolean | undefined; afterSeq: string | undefined; limit: number }): Promise<DirectoryUserRow[]>
  user(tenantId: string, id: string): Promise<DirectoryUserRow | undefined>
  /** Direct groups of a user, by name; `limit` rows at most. */
  groupsOfUser(tenantId: string, userId: string, limit: number): Promise<{ id: string; displayName: string }[]>
  groups(tenantId: string, query: { search: string | undefined; afterSeq: string | undefined; limit: number }): Promise<DirectoryGroupRow[]>
  group(tenantId: string, id: string): Promise<DirectoryGroupRow | undefined>
  /** Members of a group after `afterId` in id order. */
  members(tenantId: string, groupId: string, afterId: string | undefined, limit: number): Promise<DirectoryMemberRow[]>
}

const USER_COLUMNS = `u.id, u.seq::text AS seq, u.user_name AS "userName", u.display_name AS "displayName", u.attributes, u.active,
  u.external_id AS "externalId", u.last_modified AS "lastModified"`
// One index probe per listed group (group_members' primary key starts with tenant and group).
const GROUP_COLUMNS = `g.id, g.seq::text AS seq, g.display_name AS "displayName", g.external_id AS "externalId", g.attributes, g.version,
  g.last_modified AS "lastModified",
  (SELECT count(*) FROM group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id)::int AS "memberCount"`

export function createDirectoryStore(db: Queryable): DirectoryStore {
  return {
    async users(tenantId, query) {
      const search = query.search?.trim().toLowerCase() || null
      const { rows } = await db.query<DirectoryUserRow & Record<string, unknown>>(
        `SELECT ${USER_COLUMNS} FROM users u
         WHERE u.tenant_id = $1
           AND ($2::text IS NULL
                OR u.user_name_lower LIKE $3
                OR lower(u.display_name) LIKE $4
                OR lower(u.attributes #>> '{name,formatted}') LIKE $4
                OR lower(u.attributes #>> '{name,givenName}') LIKE $4
                OR lower(u.attributes #>> '{name,familyName}') LIKE $4)
           AND ($5::boolean IS NULL OR u.active = $5)
           AND ($6::bigint IS NULL OR u.seq > $6::bigint)
         ORDER BY u.seq LIMIT $7`,
        [tenantId, search, search === null ? null : likePattern(search, 'startsWith'), search === null ? null : likePattern(search, 'contains'), query.active ?? null, query.afterSeq ?? null, query.limit],
      )
      return rows
    },

    async user(tenantId, id) {
      const { rows } = await db.query<DirectoryUserRow & Record<string, unknown>>(`SELECT ${USER_COLUMNS} FROM users u WHERE u.tenant_id = $1 AND u.id = $2`, [tenantId, id])
      return rows[0]
    },

    async groupsOfUser(tenantId, userId, limit) {
      const { rows } = await db.query<{ id: string; displayName: string }>(
        `SELECT g.id, g.display_name AS "displayName"
         FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
         WHERE m.tenant_id = $1 AND m.member_id = $2
         ORDER BY g.display_name_lower, g.id LIMIT $3`,
        [tenantId, userId, limit],
      )
      return rows
    },

    async groups(tenantId, query) {
      const search = query.search?.trim().toLowerCase() || null
      const { rows } = await db.query<DirectoryGroupRow & Record<string, unknown>>(
        `SELECT ${GROUP_COLUMNS} FROM groups g
         WHERE g.tenant_id = $1
           AND ($2::text IS NULL OR g.display_name_lower LIKE $2)
           AND ($3::bigint IS NULL OR g.seq > $3::bigint)
         ORDER BY g.seq LIMIT $4`,
        [tenantId, search === null ? null : likePattern(search, 'contains'), query.afterSeq ?? null, query.limit],
      )
      return rows
    },

    async group(tenantId, id) {
      const { rows } = await db.query<DirectoryGroupRow & Record<string, unknown>>(`SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.tenant_id = $1 AND g.id = $2`, [tenantId, id])
      return rows[0]
    },

    async members(tenantId, groupId, afterId, limit) {
      const { rows } = await db.query<DirectoryMemberRow & Record<string, unknown>>(
        `SELECT m.member_id AS id, m.member_type AS type, COALESCE(u.display_name, u.user_name, g.display_name) AS display
         FROM group_members m
         LEFT JOIN users u ON m.member_type = 'User' AND u.tenant_id = m.tenant_id AND u.id = m.member_id
         LEFT JOIN groups g ON m.member_type = 'Group' AND g.tenant_id = m.tenant_id AND g.id = m.member_id
         WHERE m.tenant_id = $1 AND m.group_id = $2 AND ($3::uuid IS NULL OR m.member_id > $3::uuid)
         ORDER BY m.member_id LIMIT $4`,
        [tenantId, groupId, afterId ?? null, limit],
      )
      return rows
    },
  }
}
