import type { AttributeType, ResourceTypeName } from '../scim/schema/types.ts'

/** An attribute kept in its own (indexed) column rather than inside `attributes`. */
export interface ColumnAttribute {
  readonly sql: string
  readonly type: AttributeType | 'uuid'
  /** A stored lower-case copy to compare case-insensitively (indexable under row-level security, unlike lower(column)). */
  readonly foldedSql?: string
}

export interface ResourceTable {
  readonly resourceType: ResourceTypeName
  readonly table: 'users' | 'groups'
  /** Keys are canonical attribute paths in lower case: `username`, `meta.lastmodified`. */
  readonly columns: Readonly<Record<string, ColumnAttribute>>
  /** The multi-valued attribute backed by the group_members table. */
  readonly membership: { readonly attribute: 'groups' | 'members'; readonly ownerColumn: 'member_id' | 'group_id'; readonly otherColumn: 'group_id' | 'member_id' }
}

// Every query aliases the resource table as `r`.
const commonColumns = {
  id: { sql: 'r.id', type: 'uuid' },
  externalid: { sql: 'r.external_id', type: 'string' },
  'meta.created': { sql: 'r.created', type: 'dateTime' },
  'meta.lastmodified': { sql: 'r.last_modified', type: 'dateTime' },
} as const satisfies Record<string, ColumnAttribute>

export const USERS_TABLE: ResourceTable = {
  resourceType: 'User',
  table: 'users',
  columns: {
    ...commonColumns,
    username: { sql: 'r.user_name', type: 'string', foldedSql: 'r.user_name_lower' },
    displayname: { sql: 'r.display_name', type: 'string' },
    active: { sql: 'r.active', type: 'boolean' },
  },
  membership: { attribute: 'groups', ownerColumn: 'member_id', otherColumn: 'group_id' },
}

export const GROUPS_TABLE: ResourceTable = {
  resourceType: 'Group',
  table: 'groups',
  columns: {
    ...commonColumns,
    displayname: { sql: 'r.display_name', type: 'string', foldedSql: 'r.display_name_lower' },
  },
  membership: { attribute: 'members', ownerColumn: 'group_id', otherColumn: 'member_id' },
}
