// What the Users and Groups services share: locking a resource for a write
// (404, If-Match) and running a list request (count, page, derived
// attribute, cursor, ListResponse).
import { ScimError } from '../../lib/scim-error.ts'
import { assertIfMatch } from '../scim/etag.ts'
import type { ListRequest } from '../scim/list-request.ts'
import { isAttributeReturned, isProjectionRequested, projectResource } from '../scim/projection/index.ts'
import { LIST_RESPONSE_SCHEMA } from '../scim/schema/index.ts'
import type { ResourceTypeDefinition, ScimResource } from '../scim/schema/types.ts'
import type { Queryable } from '../storage/database.ts'
import type { ResourceTable } from '../storage/resource-tables.ts'
import { isUuid } from '../storage/sql-params.ts'
import type { ListQuery, ListedResource, StoredResource } from '../storage/stored-resource.ts'
import { cutPage, planList } from '../storage/list-plan.ts'
import type { RequestScope, ServiceDependencies, WriteConditions } from './service-context.ts'

export const notFound = (type: string, id: string): ScimError => new ScimError(404, undefined, `${type} ${id} not found`)

/** The current row, locked for the rest of the transaction; 404 when missing, 412 when If-Match names another version. */
export async function lockForWrite(
  type: string,
  findForUpdate: (tenantId: string, id: string) => Promise<StoredResource | undefined>,
  scope: RequestScope,
  id: string,
  conditions: WriteConditions,
): Promise<StoredResource> {
  const current = isUuid(id) ? await findForUpdate(scope.tenantId, id) : undefined
  if (current === undefined) throw notFound(type, id)
  assertIfMatch(conditions.ifMatch, current.version)
  return current
}

/** How one resource type is listed: its store's count and page, and its derived multi-valued attribute (`groups`, `members`). */
export interface ListSource<Derived> {
  readonly resourceType: ResourceTypeDefinition
  readonly table: ResourceTable
  readonly derivedAttribute: string
  count(db: Queryable, tenantId: string, where: string, values: readonly unknown[]): Promise<number>
  page(db: Queryable, tenantId: string, query: ListQuery): Promise<ListedResource[]>
  derived(db: Queryable, tenantId: string, ids: readonly string[]): Promise<Map<string, Derived>>
  /**
   * The page with the derived attribute of its rows, in one statement (it goes out with the count, in one
   * round trip); undefined when the attribute does not fit the response budget, and `derived` then decides row by row.
   */
  pageWithDerived?(db: Queryable, tenantId: string, query: ListQuery): Promise<{ rows: ListedResource[]; derived: Map<string, Derived> } | undefined>
  toWire(scope: RequestScope, row: StoredResource, derived: Derived | undefined): ScimResource
}

interface ReadPage<Derived> {
  readonly rows: ListedResource[]
  readonly total: number
  readonly derived: Map<string, Derived>
}

export async function listResources<Derived>(deps: ServiceDependencies, source: ListSource<Derived>, scope: RequestScope, request: ListRequest): Promise<ScimResource> {
  const now = deps.now ?? Date.now
  const plan = planList(source.resourceType, source.table, request, { codec: deps.cursors, tenantId: scope.tenantId }, now())
  // excludedAttributes=members must not even read the member table
  const wantsDerived = isAttributeReturned(source.resourceType, request, source.derivedAttribute)
  const readsDerived = wantsDerived && plan.query.limit > 0
  const none = (): Map<string, Derived> => new Map()
  // Count, page and the page's derived attribute go out together: one round trip, one snapshot. When the
  // derived attribute is read with the page, nothing depends on a result, so the COMMIT rides along too;
  // a page whose derived attribute does not fit the budget is read again below, deciding row by row.
  let read: ReadPage<Derived> | undefined
  const pageWithDerived = source.pageWithDerived
  if (!readsDerived || pageWithDerived !== undefined) {
    read = await deps.database.read(
      scope.tenantId,
      async (db): Promise<ReadPage<Derived> | undefined> => {
        const [total, paged] = await Promise.all([
          source.count(db, scope.tenantId, plan.countWhere, plan.countValues),
          readsDerived ? pageWithDerived!(db, scope.tenantId, plan.query) : plan.query.limit === 0 ? { rows: [], derived: none() } : source.page(db, scope.tenantId, plan.query).then((rows) => ({ rows, derived: none() })),
        ])
        return paged === undefined ? undefined : { rows: paged.rows, total, derived: paged.derived }
      },
      { list: true, oneRoundTrip: true },
    )
  }
  read ??= await deps.database.read(
    scope.tenantId,
    async (db): Promise<ReadPage<Derived>> => {
      const [total, rows] = await Promise.all([source.count(db, scope.tenantId, plan.countWhere, plan.countValues), plan.query.limit === 0 ? [] : source.page(db, scope.tenantId, plan.query)])
      const derived = readsDerived ? await source.derived(db, scope.tenantId, rows.slice(0, plan.pageSize).map((r) => r.id)) : none()
      return { rows, total, derived }
    },
    { list: true },
  )
  const { rows, total, derived } = read
  const { page, nextCursor } = cutPage(plan, request, rows, deps.cursors, now())
  const projected = isProjectionRequested(request)
  const resources = page.map((row) => {
    const resource = source.toWire(scope, row, derived.get(row.id))
    return projected ? projectResource(resource, source.resourceType, request) : resource
  })
  const response: ScimResource = { schemas: [LIST_RESPONSE_SCHEMA], totalResults: total, itemsPerPage: resources.length }
  if (request.paging.kind === 'index') response.startIndex = request.paging.startIndex
  if (nextCursor !== undefined) response.nextCursor = nextCursor
  response.Resources = resources
  return response
}
