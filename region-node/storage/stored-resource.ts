import type { ScimResource } from '../scim/schema/types.ts'

/** A row as the services see it: the SCIM attributes plus what the server keeps about them. */
export interface StoredResource {
  readonly id: string
  /** Insertion order, the tie-breaker of every sort (a bigint, kept as text). */
  readonly seq: string
  readonly version: number
  readonly created: Date
  readonly lastModified: Date
  /** Client-settable attributes in SCIM wire shape, without id, meta, schemas and derived attributes. */
  readonly attributes: ScimResource
}

export interface ResourceRow extends Record<string, unknown> {
  id: string
  seq: string
  version: number
  created: Date
  last_modified: Date
  attributes: ScimResource
}

export const RESOURCE_COLUMNS = 'r.id, r.seq, r.version, r.created, r.last_modified, r.attributes'

export function toStoredResource(row: ResourceRow): StoredResource {
  return { id: row.id, seq: String(row.seq), version: row.version, created: row.created, lastModified: row.last_modified, attributes: row.attributes }
}

/** The SQL pieces of one list query, compiled from filter, sort and paging. */
export interface ListQuery {
  /** Condition over `r`, with placeholders numbered after `$1` (the tenant id). */
  readonly where: string
  readonly orderBy: string
  /** The sort key expression, returned with each row so the next cursor can name it. */
  readonly sortKey: string
  /** The same order over a selected page's columns `sort_key` and `seq` (to re-sort a page read as a CTE). */
  readonly pageOrderBy: string
  readonly values: readonly unknown[]
  readonly limit: number
  readonly offset: number
}

export type UpdateOutcome = { readonly kind: 'updated'; readonly resource: StoredResource } | { readonly kind: 'missing' } | { readonly kind: 'versionMismatch'; readonly current: number }

export interface ListedResource extends StoredResource {
  readonly sortKey: unknown
}

export function toListedResource(row: ResourceRow & { sort_key: unknown }): ListedResource {
  return { ...toStoredResource(row), sortKey: row.sort_key }
}
