// RFC 7644 §3.4.2.3: the SQL a `sortBy` path orders by, never NULL so keyset
// (cursor) comparisons on (key, seq) are total.
import { ScimError } from '../../lib/scim-error.ts'
import type { AttributePath } from '../scim/filter/ast.ts'
import {
  defaultSubAttribute,
  describePath,
  elementSourceFor,
  isTextType,
  resolveOrFail,
  singleValueExpression,
  type CompileContext,
  type ScalarType,
  type ValueExpression,
} from './attribute-sql.ts'

export interface SortExpression {
  /** Never null, so keyset comparisons on (key, seq) are total. */
  readonly sql: string
  readonly type: ScalarType
}

/** RFC 7644 §3.4.2.3: the expression a `sortBy` path orders by. Multi-valued attributes sort by their primary (else first) value. */
export function sortExpression(path: AttributePath, context: CompileContext): SortExpression {
  try {
    return compileSortExpression(path, context)
  } catch (error) {
    // the shared helpers speak of filters; a bad sortBy is an invalid parameter value
    if (error instanceof ScimError && error.scimType === 'invalidFilter') throw new ScimError(400, 'invalidValue', `sortBy: ${error.message}`)
    throw error
  }
}

function compileSortExpression(path: AttributePath, context: CompileContext): SortExpression {
  const resolved = resolveOrFail(context, path, 'sortBy')
  const source = elementSourceFor(context, resolved)
  let value: ValueExpression
  if (source === undefined) {
    value = singleValueExpression(context, resolved)
  } else if (resolved.attribute.name === context.table.membership.attribute && !resolved.inExtension) {
    throw new ScimError(400, 'invalidValue', `cannot sort by ${resolved.attribute.name}`)
  } else {
    const sub = source.simpleValue ?? source.subAttribute(resolved.subAttribute ?? defaultSubAttribute(resolved.attribute))
    const primary = resolved.attribute.type === 'complex' ? source.subAttribute({ ...defaultSubAttribute(resolved.attribute), name: 'primary', type: 'boolean' }) : undefined
    const order = primary === undefined ? '' : ` ORDER BY ${primary.sql} DESC NULLS LAST, ${source.position ?? '1'}`
    value = { ...sub, sql: `(SELECT ${sub.sql} ${source.from}${order} LIMIT 1)` }
  }
  if (value.type === 'uuid') return { sql: `${value.sql}::text`, type: 'string' }
  if (isTextType(value.type)) return { sql: `COALESCE(${value.caseExact ? value.sql : (value.foldedSql ?? `lower(${value.sql})`)}, '')`, type: 'string' }
  if (value.type === 'boolean') return { sql: `COALESCE(${value.sql}, false)`, type: 'boolean' }
  // cursors carry the served millisecond; a microsecond key would repeat or skip rows at page edges
  if (value.type === 'dateTime') return { sql: `COALESCE(date_trunc('milliseconds', ${value.sql}), '-infinity'::timestamptz)`, type: 'dateTime' }
  if (value.type === 'integer' || value.type === 'decimal') return { sql: `COALESCE(${value.sql}, '-Infinity'::numeric)`, type: value.type }
  throw new ScimError(400, 'invalidValue', `cannot sort by ${describePath(path)}`)
}

