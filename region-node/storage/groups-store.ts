import type { ScimResource } from '../scim/schema/types.ts'
import type { Queryable } from './database.ts'
import type { MembershipLog } from './events-store.ts'
import { isUuid } from './sql-params.ts'
import { countRows, findRow, listRows, updateRow } from './resource-rows.ts'
import { RESOURCE_COLUMNS, toStoredResource, type ListQuery, type ListedResource, type ResourceRow, type StoredResource, type UpdateOutcome } from './stored-resource.ts'

export type MemberType = 'User' | 'Group'

export interface StoredMember {
  readonly value: string
  readonly type: MemberType
  readonly display: string | null
}

export interface MemberInput {
  readonly value: string
  readonly type?: MemberType
}

/** What a membership change did; ids that are not users or groups of the tenant are skipped, not fatal (docs/identity-providers.md#r3). */
export interface MembershipChange {
  readonly added: number
  readonly removed: number
  readonly skipped: readonly string[]
}

export interface GroupsStore {
  insert(tenantId: string, id: string, attributes: ScimResource): Promise<StoredResource>
  find(tenantId: string, id: string): Promise<StoredResource | undefined>
  findForUpdate(tenantId: string, id: string): Promise<StoredResource | undefined>
  update(tenantId: string, id: string, attributes: ScimResource, expectedVersion: number | undefined): Promise<UpdateOutcome>
  /** Bumps version and lastModified after a membership change; locks the row so concurrent changes to one group queue up. */
  touch(tenantId: string, id: string, expectedVersion: number | undefined): Promise<UpdateOutcome>
  delete(tenantId: string, id: string): Promise<boolean>
  list(tenantId: string, query: ListQuery): Promise<ListedResource[]>
  count(tenantId: string, where: string, values: readonly unknown[]): Promise<number>
  /** Members of the groups, at most `limit` rows in all (read with LIMIT, never a whole large group). */
  membersOf(tenantId: string, groupIds: readonly string[], limit: number): Promise<Map<string, StoredMember[]>>
  /** Each group's member count, counting no further than `cap` (a huge group costs `cap` index entries, not all of them). */
  memberCountsUpTo(tenantId: string, groupIds: readonly string[], cap: number): Promise<Map<string, number>>
  /** `log`: one event per member added or removed, written by the same statements. */
  addMembers(tenantId: string, groupId: string, members: readonly MemberInput[], log?: MembershipLog): Promise<MembershipChange>
  removeMembers(tenantId: string, groupId: string, memberIds: readonly string[], log?: MembershipLog): Promise<MembershipChange>
  removeAllMembers(tenantId: string, groupId: string, log?: MembershipLog): Promise<MembershipChange>
  /** Makes the member set exactly `members`, as a diff: rows that stay are not touched. */
  replaceMembers(tenantId: string, groupId: string, members: readonly MemberInput[], log?: MembershipLog): Promise<MembershipChange>
}

function splitIds(values: readonly string[], selfId?: string): { valid: string[]; skipped: string[] } {
  const valid: string[] = []
  const skipped: string[] = []
  const seen = new Set<string>()
  for (const value of values) {
    const id = value.toLowerCase()
    if (!isUuid(id) || id === selfId) skipped.push(value)
    else if (!seen.has(id)) {
      seen.add(id)
      valid.push(id)
    }
  }
  return { valid, skipped }
}

export function createGroupsStore(db: Queryable): GroupsStore {
  const externalId = (attributes: ScimResource): string | null => (typeof attributes.externalId === 'string' ? attributes.externalId : null)

  /** Inserts the given ids that exist as users or groups of the tenant; returns how many rows were new and which ids were unknown. */
  async function insertMembers(tenantId: string, groupId: string, ids: readonly string[], log: MembershipLog | undefined): Promise<{ added: number; unknown: string[] }> {
    if (ids.length === 0) return { added: 0, unknown: [] }
    const events = log?.ctes('inserted', 'membership.added', groupId, 4)
    const { rows } = await db.query<{ member_id: string; known: boolean; inserted: boolean }>(
      `WITH wanted AS (SELECT DISTINCT unnest($3::uuid[]) AS id),
            resolved AS (
              SELECT w.id, CASE WHEN u.id IS NOT NULL THEN 'User' WHEN g.id IS NOT NULL THEN 'Group' END AS member_type
              FROM wanted w
              LEFT JOIN users u ON u.tenant_id = $1 AND u.id = w.id
              LEFT JOIN groups g ON g.tenant_id = $1 AND g.id = w.id),
            inserted AS (
              INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
              SELECT $1, $2, id, member_type FROM resolved WHERE member_type IS NOT NULL
              ON CONFLICT DO NOTHING
              RETURNING member_id, member_type)${events === undefined ? '' : `, ${events.sql}`}
       SELECT r.id::text AS member_id, (r.member_type IS NOT NULL) AS known, (i.member_id IS NOT NULL) AS inserted
       FROM resolved r LEFT JOIN inserted i ON i.member_id = r.id`,
      [tenantId, groupId, ids, ...(events?.values ?? [])],
    )
    const unknown = rows.filter((r) => !r.known).map((r) => r.member_id)
    return { added: rows.filter((r) => r.inserted).length, unknown }
  }

  /** `values` are [tenantId, groupId, …]; the condition's own placeholders follow. */
  async function deleteMembers(condition: string, values: readonly unknown[], log: MembershipLog | undefined): Promise<number> {
    const events = log?.ctes('removed', 'membership.removed', String(values[1]), values.length + 1)
    const { rows } = await db.query<{ removed: number }>(
      `WITH removed AS (DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND ${condition} RETURNING member_id, member_type)${events === undefined ? '' : `, ${events.sql}`}
       SELECT count(*)::int AS removed FROM removed`,
      [...values, ...(events?.values ?? [])],
    )
    return rows[0]?.removed ?? 0
  }

  function updateGroup(tenantId: string, id: string, attributes: ScimResource | null, expectedVersion: number | undefined): Promise<UpdateOutcome> {
    return attributes === null
      ? updateRow(db, 'groups', tenantId, id, expectedVersion, {})
      : updateRow(db, 'groups', tenantId, id, expectedVersion, { display_name: String(attributes.displayName), external_id: externalId(attributes), attributes })
  }

  return {
    async insert(tenantId, id, attributes) {
      const { rows } = await db.query<ResourceRow>(
        `INSERT INTO groups AS r (tenant_id, id, display_name, external_id, attributes) VALUES ($1, $2, $3, $4, $5) RETURNING ${RESOURCE_COLUMNS}`,
        [tenantId, id, String(attributes.displayName), externalId(attributes), attributes],
      )
      return toStoredResource(rows[0]!)
    },

    find: (tenantId, id) => findRow(db, 'groups', tenantId, id, false),

    findForUpdate: (tenantId, id) => findRow(db, 'groups', tenantId, id, true),

    update: (tenantId, id, attributes, expectedVersion) => updateGroup(tenantId, id, attributes, expectedVersion),
    touch: (tenantId, id, expectedVersion) => updateGroup(tenantId, id, null, expectedVersion),

    async delete(tenantId, id) {
      // Memberships of the group go by ON DELETE CASCADE; memberships *in* other groups go here.
      await db.query('DELETE FROM group_members WHERE tenant_id = $1 AND member_id = $2', [tenantId, id])
      const { rowCount } = await db.query('DELETE FROM groups WHERE tenant_id = $1 AND id = $2', [tenantId, id])
      return (rowCount ?? 0) > 0
    },

    list: (tenantId, query) => listRows(db, 'groups', tenantId, query),

    count: (tenantId, where, values) => countRows(db, 'groups', tenantId, where, values),

    async membersOf(tenantId, groupIds, limit) {
      const result = new Map<string, StoredMember[]>()
      if (groupIds.length === 0 || limit <= 0) return result
      const { rows } = await db.query<{ group_id: string; member_id: string; member_type: MemberType; display: string | null }>(
        `SELECT m.group_id, m.member_id, m.member_type, COALESCE(u.display_name, u.user_name, g.display_name) AS display
         FROM group_members m
         LEFT JOIN users u ON m.member_type = 'User' AND u.tenant_id = m.tenant_id AND u.id = m.member_id
         LEFT JOIN groups g ON m.member_type = 'Group' AND g.tenant_id = m.tenant_id AND g.id = m.member_id
         WHERE m.tenant_id = $1 AND m.group_id = ANY($2::uuid[])
         ORDER BY m.group_id, m.member_id
         LIMIT $3`,
        [tenantId, groupIds, limit],
      )
      for (const row of rows) {
        const list = result.get(row.group_id) ?? []
        list.push({ value: row.member_id, type: row.member_type, display: row.display })
        result.set(row.group_id, list)
      }
      return result
    },

    async memberCountsUpTo(tenantId, groupIds, cap) {
      const result = new Map<string, number>()
      if (groupIds.length === 0) return result
      const { rows } = await db.query<{ group_id: string; members: number }>(
        `SELECT p.id::text AS group_id,
                (SELECT count(*) FROM (SELECT 1 FROM group_members m WHERE m.tenant_id = $1 AND m.group_id = p.id LIMIT $3) capped)::int AS members
         FROM unnest($2::uuid[]) AS p(id)`,
        [tenantId, groupIds, cap],
      )
      for (const row of rows) result.set(row.group_id, row.members)
      return result
    },

    async addMembers(tenantId, groupId, members, log) {
      const { valid, skipped } = splitIds(members.map((m) => m.value), groupId)
      const { added, unknown } = await insertMembers(tenantId, groupId, valid, log)
      return { added, removed: 0, skipped: [...skipped, ...unknown] }
    },

    async removeMembers(tenantId, groupId, memberIds, log) {
      const { valid, skipped } = splitIds(memberIds)
      if (valid.length === 0) return { added: 0, removed: 0, skipped }
      const removed = await deleteMembers('member_id = ANY($3::uuid[])', [tenantId, groupId, valid], log)
      return { added: 0, removed, skipped }
    },

    async removeAllMembers(tenantId, groupId, log) {
      const removed = await deleteMembers('true', [tenantId, groupId], log)
      return { added: 0, removed, skipped: [] }
    },

    async replaceMembers(tenantId, groupId, members, log) {
      const { valid, skipped } = splitIds(members.map((m) => m.value), groupId)
      const removed = await deleteMembers('NOT (member_id = ANY($3::uuid[]))', [tenantId, groupId, valid], log)
      const { added, unknown } = await insertMembers(tenantId, groupId, valid, log)
      return { added, removed, skipped: [...skipped, ...unknown] }
    },
  }
}
