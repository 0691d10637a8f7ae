// Classifies a SCIM request for metric labels and span attributes. The result
// comes from a closed set of values (never an id, never a query), so label
// cardinality stays bounded whatever a client sends.

export type ScimOperation = 'list' | 'get' | 'create' | 'replace' | 'patch' | 'delete' | 'search' | 'bulk' | 'other'

export interface ScimRequestShape {
  /** `Users`, `Groups`, a discovery endpoint, `Bulk`, `''` for the root `/.search`, or `other`. */
  readonly resourceType: string
  readonly operation: ScimOperation
}

const RESOURCE_TYPE_NAMES = ['Users', 'Groups', 'ServiceProviderConfig', 'ResourceTypes', 'Schemas', 'Bulk'] as const
const OPERATIONS: readonly ScimOperation[] = ['list', 'get', 'create', 'replace', 'patch', 'delete', 'search', 'bulk', 'other']

// Every answer is one of these frozen objects: classifying a request allocates nothing for its result.
function shapesOf(resourceType: string): Readonly<Record<ScimOperation, ScimRequestShape>> {
  return Object.fromEntries(OPERATIONS.map((operation) => [operation, Object.freeze({ resourceType, operation })])) as Record<ScimOperation, ScimRequestShape>
}
const SHAPES: ReadonlyMap<string, Readonly<Record<ScimOperation, ScimRequestShape>>> = new Map(RESOURCE_TYPE_NAMES.map((name) => [name.toLowerCase(), shapesOf(name)]))
const BULK = SHAPES.get('bulk')
const ROOT_SEARCH: ScimRequestShape = Object.freeze({ resourceType: '', operation: 'search' })
const OTHER: ScimRequestShape = Object.freeze({ resourceType: 'other', operation: 'other' })

const ITEM_OPERATIONS: ReadonlyMap<string, ScimOperation> = new Map([['GET', 'get'], ['HEAD', 'get'], ['PUT', 'replace'], ['PATCH', 'patch'], ['DELETE', 'delete']])
const COLLECTION_OPERATIONS: ReadonlyMap<string, ScimOperation> = new Map([['GET', 'list'], ['HEAD', 'list'], ['POST', 'create']])

/** The first `max` non-empty `/`-separated segments of `path` before any `?`, and whether more follow. */
function segmentsOf(url: string, max: number): { segments: string[]; more: boolean } {
  const query = url.indexOf('?')
  const end = query === -1 ? url.length : query
  const segments: string[] = []
  let start = 0
  while (start < end) {
    let slash = url.indexOf('/', start)
    if (slash === -1 || slash > end) slash = end
    if (slash > start) {
      if (segments.length === max) return { segments, more: true }
      segments.push(url.slice(start, slash))
    }
    start = slash + 1
  }
  return { segments, more: false }
}

/** `url` may carry a query string; both `/scim/...` and `/scim/v2/...` are understood (the gateway accepts both). */
export function describeScimRequest(method: string, url: string): ScimRequestShape {
  // scim, v2, resource type, id, one more: enough to tell every shape apart.
  const { segments, more } = segmentsOf(url, 5)
  if (segments[0]?.toLowerCase() !== 'scim') return OTHER
  const first = segments[1]?.toLowerCase() === 'v2' ? 2 : 1
  const count = more ? Number.POSITIVE_INFINITY : segments.length - first
  const verb = method.toUpperCase()
  // RFC 7644 §3.4.3: POST {base}/.search searches every resource type.
  if (count === 1 && segments[first] === '.search') return verb === 'POST' ? ROOT_SEARCH : OTHER
  const shapes = SHAPES.get(segments[first]?.toLowerCase() ?? '')
  if (shapes === undefined) return OTHER
  // RFC 7644 §3.7: bulk operations go to {base}/Bulk.
  if (shapes === BULK) return count === 1 && verb === 'POST' ? shapes.bulk : shapes.other
  if (count === 1) return shapes[COLLECTION_OPERATIONS.get(verb) ?? 'other']
  if (count === 2 && segments[first + 1] === '.search') return verb === 'POST' ? shapes.search : shapes.other
  if (count === 2) return shapes[ITEM_OPERATIONS.get(verb) ?? 'other']
  return shapes.other
}

const shapes = new WeakMap<object, ScimRequestShape>()

/** describeScimRequest, computed once per request (span attributes and metrics both need it). */
export function scimShapeOf(request: { readonly method: string; readonly url: string }): ScimRequestShape {
  let shape = shapes.get(request)
  if (shape === undefined) {
    shape = describeScimRequest(request.method, request.url)
    shapes.set(request, shape)
  }
  return shape
}
