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
  /** The group's version and lastModified after a change that bumped them. */
  readonly bumped?: { readonly version: number; readonly lastModified: Date }
}

export interface GroupsStore {
  insert(tenantId: string, id: string, attributes: ScimResource): Promise<StoredResource>
  find(tenantId: string, id: string): Promise<StoredResource | undefined>
  findForUpdate(tenantId: string, id: string): Promise<StoredResource | undefined>
  update(tenantId: string, id: string, attributes: ScimResource, expectedVersion: number | undefined): Promise<UpdateOutcome>
  delete(tenantId: string, id: string): Promise<boolean>
  list(tenantId: string, query: ListQuery): Promise<ListedResource[]>
  count(tenantId: string, where: string, values: readonly unknown[]): Promise<number>
  /** Members of the groups, at most `limit` rows in all (read with LIMIT, never a whole large group). */
  membersOf(tenantId: string, groupIds: readonly string[], limit: number): Promise<Map<string, StoredMember[]>>
  /** Each group's member count, counting no further than `cap` (a huge group costs `cap` index entries, not all of them). */
  memberCountsUpTo(tenantId: string, groupIds: readonly string[], cap: number): Promise<Map<string, number>>
  /**
   * Membership changes are set operations, one statement each. `log`: one event per member added or removed,
   * written by the same statement. `bump`: the group's next version; when the statement changes a member it also
   * sets the group's version to it and its lastModified to now (the caller holds the group row's lock).
   */
  addMembers(tenantId: string, groupId: string, members: readonly MemberInput[], log?: MembershipLog, bump?: number): Promise<MembershipChange>
  removeMembers(tenantId: string, groupId: string, memberIds: readonly string[], log?: MembershipLog, bump?: number): Promise<MembershipChange>
  removeAllMembers(tenantId: string, groupId: string, log?: MembershipLog, bump?: number): Promise<MembershipChange>
  /**
   * Locks the group row, adds the members and bumps version and lastModified when any was new, all in one
   * statement; undefined when the group does not exist. Only for adding: inserts check conflicts against the
   * latest committed rows, whatever the statement's snapshot, so a concurrent change that committed while this
   * statement waited for the lock is never undone (a delete would miss rows such a change added).
   */
  lockAndAddMembers(tenantId: string, groupId: string, members: readonly MemberInput[], log?: MembershipLog): Promise<{ change: MembershipChange; version: number; lastModified: Date } | undefined>
  /** Makes the member set exactly `members`, as a diff: rows that stay are not touched. */
  replaceMembers(tenantId: string, groupId: string, members: readonly MemberInput[], log?: MembershipLog, bump?: number): Promise<MembershipChange>
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

  // $1 tenant, $2 group, $3 the version to bump to (null: leave the group row alone), then the statement's own.
  // Bumping touches no indexed column of groups, so it is a HOT update (see the group-hot-updates migration).
  const bumpCte = (changed: string): string =>
    `bumped AS (
       UPDATE groups SET version = $3::int, last_modified = clock_timestamp()
       WHERE tenant_id = $1 AND id = $2 AND $3::int IS NOT NULL AND EXISTS (SELECT 1 FROM ${changed})
       RETURNING version, last_modified)`
  const bumpedOf = (row: { version: number | null; last_modified: Date | null } | undefined): MembershipChange['bumped'] =>
    row?.version == null || row.last_modified === null ? undefined : { version: row.version, lastModified: row.last_modified }

  /** `resolved`: each distinct id of the uuid[] parameter, with its member type when it is a user or group of the tenant. */
  const resolvedCte = (idsParam: string): string =>
    `resolved AS MATERIALIZED (
       SELECT w.id, CASE WHEN u.id IS NOT NULL THEN 'User' WHEN g.id IS NOT NULL THEN 'Group' END AS member_type
       FROM (SELECT DISTINCT unnest(${idsParam}::uuid[]) AS id) w
       LEFT JOIN users u ON u.tenant_id = $1 AND u.id = w.id
       LEFT JOIN groups g ON g.tenant_id = $1 AND g.id = w.id)`

  /** Inserts the given ids that are users or groups of the tenant, in one statement; returns how many rows were new and which ids were unknown. */
  async function insertMembers(tenantId: string, groupId: string, ids: readonly string[], log: MembershipLog | undefined, bump: number | undefined) {
    if (ids.length === 0) return { added: 0, unknown: [] as string[], bumped: undefined }
    const events = log?.ctes('inserted', 'membership.added', groupId, 5)
    const { rows } = await db.query<{ added: number; unknown: string[]; version: number | null; last_modified: Date | null }>(
      `WITH ${resolvedCte('$4')},
            inserted AS (
              INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
              SELECT $1, $2, id, member_type FROM resolved WHERE member_type IS NOT NULL
              ON CONFLICT DO NOTHING
              RETURNING member_id, member_type),
            ${bumpCte('inserted')}${events === undefined ? '' : `, ${events.sql}`}
       SELECT (SELECT count(*) FROM inserted)::int AS added,
              ARRAY(SELECT id::text FROM resolved WHERE member_type IS NULL) AS unknown,
              b.version, b.last_modified
       FROM (SELECT 1) one LEFT JOIN bumped b ON true`,
      [tenantId, groupId, bump ?? null, ids, ...(events?.values ?? [])],
    )
    return { added: rows[0]?.added ?? 0, unknown: rows[0]?.unknown ?? [], bumped: bumpedOf(rows[0]) }
  }

  /** `values` are [tenantId, groupId, bump, …]; the condition's own placeholders follow. */
  async function deleteMembers(condition: string, values: readonly unknown[], log: MembershipLog | undefined): Promise<{ removed: number; bumped: MembershipChange['bumped'] }> {
    const events = log?.ctes('removed', 'membership.removed', String(values[1]), values.length + 1)
    const { rows } = await db.query<{ removed: number; version: number | null; last_modified: Date | null }>(
      `WITH removed AS (DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND ${condition} RETURNING member_id, member_type),
            ${bumpCte('removed')}${events === undefined ? '' : `, ${events.sql}`}
       SELECT (SELECT count(*) FROM removed)::int AS removed, b.version, b.last_modified
       FROM (SELECT 1) one LEFT JOIN bumped b ON true`,
      [...values, ...(events?.values ?? [])],
    )
    return { removed: rows[0]?.removed ?? 0, bumped: bumpedOf(rows[0]) }
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

    update: (tenantId, id, attributes, expectedVersion) =>
      updateRow(db, 'groups', tenantId, id, expectedVersion, { display_name: String(attributes.displayName), external_id: externalId(attributes), attributes }),

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

    async addMembers(tenantId, groupId, members, log, bump) {
      const { valid, skipped } = splitIds(members.map((m) => m.value), groupId)
      const { added, unknown, bumped } = await insertMembers(tenantId, groupId, valid, log, bump)
      return { added, removed: 0, skipped: [...skipped, ...unknown], ...(bumped === undefined ? {} : { bumped }) }
    },

    async lockAndAddMembers(tenantId, groupId, members, log) {
      const { valid, skipped } = splitIds(members.map((m) => m.value), groupId)
      const events = log?.ctes('inserted', 'membership.added', groupId, 4)
      // Nothing is inserted without the locked row: the insert reads `locked`, so it waits for the lock.
      const { rows } = await db.query<{ added: number; unknown: string[]; version: number; last_modified: Date }>(
        `WITH locked AS MATERIALIZED (SELECT version, last_modified FROM groups WHERE tenant_id = $1 AND id = $2 FOR UPDATE),
              ${resolvedCte('$3')},
              inserted AS (
                INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
                SELECT $1, $2, r.id, r.member_type FROM locked, resolved r WHERE r.member_type IS NOT NULL
                ON CONFLICT DO NOTHING
                RETURNING member_id, member_type),
              bumped AS (
                UPDATE groups SET version = version + 1, last_modified = clock_timestamp()
                WHERE tenant_id = $1 AND id = $2 AND EXISTS (SELECT 1 FROM inserted)
                RETURNING version, last_modified)${events === undefined ? '' : `, ${events.sql}`}
         SELECT (SELECT count(*) FROM inserted)::int AS added,
                ARRAY(SELECT id::text FROM resolved WHERE member_type IS NULL) AS unknown,
                COALESCE(b.version, l.version) AS version, COALESCE(b.last_modified, l.last_modified) AS last_modified
         FROM locked l LEFT JOIN bumped b ON true`,
        [tenantId, groupId, valid, ...(events?.values ?? [])],
      )
      const row = rows[0]
      if (row === undefined) return undefined
      return { change: { added: row.added, removed: 0, skipped: [...skipped, ...row.unknown] }, version: row.version, lastModified: row.last_modified }
    },

    async removeMembers(tenantId, groupId, memberIds, log, bump) {
      const { valid, skipped } = splitIds(memberIds)
      if (valid.length === 0) return { added: 0, removed: 0, skipped }
      const { removed, bumped } = await deleteMembers('member_id = ANY($4::uuid[])', [tenantId, groupId, bump ?? null, valid], log)
      return { added: 0, removed, skipped, ...(bumped === undefined ? {} : { bumped }) }
    },

    async removeAllMembers(tenantId, groupId, log, bump) {
      const { removed, bumped } = await deleteMembers('true', [tenantId, groupId, bump ?? null], log)
      return { added: 0, removed, skipped: [], ...(bumped === undefined ? {} : { bumped }) }
    },

    async replaceMembers(tenantId, groupId, members, log, bump) {
      const { valid, skipped } = splitIds(members.map((m) => m.value), groupId)
      const deleted = await deleteMembers('NOT (member_id = ANY($4::uuid[]))', [tenantId, groupId, bump ?? null, valid], log)
      const inserted = await insertMembers(tenantId, groupId, valid, log, bump)
      const bumped = inserted.bumped ?? deleted.bumped
      return { added: inserted.added, removed: deleted.removed, skipped: [...skipped, ...inserted.unknown], ...(bumped === undefined ? {} : { bumped }) }
    },
  }
}
