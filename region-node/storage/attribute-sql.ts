// Where an attribute's values live in SQL: an indexed column, a jsonb path in
// `attributes`, or rows (jsonb array elements, group_members) for
// multi-valued attributes. Shared by the filter and sort compilers; every value
// and key is bound through SqlParams.
import { ScimError } from '../../lib/scim-error.ts'
import type { AttributePath } from '../scim/filter/ast.ts'
import { resolveAttribute } from '../scim/schema/index.ts'
import type { AttributeDefinition, AttributeType, ResolvedAttribute, ResourceTypeDefinition } from '../scim/schema/types.ts'
import type { ResourceTable } from './resource-tables.ts'
import type { SqlParams } from './sql-params.ts'

export type ScalarType = AttributeType | 'uuid'

/** A typed SQL expression for one attribute value. */
export interface ValueExpression {
  readonly sql: string
  readonly type: ScalarType
  readonly caseExact: boolean
  /** The value already lower-cased in an indexed column. */
  readonly foldedSql?: string
}

/** Rows of a multi-valued attribute and how to read a sub-attribute of one row. */
export interface ElementSource {
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
export const nextAlias = (): string => `e${(aliasCounter = (aliasCounter + 1) % 1_000_000)}`

export const invalidFilter = (detail: string): ScimError => new ScimError(400, 'invalidFilter', detail)
export const isTextType = (type: ScalarType): boolean => type === 'string' || type === 'reference' || type === 'binary'

export function describePath(path: AttributePath): string {
  return [path.uri, [path.attribute, path.subAttribute].filter(Boolean).join('.')].filter(Boolean).join(':')
}

export function resolveOrFail(context: CompileContext, path: AttributePath, use: 'filter' | 'sortBy' = 'filter'): ResolvedAttribute {
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

export function jsonbBase(context: CompileContext, resolved: ResolvedAttribute): string {
  return resolved.inExtension ? `r.attributes->${context.params.add(resolved.schemaId)}` : 'r.attributes'
}

export function jsonField(baseSql: string, key: string, context: CompileContext): { json: string; text: string } {
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
export function elementSourceFor(context: CompileContext, resolved: ResolvedAttribute): ElementSource | undefined {
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

export function singleValueExpression(context: CompileContext, resolved: ResolvedAttribute): ValueExpression {
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
export function defaultSubAttribute(attribute: AttributeDefinition): AttributeDefinition {
  const value = attribute.subAttributes?.find((s) => s.name === 'value')
  if (value === undefined) throw invalidFilter(`${attribute.name} needs a sub-attribute in a filter`)
  return value
}

