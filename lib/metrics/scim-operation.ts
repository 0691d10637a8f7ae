// Classifies a SCIM request for metric labels and span attributes. The result
// comes from a closed set of values (never an id, never a query), so label
// cardinality stays bounded whatever a client sends.

export type ScimOperation = 'list' | 'get' | 'create' | 'replace' | 'patch' | 'delete' | 'search' | 'bulk' | 'other'

export interface ScimRequestShape {
  /** `Users`, `Groups`, a discovery endpoint, `Bulk`, `''` for the root `/.search`, or `other`. */
  readonly resourceType: string
  readonly operation: ScimOperation
}

const RESOURCE_TYPES: ReadonlyMap<string, string> = new Map(
  ['Users', 'Groups', 'ServiceProviderConfig', 'ResourceTypes', 'Schemas', 'Bulk'].map((name) => [name.toLowerCase(), name]),
)

const OTHER: ScimRequestShape = Object.freeze({ resourceType: 'other', operation: 'other' })

const ITEM_OPERATIONS: Readonly<Record<string, ScimOperation>> = { GET: 'get', HEAD: 'get', PUT: 'replace', PATCH: 'patch', DELETE: 'delete' }
const COLLECTION_OPERATIONS: Readonly<Record<string, ScimOperation>> = { GET: 'list', HEAD: 'list', POST: 'create' }

/** `url` may carry a query string; both `/scim/...` and `/scim/v2/...` are understood (the gateway accepts both). */
export function describeScimRequest(method: string, url: string): ScimRequestShape {
  const path = url.split('?', 1)[0] ?? ''
  const segments = path.split('/').filter((segment) => segment !== '')
  if (segments[0]?.toLowerCase() !== 'scim') return OTHER
  const rest = segments[1]?.toLowerCase() === 'v2' ? segments.slice(2) : segments.slice(1)
  const verb = method.toUpperCase()
  // RFC 7644 §3.4.3: POST {base}/.search searches every resource type.
  if (rest.length === 1 && rest[0] === '.search') return verb === 'POST' ? { resourceType: '', operation: 'search' } : OTHER
  const resourceType = RESOURCE_TYPES.get(rest[0]?.toLowerCase() ?? '')
  if (resourceType === undefined) return OTHER
  // RFC 7644 §3.7: bulk operations go to {base}/Bulk.
  if (resourceType === 'Bulk') return rest.length === 1 && verb === 'POST' ? { resourceType, operation: 'bulk' } : { resourceType, operation: 'other' }
  if (rest.length === 1) return { resourceType, operation: COLLECTION_OPERATIONS[verb] ?? 'other' }
  if (rest.length === 2 && rest[1] === '.search') return { resourceType, operation: verb === 'POST' ? 'search' : 'other' }
  if (rest.length === 2) return { resourceType, operation: ITEM_OPERATIONS[verb] ?? 'other' }
  return { resourceType, operation: 'other' }
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
