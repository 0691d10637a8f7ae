// RFC 7644 §3.4.2.2 filters compiled to one parameterised SQL condition over
// the resource table aliased `r`: indexed columns where the attribute has one,
// jsonb paths otherwise, EXISTS sub-queries for multi-valued attributes.
//
// Comparisons are emitted bare (`r.user_name_lower = lower($2)`) so the
// planner can use the indexes; an absent value makes them NULL,
// which WHERE, AND and OR treat as false. Only negation needs the NULL folded
// to false first (`NOT COALESCE(…, false)`), so `not (title eq "x")` keeps the
// users without a title.
import type { AttributePath, CompareOperator, FilterNode, FilterValue } from '../scim/filter/ast.ts'
import type { AttributeDefinition, ResolvedAttribute } from '../scim/schema/types.ts'
import {
  describePath,
  elementSourceFor,
  defaultSubAttribute,
  invalidFilter,
  isTextType,
  jsonbBase,
  jsonField,
  nextAlias,
  resolveOrFail,
  singleValueExpression,
  type CompileContext,
  type ElementSource,
  type ScalarType,
  type ValueExpression,
} from './attribute-sql.ts'
import { isUuid, likePattern } from './sql-params.ts'

const notTrue = (condition: string): string => `NOT COALESCE(${condition}, false)`

export type { CompileContext } from './attribute-sql.ts'
export { sortExpression, type SortExpression } from './sort-to-sql.ts'
function presentCondition(value: ValueExpression): string {
  return isTextType(value.type) ? `COALESCE(${value.sql} <> '', false)` : `(${value.sql}) IS NOT NULL`
}

/** `attr pr` on a single complex attribute (`name pr`): some sub-attribute has a value. */
function complexPresentCondition(context: CompileContext, resolved: ResolvedAttribute): string {
  const field = jsonField(jsonbBase(context, resolved), resolved.attribute.name, context).json
  const alias = nextAlias()
  return `COALESCE(jsonb_typeof(${field}) = 'object' AND EXISTS (SELECT 1 FROM jsonb_each(${field}) AS ${alias}(k, v) WHERE ${alias}.v NOT IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb)), false)`
}

function compileAttributeCondition(context: CompileContext, path: AttributePath, condition: (value: ValueExpression) => string, presence: boolean): string {
  const resolved = resolveOrFail(context, path)
  const source = elementSourceFor(context, resolved)
  if (source === undefined) {
    if (presence && resolved.subAttribute === undefined && resolved.attribute.type === 'complex') return complexPresentCondition(context, resolved)
    return condition(singleValueExpression(context, resolved))
  }
  let element: ValueExpression
  if (source.simpleValue !== undefined) element = source.simpleValue
  else if (resolved.subAttribute !== undefined && resolved.attribute.multiValued) element = source.subAttribute(resolved.subAttribute)
  else if (presence && resolved.subAttribute === undefined) return `EXISTS (SELECT 1 ${source.from})`
  else element = source.subAttribute(defaultSubAttribute(resolved.attribute))
  return `EXISTS (SELECT 1 ${source.from} AND ${condition(element)})`
}

// xsd:dateTime (RFC 7643 §2.3.5), with the seconds, the fraction and the zone optional; no zone reads as UTC
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/i

function dateTimeMillis(value: FilterValue, where: string): number {
  const match = typeof value === 'string' ? DATE_TIME.exec(value) : null
  const text = match?.[0].toUpperCase()
  const millis = text === undefined ? Number.NaN : Date.parse(text.includes('T') && match?.[1] === undefined ? `${text}Z` : text)
  if (Number.isNaN(millis)) throw invalidFilter(`${where} is a dateTime: compare it with an xsd:dateTime string such as "2024-05-01T12:00:00Z"`)
  return millis
}

function literalForType(value: FilterValue, type: ScalarType, op: CompareOperator, where: string): unknown {
  switch (type) {
    case 'boolean':
      if (op !== 'eq' && op !== 'ne') throw invalidFilter(`${where} is boolean: only eq and ne apply`)
      if (typeof value === 'boolean') return value
      // Entra ID sends booleans as strings ("False")
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true'
      throw invalidFilter(`${where} is boolean: compare it with true or false`)
    case 'integer':
    case 'decimal':
      if (op === 'co' || op === 'sw' || op === 'ew') throw invalidFilter(`${where} is a number: ${op} does not apply`)
      if (typeof value === 'number' && Number.isFinite(value)) return value
      throw invalidFilter(`${where} is a number: compare it with a number`)
    default:
      // PostgreSQL text cannot hold NUL: such a literal can match nothing and would fail the query
      if (typeof value === 'string' && value.includes('\u0000')) throw invalidFilter(`${where}: a string literal may not contain U+0000`)
      if (typeof value === 'string') return value
      // Entra ID sends unquoted literals: a bare number on a string attribute is its text
      if (typeof value === 'number') return String(value)
      throw invalidFilter(`${where} is a string: compare it with a quoted string`)
  }
}

/**
 * Served timestamps carry milliseconds while PostgreSQL keeps microseconds, so
 * a stored time compares as its millisecond (the value clients saw): `gt T`
 * means "from T + 1 ms on". Written as ranges on the bare column, the
 * `(tenant_id, last_modified)` index still applies.
 */
function dateTimeComparison(context: CompileContext, sql: string, op: CompareOperator, literal: FilterValue, where: string): string {
  if (op === 'co' || op === 'sw' || op === 'ew') throw invalidFilter(`${where} is a dateTime: ${op} does not apply`)
  const millis = dateTimeMillis(literal, where)
  const at = (offset: number): string => `${context.params.add(new Date(millis + offset).toISOString())}::timestamptz`
  switch (op) {
    case 'eq':
      return `(${sql} >= ${at(0)} AND ${sql} < ${at(1)})`
    case 'ne':
      return notTrue(`(${sql} >= ${at(0)} AND ${sql} < ${at(1)})`)
    case 'gt':
      return `${sql} >= ${at(1)}`
    case 'ge':
      return `${sql} >= ${at(0)}`
    case 'lt':
      return `${sql} < ${at(0)}`
    default:
      return `${sql} < ${at(1)}`
  }
}

const SQL_OPERATORS: Partial<Record<CompareOperator, string>> = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' }

function comparison(context: CompileContext, value: ValueExpression, op: CompareOperator, literal: FilterValue, path: AttributePath): string {
  const where = describePath(path)
  if (literal === null) {
    // `attr eq null` reads as "absent", `attr ne null` as "present"
    if (op === 'eq') return `NOT ${presentCondition(value)}`
    if (op === 'ne') return presentCondition(value)
    throw invalidFilter(`${where}: null only works with eq and ne`)
  }
  if (value.type === 'uuid') {
    if (op === 'eq' || op === 'ne') {
      const equal = isUuid(literal) ? `${value.sql} = ${context.params.add(literal)}::uuid` : 'false'
      return op === 'eq' ? equal : notTrue(equal)
    }
    return comparison(context, { sql: `${value.sql}::text`, type: 'string', caseExact: false }, op, literal, path)
  }
  if (value.type === 'dateTime') return dateTimeComparison(context, value.sql, op, literal, where)
  const bound = literalForType(literal, value.type, op, where)
  const folded = isTextType(value.type) && !value.caseExact
  const left = folded ? (value.foldedSql ?? `lower(${value.sql})`) : value.sql
  const cast = value.type === 'integer' || value.type === 'decimal' ? '::numeric' : value.type === 'boolean' ? '::boolean' : ''
  const placeholder = (v: unknown): string => (folded ? `lower(${context.params.add(v)})` : `${context.params.add(v)}${cast}`)
  switch (op) {
    case 'ne':
      return notTrue(`${left} = ${placeholder(bound)}`)
    case 'co':
    case 'sw':
    case 'ew': {
      if (!isTextType(value.type)) throw invalidFilter(`${where}: ${op} applies to strings only`)
      const at = op === 'co' ? 'contains' : op === 'sw' ? 'startsWith' : 'endsWith'
      return `${left} LIKE ${placeholder(likePattern(String(bound), at))}`
    }
    default:
      return `${left} ${SQL_OPERATORS[op] ?? '='} ${placeholder(bound)}`
  }
}

/** Compiles a filter inside a valuePath: paths are relative to one element of `outer`. */
function compileElementFilter(context: CompileContext, node: FilterNode, outerPath: AttributePath, source: ElementSource, outer: AttributeDefinition): string {
  const subDefinition = (path: AttributePath): AttributeDefinition => {
    const name = path.subAttribute === undefined ? path.attribute : `${path.attribute}.${path.subAttribute}`
    const found = outer.subAttributes?.find((s) => s.name.toLowerCase() === name.toLowerCase())
    if (found === undefined || path.uri !== undefined) throw invalidFilter(`unknown sub-attribute "${name}" of ${outer.name}`)
    return found
  }
  const recurse = (child: FilterNode): string => compileElementFilter(context, child, outerPath, source, outer)
  switch (node.kind) {
    case 'compare':
      return comparison(context, source.subAttribute(subDefinition(node.path)), node.op, node.value, { ...outerPath, subAttribute: node.path.attribute })
    case 'present':
      return presentCondition(source.subAttribute(subDefinition(node.path)))
    case 'and':
      return `(${recurse(node.left)} AND ${recurse(node.right)})`
    case 'or':
      return `(${recurse(node.left)} OR ${recurse(node.right)})`
    case 'not':
      return `(${notTrue(recurse(node.filter))})`
    case 'valuePath':
      throw invalidFilter('a value filter cannot contain another value filter')
  }
}

function compileNode(context: CompileContext, node: FilterNode): string {
  switch (node.kind) {
    case 'compare':
      if (node.value === null) {
        // `eq null` is "not present" and `ne null` "present", on single- and multi-valued attributes alike
        if (node.op !== 'eq' && node.op !== 'ne') throw invalidFilter(`${describePath(node.path)}: null only works with eq and ne`)
        const present = compileNode(context, { kind: 'present', path: node.path })
        return node.op === 'eq' ? `(NOT ${present})` : present
      }
      if (node.op === 'ne') {
        // ne on a multi-valued attribute: no value equals the literal
        return notTrue(compileAttributeCondition(context, node.path, (v) => comparison(context, v, 'eq', node.value, node.path), false))
      }
      return compileAttributeCondition(context, node.path, (v) => comparison(context, v, node.op, node.value, node.path), false)
    case 'present':
      return compileAttributeCondition(context, node.path, presentCondition, true)
    case 'and':
      return `(${compileNode(context, node.left)} AND ${compileNode(context, node.right)})`
    case 'or':
      return `(${compileNode(context, node.left)} OR ${compileNode(context, node.right)})`
    case 'not':
      return `(${notTrue(compileNode(context, node.filter))})`
    case 'valuePath': {
      const resolved = resolveOrFail(context, node.path)
      const source = elementSourceFor(context, resolved)
      if (source === undefined || resolved.attribute.type !== 'complex' || resolved.subAttribute !== undefined) {
        throw invalidFilter(`${describePath(node.path)} is not a multi-valued complex attribute; [..] does not apply`)
      }
      return `EXISTS (SELECT 1 ${source.from} AND ${compileElementFilter(context, node.filter, node.path, source, resolved.attribute)})`
    }
  }
}

/** A boolean SQL condition over `r` for the filter; values are bound in `context.params`. */
export function filterToSql(node: FilterNode, context: CompileContext): string {
  return compileNode(context, node)
}
