// Turns a parsed list request into the SQL pieces a store runs, and the rows a
// store returns into a ListResponse page (RFC 7644 §3.4.2, RFC 9865).
import { queryFingerprint, type CursorBinding, type CursorCodec, type SortKeyValue } from '../scim/cursor.ts'
import { formatAttributePath } from '../scim/filter/index.ts'
import type { ListRequest } from '../scim/list-request.ts'
import type { ResourceTypeDefinition } from '../scim/schema/types.ts'
import { filterToSql, sortExpression, type CompileContext } from './filter-to-sql.ts'
import type { ResourceTable } from './resource-tables.ts'
import { SqlParams } from './sql-params.ts'
import type { ListQuery, ListedResource } from './stored-resource.ts'

export interface ListPlan {
  readonly query: ListQuery
  /** The filter alone (no keyset position), for totalResults. */
  readonly countWhere: string
  readonly countValues: readonly unknown[]
  /** Rows the page shows; the query asks one more in cursor mode to learn whether a next page exists. */
  readonly pageSize: number
  /** What the page's cursors are bound to: the tenant and the query (cursor paging only). */
  readonly binding: CursorBinding | undefined
}

/** How cursors of one tenant are read and made. */
export interface CursorContext {
  readonly codec: CursorCodec
  readonly tenantId: string
}

const SORT_CASTS = { string: 'text', boolean: 'boolean', dateTime: 'timestamptz', integer: 'numeric', decimal: 'numeric' } as const

export function planList(resourceType: ResourceTypeDefinition, table: ResourceTable, request: ListRequest, cursor: CursorContext, nowMs: number): ListPlan {
  // $1 is the tenant id; every other value is bound after it
  const params = new SqlParams([null])
  const context: CompileContext = { resourceType, table, params }
  const filterSql = request.filter === undefined ? 'true' : filterToSql(request.filter, context)
  // Taken before the sort adds its own values: the count query binds only the filter's.
  const countValues = params.values.slice(1)
  const sort = request.sortBy === undefined ? undefined : sortExpression(request.sortBy, context)
  const direction = request.sortOrder === 'descending' ? 'DESC' : 'ASC'
  const sortKey = sort?.sql ?? 'NULL'
  const orderBy = sort === undefined ? `r.seq ${direction}` : `${sort.sql} ${direction}, r.seq ${direction}`
  const pageOrderBy = sort === undefined ? `seq ${direction}` : `sort_key ${direction}, seq ${direction}`
  // Index paging makes no cursors: no fingerprint to compute.
  const binding: CursorBinding | undefined =
    request.paging.kind === 'index'
      ? undefined
      : {
          tenantId: cursor.tenantId,
          fingerprint: queryFingerprint([resourceType.name, request.filterText, request.sortBy === undefined ? undefined : formatAttributePath(request.sortBy), request.sortOrder]),
        }

  let where = filterSql
  let limit: number
  let offset = 0
  if (request.paging.kind === 'index') {
    limit = request.paging.count
    offset = request.paging.startIndex - 1
  } else {
    limit = request.paging.count + 1
    if (request.paging.cursor !== undefined) {
      const position = cursor.codec.decode(request.paging.cursor, binding!, nowMs)
      const comparator = direction === 'ASC' ? '>' : '<'
      const seq = params.add(position.seq)
      if (sort === undefined) {
        where = `(${filterSql}) AND r.seq ${comparator} ${seq}::bigint`
      } else {
        const cast = SORT_CASTS[sort.type as keyof typeof SORT_CASTS] ?? 'text'
        where = `(${filterSql}) AND (${sort.sql}, r.seq) ${comparator} (${params.add(position.key)}::${cast}, ${seq}::bigint)`
      }
    }
  }
  return {
    query: { where, orderBy, pageOrderBy, sortKey, values: params.values.slice(1), limit, offset },
    countWhere: filterSql,
    countValues,
    pageSize: request.paging.count,
    binding,
  }
}

function sortKeyValue(value: unknown): SortKeyValue {
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return value
  return value === undefined ? null : String(value)
}

/** The page to show, and the cursor of the next one when rows remain (cursor mode only). */
export function cutPage(plan: ListPlan, request: ListRequest, rows: readonly ListedResource[], codec: CursorCodec, nowMs: number): { page: readonly ListedResource[]; nextCursor: string | undefined } {
  if (request.paging.kind === 'index' || plan.binding === undefined || rows.length <= plan.pageSize) return { page: rows, nextCursor: undefined }
  const page = rows.slice(0, plan.pageSize)
  const last = page[page.length - 1]
  if (last === undefined) return { page, nextCursor: undefined }
  return { page, nextCursor: codec.encode({ key: sortKeyValue(last.sortKey), seq: last.seq }, plan.binding, nowMs) }
}
