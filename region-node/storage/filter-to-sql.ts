// RFC 7644 §3.4.2.2 filters compiled to one parameterised SQL condition over
// the resource table aliased `r`: indexed columns where the attribute has one,
// jsonb paths otherwise, EXISTS sub-queries for multi-valued attributes.
//
// Comparisons are emitted bare (`lower(r.user_name) = lower($2)`) so the
// planner can use the expression indexes; an absent value makes them NULL,
// which WHERE, AND and OR treat as false. Only negation needs the NULL folded
// to false first (`NOT COALESCE(…, false)`), so `not (title eq "x")` keeps the
// users without a title.
import { ScimError } from '../../lib/scim-error.ts'
import type { AttributePath, CompareOperator, FilterNode, FilterValue } from '../scim/filter/ast.ts'
import { resolveAttribute } from '../scim/schema/index.ts'
import type { AttributeDefinition, AttributeType, ResolvedAttribute, ResourceTypeDefinition } from '../scim/schema/types.ts'
import type { ResourceTable } from './resource-tables.ts'
import { SqlParams, isUuid, likePattern } from './sql-params.ts'

type ScalarType = AttributeType | 'uuid'

/** A typed SQL expression for one attribute value. */
interface ValueExpression {
  readonly sql: string
  readonly type: ScalarType
  readonly caseExact: boolean
  /** The value already lower-cased in an indexed column. */
  readonly foldedSql?: string
}

/** Rows of a multi-valued attribute and how to read a sub-attribute of one row. */
interface ElementSource {
  readonly from: string
  readonly subAttribute: (definition: AttributeDefinition) => ValueExpression
  readonly simpleValue?: ValueExpression
  /** The element's position in a jsonb array, for "the first value". */
  readonly position?: string
}

export interface CompileContext {
  readonly resourceType: ResourceTypeDefinition
  readonly table: ResourceTable
  readonly params: SqlParams
}

let aliasCounter = 0
const nextAlias = (): string => `e${(aliasCounter = (aliasCounter + 1) % 1_000_000)}`

const invalidFilter = (detail: string): ScimError => new ScimError(400, 'invalidFilter', detail)
const isTextType = (type: ScalarType): boolean => type === 'string' || type === 'reference' || type === 'binary'
const notTrue = (condition: string): string => `NOT COALESCE(${condition}, false)`

function describePath(path: AttributePath): string {
  return [path.uri, [path.attribute, path.subAttribute].filter(Boolean).join('.')].filter(Boolean).join(':')
}

function resolveOrFail(context: CompileContext, path: AttributePath, use: 'filter' | 'sortBy' = 'filter'): ResolvedAttribute {
  const fail = (detail: string): ScimError => (use === 'filter' ? invalidFilter(detail) : new ScimError(400, 'invalidValue', detail))
  const resolved = resolveAttribute(context.resourceType, path)
  if (resolved === undefined) throw fail(`unknown attribute "${describePath(path)}" for ${context.resourceType.name}`)
  // RFC 7643 §7: a `returned: never` attribute (password) must not be readable, not even one answer at a time
  if (resolved.attribute.returned === 'never' || resolved.subAttribute?.returned === 'never') {
    throw fail(`${describePath(path)} cannot be used in ${use === 'filter' ? 'a filter' : 'sortBy'}`)
  }
  return resolved
}

/** Converts jsonb text to the attribute's type; stored values were validated on write, so casts cannot fail. */
function castText(textSql: string, type: ScalarType): string {
  switch (type) {
    case 'boolean':
      return `(${textSql})::boolean`
    case 'integer':
    case 'decimal':
      return `(${textSql})::numeric`
    case 'dateTime':
      return `(${textSql})::timestamptz`
    default:
      return textSql
  }
}

function jsonbBase(context: CompileContext, resolved: ResolvedAttribute): string {
  return resolved.inExtension ? `r.attributes->${context.params.add(resolved.schemaId)}` : 'r.attributes'
}

function jsonField(baseSql: string, key: string, context: CompileContext): { json: string; text: string } {
  const placeholder = context.params.add(key)
  return { json: `(${baseSql}->${placeholder})`, text: `(${baseSql}->>${placeholder})` }
}

function scalarOf(json: { json: string; text: string }, definition: AttributeDefinition): ValueExpression {
  return { sql: castText(json.text, definition.type), type: definition.type, caseExact: definition.caseExact }
}

function membershipSource(context: CompileContext): ElementSource {
  const { membership } = context.table
  const alias = nextAlias()
  const from = `FROM group_members ${alias} WHERE ${alias}.tenant_id = r.tenant_id AND ${alias}.${membership.ownerColumn} = r.id`
  return {
    from,
    subAttribute: (definition) => {
      switch (definition.name) {
        case 'value':
          // compared as uuid, so `members.value eq "<ID IN CAPITALS>"` matches and the member index applies
          return { sql: `${alias}.${membership.otherColumn}`, type: 'uuid', caseExact: false }
        case 'type':
          return membership.attribute === 'members'
            ? { sql: `${alias}.member_type`, type: 'string', caseExact: false }
            : { sql: `'direct'`, type: 'string', caseExact: false }
        default:
          throw invalidFilter(`${membership.attribute}.${definition.name} is not filterable; filter on ${membership.attribute}.value`)
      }
    },
  }
}

/** RFC 7643 §3: `schemas` is not stored; it is the core schema plus each extension the resource holds. */
function schemasSource(context: CompileContext, attribute: AttributeDefinition): ElementSource {
  const alias = nextAlias()
  const urns = [
    `${context.params.add(context.resourceType.schema.id)}::text`,
    ...context.resourceType.extensions.map(({ schema }) => {
      const urn = context.params.add(schema.id)
      return `CASE WHEN r.attributes ? ${urn}::text THEN ${urn}::text END`
    }),
  ]
  return {
    from: `FROM unnest(ARRAY[${urns.join(', ')}]) AS ${alias}(v) WHERE ${alias}.v IS NOT NULL`,
    subAttribute: () => {
      throw invalidFilter('schemas has no sub-attributes')
    },
    simpleValue: { sql: `${alias}.v`, type: 'string', caseExact: attribute.caseExact },
  }
}

function jsonArraySource(arrayJson: string, attribute: AttributeDefinition, context: CompileContext): ElementSource {
  const alias = nextAlias()
  // a stored value that is not an array (never written by ingest) must not make jsonb_array_elements fail
  const array = `CASE WHEN jsonb_typeof(${arrayJson}) = 'array' THEN ${arrayJson} END`
  if (attribute.type !== 'complex') {
    return {
      from: `FROM jsonb_array_elements_text(${array}) AS ${alias}(v) WHERE true`,
      subAttribute: () => {
        throw invalidFilter(`${attribute.name} has no sub-attributes`)
      },
      simpleValue: { sql: castText(`${alias}.v`, attribute.type), type: attribute.type, caseExact: attribute.caseExact },
    }
  }
  return {
    from: `FROM jsonb_array_elements(${array}) WITH ORDINALITY AS ${alias}(v, n) WHERE jsonb_typeof(${alias}.v) = 'object'`,
    subAttribute: (definition) => scalarOf(jsonField(`${alias}.v`, definition.name, context), definition),
    position: `${alias}.n`,
  }
}

/** Where the values of a multi-valued attribute come from, or undefined when it is single-valued. */
function elementSourceFor(context: CompileContext, resolved: ResolvedAttribute): ElementSource | undefined {
  const { attribute } = resolved
  if (!resolved.inExtension && attribute.name === context.table.membership.attribute) return membershipSource(context)
  if (!resolved.inExtension && attribute.name === 'schemas') return schemasSource(context, attribute)
  if (attribute.multiValued) {
    return jsonArraySource(jsonField(jsonbBase(context, resolved), attribute.name, context).json, attribute, context)
  }
  // `scope.values`: a multi-valued sub-attribute inside a single complex attribute
  const sub = resolved.subAttribute
  if (sub?.multiValued) {
    const parent = jsonField(jsonbBase(context, resolved), attribute.name, context).json
    return jsonArraySource(jsonField(parent, sub.name, context).json, sub, context)
  }
  return undefined
}

function singleValueExpression(context: CompileContext, resolved: ResolvedAttribute): ValueExpression {
  const { attribute, subAttribute } = resolved
  const key = `${resolved.inExtension ? `${resolved.schemaId.toLowerCase()}:` : ''}${attribute.name.toLowerCase()}${subAttribute ? `.${subAttribute.name.toLowerCase()}` : ''}`
  const column = context.table.columns[key]
  if (column !== undefined) return { sql: column.sql, type: column.type, caseExact: (subAttribute ?? attribute).caseExact, ...(column.foldedSql === undefined ? {} : { foldedSql: column.foldedSql }) }
  if (!resolved.inExtension && attribute.name === 'meta') {
    throw invalidFilter(`meta.${subAttribute?.name ?? ''} is not filterable; use meta.created or meta.lastModified`)
  }
  const field = jsonField(jsonbBase(context, resolved), attribute.name, context)
  if (subAttribute === undefined) {
    if (attribute.type === 'complex') throw invalidFilter(`${attribute.name} is complex; name a sub-attribute such as ${attribute.name}.${attribute.subAttributes?.[0]?.name ?? 'value'}`)
    return scalarOf(field, attribute)
  }
  return scalarOf(jsonField(field.json, subAttribute.name, context), subAttribute)
}

/** The `value` sub-attribute stands for a multi-valued complex attribute compared without a sub-attribute (RFC 7644 §3.4.2.2). */
function defaultSubAttribute(attribute: AttributeDefinition): AttributeDefinition {
  const value = attribute.subAttributes?.find((s) => s.name === 'value')
  if (value === undefined) throw invalidFilter(`${attribute.name} needs a sub-attribute in a filter`)
  return value
}

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
