// The console's reads of a tenant's directory, shaped as the admin contract
// (lib/admin-api/contract.ts) says. Cursors are the SCIM lists' (scim/cursor.ts):
// encrypted, bound to the tenant and the query, expiring.
import type { GroupAccessView, GroupDetail, GroupPage, GroupQuery, GroupSummary, MemberPage, UserDetail, UserPage, UserQuery, UserSummary } from '../../lib/admin-api/contract.ts'
import { ScimError } from '../../lib/scim-error.ts'
import { queryFingerprint, type CursorCodec } from '../scim/cursor.ts'
import { formatVersion } from '../scim/etag.ts'
import { GROUP_ACCESS_SCHEMA } from '../scim/schema/index.ts'
import type { TenantDatabase } from '../storage/database.ts'
import { createDirectoryStore, type DirectoryGroupRow, type DirectoryUserRow } from '../storage/directory-store.ts'
import { isUuid } from '../storage/sql-params.ts'

export interface DirectoryService {
  users(tenantId: string, query: UserQuery): Promise<UserPage>
  user(tenantId: string, id: string): Promise<UserDetail>
  groups(tenantId: string, query: GroupQuery): Promise<GroupPage>
  group(tenantId: string, id: string): Promise<GroupDetail>
  members(tenantId: string, groupId: string, query: { cursor?: string; count: number }): Promise<MemberPage>
}

const USER_GROUPS_SHOWN = 50

/** Positions in a list: the insertion sequence for users and groups (`s`), the member id for members (`m`). */
interface Cursors {
  encode(tenantId: string, list: readonly (string | undefined)[], position: string): string
  decode(tenantId: string, list: readonly (string | undefined)[], cursor: string | undefined, kind: 's' | 'm'): string | undefined
}

function directoryCursors(codec: CursorCodec, now: () => number): Cursors {
  const binding = (tenantId: string, list: readonly (string | undefined)[]) => ({ tenantId, fingerprint: queryFingerprint(['console', ...list]) })
  return {
    encode: (tenantId, list, position) => codec.encode({ key: position, seq: '0' }, binding(tenantId, list), now()),
    decode(tenantId, list, cursor, kind) {
      if (cursor === undefined || cursor === '') return undefined
      const position = codec.decode(cursor, binding(tenantId, list), now()).key
      const valid = typeof position === 'string' && (kind === 's' ? /^\d{1,19}$/.test(position) : isUuid(position))
      if (!valid) throw new ScimError(400, 'invalidCursor', 'the cursor is not valid for this list')
      return position
    },
  }
}

function nameOf(attributes: Record<string, unknown>): string | null {
  const name = attributes.name as Record<string, unknown> | undefined
  if (name === undefined || typeof name !== 'object' || name === null) return null
  if (typeof name.formatted === 'string' && name.formatted !== '') return name.formatted
  const parts = [name.givenName, name.familyName].filter((p): p is string => typeof p === 'string' && p !== '')
  return parts.length === 0 ? null : parts.join(' ')
}

function userSummary(row: DirectoryUserRow): UserSummary {
  return {
    id: row.id,
    userName: row.userName,
    displayName: row.displayName,
    name: nameOf(row.attributes),
    active: row.active,
    externalId: row.externalId,
    lastModified: row.lastModified.toISOString(),
  }
}

function groupSummary(row: DirectoryGroupRow): GroupSummary {
  return { id: row.id, displayName: row.displayName, externalId: row.externalId, memberCount: row.memberCount, lastModified: row.lastModified.toISOString() }
}

function accessOf(attributes: Record<string, unknown>): GroupAccessView {
  const extension = attributes[GROUP_ACCESS_SCHEMA] as { roles?: { value?: unknown }[]; scope?: { type?: unknown; values?: unknown } } | undefined
  const roles = (extension?.roles ?? []).map((r) => r.value).filter((v): v is string => typeof v === 'string')
  const values = extension?.scope?.values
  const scope = Array.isArray(values) ? { type: 'Exact' as const, values: values.filter((v): v is string => typeof v === 'string') } : null
  return { roles, scope }
}

function pageOf<Row, Out>(rows: readonly Row[], count: number, map: (row: Row) => Out, next: (last: Row) => string): { items: Out[]; nextCursor: string | null } {
  const page = rows.slice(0, count)
  const last = page[page.length - 1]
  return { items: page.map(map), nextCursor: rows.length > count && last !== undefined ? next(last) : null }
}

const notFound = (type: string, id: string): ScimError => new ScimError(404, undefined, `${type} ${id} not found`)

export function createDirectoryService(database: TenantDatabase, codec: CursorCodec, now: () => number = Date.now): DirectoryService {
  const cursors = directoryCursors(codec, now)
  return {
    async users(tenantId, query) {
      const list = ['users', query.search, query.status]
      const afterSeq = cursors.decode(tenantId, list, query.cursor, 's')
      const active = query.status === 'all' ? undefined : query.status === 'active'
      const rows = await database.read(tenantId, (db) => createDirectoryStore(db).users(tenantId, { search: query.search, active, afterSeq, limit: query.count + 1 }))
      const { items, nextCursor } = pageOf(rows, query.count, userSummary, (last) => cursors.encode(tenantId, list, last.seq))
      return { users: items, nextCursor }
    },

    async user(tenantId, id) {
      if (!isUuid(id)) throw notFound('User', id)
      const found = await database.read(tenantId, async (db) => {
        const store = createDirectoryStore(db)
        const row = await store.user(tenantId, id)
        return row === undefined ? undefined : { row, groups: await store.groupsOfUser(tenantId, id, USER_GROUPS_SHOWN + 1) }
      })
      if (found === undefined) throw notFound('User', id)
      const emails = Array.isArray(found.row.attributes.emails)
        ? (found.row.attributes.emails as { value?: unknown }[]).map((e) => e.value).filter((v): v is string => typeof v === 'string')
        : []
      return { ...userSummary(found.row), emails, groups: found.groups.slice(0, USER_GROUPS_SHOWN), moreGroups: found.groups.length > USER_GROUPS_SHOWN }
    },

    async groups(tenantId, query) {
      const list = ['groups', query.search]
      const afterSeq = cursors.decode(tenantId, list, query.cursor, 's')
      const rows = await database.read(tenantId, (db) => createDirectoryStore(db).groups(tenantId, { search: query.search, afterSeq, limit: query.count + 1 }))
      const { items, nextCursor } = pageOf(rows, query.count, groupSummary, (last) => cursors.encode(tenantId, list, last.seq))
      return { groups: items, nextCursor }
    },

    async group(tenantId, id) {
      if (!isUuid(id)) throw notFound('Group', id)
      const row = await database.read(tenantId, (db) => createDirectoryStore(db).group(tenantId, id))
      if (row === undefined) throw notFound('Group', id)
      return { ...groupSummary(row), access: accessOf(row.attributes), etag: formatVersion(row.version) }
    },

    async members(tenantId, groupId, query) {
      if (!isUuid(groupId)) throw notFound('Group', groupId)
      const list = ['members', groupId]
      const afterId = cursors.decode(tenantId, list, query.cursor, 'm')
      const rows = await database.read(tenantId, async (db) => {
        const store = createDirectoryStore(db)
        const members = await store.members(tenantId, groupId, afterId, query.count + 1)
        // Only an empty page needs to tell "no such group" from "no (more) members".
        if (members.length === 0 && (await store.group(tenantId, groupId)) === undefined) return undefined
        return members
      })
      if (rows === undefined) throw notFound('Group', groupId)
      const { items, nextCursor } = pageOf(rows, query.count, (r) => ({ id: r.id, type: r.type, display: r.display }), (last) => cursors.encode(tenantId, list, last.id))
      return { members: items, nextCursor }
    },
  }
}
