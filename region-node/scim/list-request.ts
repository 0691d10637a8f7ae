// RFC 7644 §3.4.2 query parameters (and §3.4.3 SearchRequest bodies) parsed
// into one typed request, with RFC 9865 cursor paging beside index paging.
import { LRUCache } from 'lru-cache'
import { ScimError } from '../../lib/scim-error.ts'
import type { AttributePath, FilterNode } from './filter/ast.ts'
import { parseFilter, parsePath } from './filter/index.ts'

export type Paging =
  | { readonly kind: 'index'; readonly startIndex: number; readonly count: number }
  /** `cursor` is undefined for the first page (`cursor=` with no value). */
  | { readonly kind: 'cursor'; readonly cursor: string | undefined; readonly count: number }

export interface ListRequest {
  readonly filter: FilterNode | undefined
  /** The filter as the client sent it, for cursor fingerprints. */
  readonly filterText: string | undefined
  readonly sortBy: AttributePath | undefined
  readonly sortOrder: 'ascending' | 'descending'
  readonly paging: Paging
  readonly attributes: readonly string[]
  readonly excludedAttributes: readonly string[]
}

export interface PagingLimits {
  readonly defaultPageSize: number
  readonly maxPageSize: number
}

// A client repeats the same filter (a provisioning check per userName, a poller): parsed ASTs are immutable,
// so one parse serves every repeat. A filter that fails to parse is not kept (it throws each time).
const parsedFilters = new LRUCache<string, FilterNode>({ max: 1_000, maxSize: 1_000_000, sizeCalculation: (_node, text) => Math.max(1, text.length) })

function parseFilterCached(text: string): FilterNode {
  let filter = parsedFilters.get(text)
  if (filter === undefined) {
    filter = parseFilter(text)
    parsedFilters.set(text, filter)
  }
  return filter
}

function parseList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return []
  const parts = Array.isArray(value) ? value : [value]
  const out: string[] = []
  for (const part of parts) {
    if (typeof part !== 'string') throw new ScimError(400, 'invalidValue', `${name} must be a comma-separated list of attribute names`)
    for (const name of part.split(',')) if (name.trim() !== '') out.push(name.trim())
  }
  return out
}

function singleString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (Array.isArray(value)) throw new ScimError(400, 'invalidValue', `${name} was given more than once`)
  if (typeof value === 'number') return String(value)
  if (typeof value !== 'string') throw new ScimError(400, 'invalidValue', `${name} must be a string`)
  return value
}

function parseInteger(value: unknown, name: string): number | undefined {
  const text = singleString(value, name)
  if (text === undefined || text.trim() === '') return undefined
  if (!/^-?\d{1,15}$/.test(text.trim())) throw new ScimError(400, 'invalidValue', `${name} must be an integer`)
  return Number(text.trim())
}

function parseSortBy(text: string | undefined): AttributePath | undefined {
  if (text === undefined || text.trim() === '') return undefined
  let path
  try {
    path = parsePath(text.trim())
  } catch {
    throw new ScimError(400, 'invalidValue', `sortBy "${text}" is not an attribute path`)
  }
  if (path.valueFilter !== undefined || path.attribute.attribute === '') throw new ScimError(400, 'invalidValue', `sortBy "${text}" must name one attribute`)
  return path.attribute
}

/**
 * Reads a list request from query parameters or a SearchRequest body (same
 * names). Index paging is the default; `cursor` (even empty) selects RFC 9865
 * cursor paging.
 */
export function parseListRequest(input: Readonly<Record<string, unknown>>, limits: PagingLimits): ListRequest {
  const lookup = new Map(Object.entries(input).map(([k, v]) => [k.toLowerCase(), v]))
  const filterText = singleString(lookup.get('filter'), 'filter')
  const filter = filterText === undefined || filterText.trim() === '' ? undefined : parseFilterCached(filterText)
  const sortOrderText = singleString(lookup.get('sortorder'), 'sortOrder')
  const sortOrder = sortOrderText === undefined || sortOrderText === '' ? 'ascending' : sortOrderText.toLowerCase()
  if (sortOrder !== 'ascending' && sortOrder !== 'descending') throw new ScimError(400, 'invalidValue', 'sortOrder must be "ascending" or "descending"')
  const requestedCount = parseInteger(lookup.get('count'), 'count')
  const cursorValue = lookup.get('cursor')
  let paging: Paging
  if (cursorValue !== undefined) {
    const cursor = singleString(cursorValue, 'cursor')
    if (requestedCount !== undefined && (requestedCount < 0 || requestedCount > limits.maxPageSize)) {
      throw new ScimError(400, 'invalidCount', `count must be between 0 and ${limits.maxPageSize}`)
    }
    if (lookup.get('startindex') !== undefined) throw new ScimError(400, 'invalidValue', 'use either cursor or startIndex, not both')
    paging = { kind: 'cursor', cursor: cursor === undefined || cursor === '' ? undefined : cursor, count: requestedCount ?? limits.defaultPageSize }
  } else {
    // RFC 7644 §3.4.2.4: startIndex < 1 is read as 1, a negative count as 0, and a count over the maximum as the maximum
    const startIndex = Math.max(1, parseInteger(lookup.get('startindex'), 'startIndex') ?? 1)
    const count = Math.min(limits.maxPageSize, Math.max(0, requestedCount ?? limits.defaultPageSize))
    paging = { kind: 'index', startIndex, count }
  }
  return {
    filter,
    filterText: filter === undefined ? undefined : filterText,
    sortBy: parseSortBy(singleString(lookup.get('sortby'), 'sortBy')),
    sortOrder,
    paging,
    attributes: parseList(lookup.get('attributes'), 'attributes'),
    excludedAttributes: parseList(lookup.get('excludedattributes'), 'excludedAttributes'),
  }
}
