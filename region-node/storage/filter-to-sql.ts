// RFC 7644 §3.4.2.2 filters compiled to one parameterised SQL condition over
// the resource table aliased `r`: indexed columns where the attribute has one,
// jsonb paths otherwise, EXISTS sub-queries for multi-valued attributes.
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
  /** `jsonb` when sql is a jsonb value (for `pr`), `scalar` otherwise. */
  readonly form: 'jsonb' | 'scalar'
}

/** Rows of a multi-valued attribute and how to read a sub-attribute of one row. */
interface ElementSource {
  readonly from: string
  readonly subAttribute: (definition: AttributeDefinition) => ValueExpression
  readonly simpleValue?: ValueExpression
}

export interface CompileContext {
  readonly resourceType: ResourceTypeDefinition
  readonly table: ResourceTable
  readonly params: SqlParams
}

let aliasCounter = 0
const nextAlias = (): string => `e${(aliasCounter = (aliasCounter + 1) % 1_000_000)}`

const invalidFilter = (detail: string): ScimError => new ScimError(400, 'invalidFilter', detail)

function describePath(path: AttributePath): string {
  return [path.uri, [path.attribute, path.subAttribute].filter(Boolean).join('.')].filter(Boolean).join(':')
}

function resolveOrFail(context: CompileContext, path: AttributePath): ResolvedAttribute {
  const resolved = resolveAttribute(context.resourceType, path)
  if (resolved === undefined) throw invalidFilter(`unknown attribute "${describePath(path)}" for ${context.resourceType.name}`)
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
  return { sql: castText(json.text, definition.type), type: definition.type, caseExact: definition.caseExact, form: 'scalar' }
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
          return { sql: `${alias}.${membership.otherColumn}::text`, type: 'string', caseExact: true, form: 'scalar' }
        case 'type':
          return membership.attribute === 'members'
            ? { sql: `${alias}.member_type`, type: 'string', caseExact: false, form: 'scalar' }
            : { sql: `'direct'`, type: 'string', caseExact: false, form: 'scalar' }
        default:
          throw invalidFilter(`${membership.attribute}.${definition.name} is not filterable; filter on ${membership.attribute}.value`)
      }
    },
  }
}

function jsonArraySource(arrayJson: string, attribute: AttributeDefinition, context: CompileContext): ElementSource {
  const alias = nextAlias()
  if (attribute.type !== 'complex') {
    return {
      from: `FROM jsonb_array_elements_text(${arrayJson}) AS ${alias}(v) WHERE true`,
      subAttribute: () => {
        throw invalidFilter(`${attribute.name} has no sub-attributes`)
      },
      simpleValue: { sql: castText(`${alias}.v`, attribute.type), type: attribute.type, caseExact: attribute.caseExact, form: 'scalar' },
    }
  }
  return {
    from: `FROM jsonb_array_elements(${arrayJson}) AS ${alias}(v) WHERE jsonb_typeof(${alias}.v) = 'object'`,
    subAttribute: (definition) => scalarOf(jsonField(`${alias}.v`, definition.name, context), definition),
  }
}

/** Where the values of a multi-valued attribute come from, or undefined when it is single-valued. */
function elementSourceFor(context: CompileContext, resolved: ResolvedAttribute): ElementSource | undefined {
  const { attribute } = resolved
  if (!resolved.inExtension && attribute.name === context.table.membership.attribute) return membershipSource(context)
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
  if (column !== undefined) {
    return { sql: column.sql, type: column.type, caseExact: (subAttribute ?? attribute).caseExact, form: 'scalar' }
  }
  if (!resolved.inExtension && attribute.name === 'meta') {
    throw invalidFilter(`meta.${subAttribute?.name ?? ''} is not filterable; use meta.created or meta.lastModified`)
  }
  const field = jsonField(jsonbBase(context, resolved), attribute.name, context)
  if (subAttribute === undefined) {
    if (attribute.type === 'complex') throw invalidFilter(`${attribute.name} is complex; name a sub-attribute such as ${attribute.name}.${attribute.subAttributes?.[0]?.name ?? 'value'}`)
    return { ...scalarOf(field, attribute), form: 'scalar' }
  }
  return scalarOf(jsonField(field.json, subAttribute.name, context), subAttribute)
}

/** The `value` sub-attribute stands for a multi-valued complex attribute compared without a sub-attribute (RFC 7644 §3.4.2.2). */
function defaultSubAttribute(attribute: AttributeDefinition): AttributeDefinition {
  const value = attribute.subAttributes?.find((s) => s.name === 'value')
  if (value === undefined) throw invalidFilter(`${attribute.name} needs a sub-attribute in a filter`)
  return value
}

function compileAttributeCondition(context: CompileContext, path: AttributePath, condition: (value: ValueExpression) => string, presence: boolean): string {
  const resolved = resolveOrFail(context, path)
  const source = elementSourceFor(context, resolved)
  if (source === undefined) {
    const value = singleValueExpression(context, resolved)
    return condition(value)
  }
  let element: ValueExpression
  if (source.simpleValue !== undefined) element = source.simpleValue
  else if (resolved.subAttribute !== undefined && resolved.attribute.multiValued) element = source.subAttribute(resolved.subAttribute)
  else if (presence && resolved.subAttribute === undefined) return `EXISTS (SELECT 1 ${source.from})`
  else element = source.subAttribute(defaultSubAttribute(resolved.attribute))
  return `EXISTS (SELECT 1 ${source.from} AND ${condition(element)})`
}

function literalForType(value: FilterValue, type: ScalarType, op: CompareOperator, path: AttributePath): unknown {
  const where = describePath(path)
  switch (type) {
    case 'boolean':
      if (op !== 'eq' && op !== 'ne') throw invalidFilter(`${where} is boolean: only eq and ne apply`)
      if (typeof value === 'boolean') return value
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true'
      throw invalidFilter(`${where} is boolean: compare it with true or false`)
    case 'integer':
    case 'decimal':
      if (op === 'co' || op === 'sw' || op === 'ew') throw invalidFilter(`${where} is a number: ${op} does not apply`)
      if (typeof value === 'number' && Number.isFinite(value)) return value
      throw invalidFilter(`${where} is a number: compare it with a number`)
    case 'dateTime': {
      if (op === 'co' || op === 'sw' || op === 'ew') throw invalidFilter(`${where} is a dateTime: ${op} does not apply`)
      const millis = typeof value === 'string' ? Date.parse(value) : Number.NaN
      if (Number.isNaN(millis)) throw invalidFilter(`${where} is a dateTime: compare it with an xsd:dateTime string`)
      return new Date(millis).toISOString()
    }
    default:
      if (typeof value === 'string') return value
      // Entra ID sends unquoted literals: a bare number or word on a string attribute is its text
      if (typeof value === 'number') return String(value)
      throw invalidFilter(`${where} is a string: compare it with a quoted string`)
  }
}

const SQL_OPERATORS: Partial<Record<CompareOperator, string>> = { gt: '>', ge: '>=', lt: '<', le: '<=' }

function comparison(context: CompileContext, value: ValueExpression, op: CompareOperator, literal: FilterValue, path: AttributePath): string {
  if (literal === null) {
    // `attr eq null` reads as "absent", `attr ne null` as "present"
    if (op === 'eq') return `(${value.sql}) IS NULL`
    if (op === 'ne') return `(${value.sql}) IS NOT NULL`
    throw invalidFilter(`${describePath(path)}: null only works with eq and ne`)
  }
  if (value.type === 'uuid') {
    if (op === 'eq' || op === 'ne') {
      const equal = isUuid(literal) ? `${value.sql} = ${context.params.add(literal)}::uuid` : 'false'
      return op === 'eq' ? equal : `NOT (${equal})`
    }
    return comparison(context, { ...value, sql: `${value.sql}::text`, type: 'string' }, op, literal, path)
  }
  const bound = literalForType(literal, value.type, op, path)
  const isText = value.type === 'string' || value.type === 'reference' || value.type === 'binary'
  const folded = isText && !value.caseExact
  const left = folded ? `lower(${value.sql})` : value.sql
  const cast = value.type === 'dateTime' ? '::timestamptz' : value.type === 'integer' || value.type === 'decimal' ? '::numeric' : value.type === 'boolean' ? '::boolean' : ''
  const placeholder = (v: unknown): string => (folded ? `lower(${context.params.add(v)})` : `${context.params.add(v)}${cast}`)
  switch (op) {
    case 'eq':
      return `COALESCE(${left} = ${placeholder(bound)}, false)`
    case 'ne':
      return `NOT COALESCE(${left} = ${placeholder(bound)}, false)`
    case 'co':
    case 'sw':
    case 'ew': {
      if (!isText) throw invalidFilter(`${describePath(path)}: ${op} applies to strings only`)
      const where = op === 'co' ? 'contains' : op === 'sw' ? 'startsWith' : 'endsWith'
      return `COALESCE(${left} LIKE ${placeholder(likePattern(String(bound), where))}, false)`
    }
    default: {
      if (value.type === 'boolean') throw invalidFilter(`${describePath(path)} is boolean: only eq and ne apply`)
      return `COALESCE(${left} ${SQL_OPERATORS[op] ?? '='} ${placeholder(bound)}, false)`
    }
  }
}

function presentCondition(value: ValueExpression): string {
  const isText = value.type === 'string' || value.type === 'reference' || value.type === 'binary'
  return isText ? `COALESCE(${value.sql} <> '', false)` : `(${value.sql}) IS NOT NULL`
}

/** Compiles a filter inside a valuePath: paths are relative to one element of `outer`. */
function compileElementFilter(context: CompileContext, node: FilterNode, outerPath: AttributePath, source: ElementSource, outer: AttributeDefinition): string {
  const subDefinition = (path: AttributePath): AttributeDefinition => {
    const name = path.subAttribute === undefined ? path.attribute : `${path.attribute}.${path.subAttribute}`
    const found = outer.subAttributes?.find((s) => s.name.toLowerCase() === name.toLowerCase())
    if (found === undefined) throw invalidFilter(`unknown sub-attribute "${name}" of ${outer.name}`)
    return found
  }
  switch (node.kind) {
    case 'compare':
      return comparison(context, source.subAttribute(subDefinition(node.path)), node.op, node.value, { ...outerPath, subAttribute: node.path.attribute })
    case 'present':
      return presentCondition(source.subAttribute(subDefinition(node.path)))
    case 'and':
      return `(${compileElementFilter(context, node.left, outerPath, source, outer)} AND ${compileElementFilter(context, node.right, outerPath, source, outer)})`
    case 'or':
      return `(${compileElementFilter(context, node.left, outerPath, source, outer)} OR ${compileElementFilter(context, node.right, outerPath, source, outer)})`
    case 'not':
      return `(NOT ${compileElementFilter(context, node.filter, outerPath, source, outer)})`
    case 'valuePath':
      throw invalidFilter('a value filter cannot contain another value filter')
  }
}

function compileNode(context: CompileContext, node: FilterNode): string {
  switch (node.kind) {
    case 'compare':
      if (node.op === 'ne') {
        // ne on a multi-valued attribute: no value equals the literal
        return `NOT (${compileAttributeCondition(context, node.path, (v) => comparison(context, v, 'eq', node.value, node.path), false)})`
      }
      return compileAttributeCondition(context, node.path, (v) => comparison(context, v, node.op, node.value, node.path), false)
    case 'present':
      return compileAttributeCondition(context, node.path, presentCondition, true)
    case 'and':
      return `(${compileNode(context, node.left)} AND ${compileNode(context, node.right)})`
    case 'or':
      return `(${compileNode(context, node.left)} OR ${compileNode(context, node.right)})`
    case 'not':
      return `(NOT ${compileNode(context, node.filter)})`
    case 'valuePath': {
      const resolved = resolveOrFail(context, node.path)
      const source = elementSourceFor(context, resolved)
      if (source === undefined || resolved.attribute.type !== 'complex') {
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
  const resolved = resolveOrFail(context, path)
  const source = elementSourceFor(context, resolved)
  let value: ValueExpression
  if (source === undefined) {
    value = singleValueExpression(context, resolved)
  } else if (resolved.attribute.name === context.table.membership.attribute && !resolved.inExtension) {
    throw new ScimError(400, 'invalidValue', `cannot sort by ${resolved.attribute.name}`)
  } else {
    const sub = source.simpleValue ?? source.subAttribute(resolved.subAttribute ?? defaultSubAttribute(resolved.attribute))
    const primary = resolved.attribute.type === 'complex' ? source.subAttribute({ ...defaultSubAttribute(resolved.attribute), name: 'primary', type: 'boolean' }) : undefined
    const order = primary === undefined ? '' : ` ORDER BY ${primary.sql} DESC NULLS LAST`
    value = { ...sub, sql: `(SELECT ${sub.sql} ${source.from}${order} LIMIT 1)` }
  }
  const isText = value.type === 'string' || value.type === 'reference' || value.type === 'binary' || value.type === 'uuid'
  if (value.type === 'uuid') return { sql: `${value.sql}::text`, type: 'string' }
  if (isText) return { sql: `COALESCE(${value.caseExact ? value.sql : `lower(${value.sql})`}, '')`, type: 'string' }
  if (value.type === 'boolean') return { sql: `COALESCE(${value.sql}, false)`, type: 'boolean' }
  if (value.type === 'dateTime') return { sql: `COALESCE(${value.sql}, '-infinity'::timestamptz)`, type: 'dateTime' }
  if (value.type === 'integer' || value.type === 'decimal') return { sql: `COALESCE(${value.sql}, '-Infinity'::numeric)`, type: value.type }
  throw new ScimError(400, 'invalidValue', `cannot sort by ${describePath(path)}`)
}
