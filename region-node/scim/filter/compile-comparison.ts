// RFC 7644 §3.4.2.2 attribute operators, typed by RFC 7643 §2.3 attribute
// types. The literal is checked against the attribute type once, up front, so
// a misfit is a 400 whatever data the filter meets.
import { ScimError } from '../../../lib/scim-error.ts'
import type { CompareOperator, FilterValue } from './ast.ts'
import type { AttributeShape } from './attribute-shape.ts'

/** Tests one attribute value (never null or undefined) against the literal. */
export type ValueTest = (actual: unknown) => boolean

type Ordering = -1 | 0 | 1

const SUBSTRING_OPERATORS: ReadonlySet<CompareOperator> = new Set(['co', 'sw', 'ew'])
const ORDERING_OPERATORS: ReadonlySet<CompareOperator> = new Set(['gt', 'ge', 'lt', 'le'])
// RFC 7643 §2.3.5: xsd:dateTime, e.g. 2008-01-23T04:56:22Z; a date alone is
// accepted too. Without a zone the instant is read as UTC, not server time.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/i

export function compileComparison(
  op: CompareOperator,
  literal: Exclude<FilterValue, null>,
  shape: AttributeShape,
  pathText: string,
): ValueTest {
  const misfit = (detail: string): ScimError =>
    new ScimError(400, 'invalidFilter', `invalid filter: "${pathText}" is ${detail}`)
  const describedLiteral = typeof literal === 'string' ? JSON.stringify(literal) : String(literal)

  switch (shape.type) {
    case 'string':
    case 'reference':
    case 'binary': {
      // Entra ID sends literals unquoted, so `externalId eq 12345` arrives as
      // a number; on a string attribute it means the text "12345".
      const text = typeof literal === 'number' && shape.type === 'string' ? String(literal) : literal
      if (typeof text !== 'string') throw misfit(`a ${shape.type} attribute, compared with ${describedLiteral}`)
      // RFC 7644 §3.4.2.2: ordering on binary attributes is a 400.
      if (shape.type === 'binary' && ORDERING_OPERATORS.has(op)) throw misfit(`a binary attribute: "${op}" does not apply`)
      const fold = shape.caseExact ? (value: string) => value : (value: string) => value.toLowerCase()
      const expected = fold(text)
      return (actual) => typeof actual === 'string' && testString(op, fold(actual), expected)
    }
    case 'boolean': {
      if (op !== 'eq' && op !== 'ne') throw misfit(`a boolean attribute: only "eq" and "ne" apply, not "${op}"`)
      if (typeof literal !== 'boolean') throw misfit(`a boolean attribute, compared with ${describedLiteral}`)
      return (actual) => actual === literal
    }
    case 'integer':
    case 'decimal': {
      if (SUBSTRING_OPERATORS.has(op)) throw misfit(`a number attribute: "${op}" applies to strings only`)
      if (typeof literal !== 'number') throw misfit(`a number attribute, compared with ${describedLiteral}`)
      return (actual) => typeof actual === 'number' && testOrdering(op, order(actual, literal))
    }
    case 'dateTime': {
      if (SUBSTRING_OPERATORS.has(op)) throw misfit(`a dateTime attribute: "${op}" applies to strings only`)
      const instant = typeof literal === 'string' ? parseDateTime(literal) : undefined
      if (instant === undefined) {
        throw misfit(`a dateTime attribute, compared with ${describedLiteral}: expected a date-time string like "2011-05-13T04:42:34Z"`)
      }
      return (actual) => {
        const actualInstant = typeof actual === 'string' ? parseDateTime(actual) : undefined
        return actualInstant !== undefined && testOrdering(op, order(actualInstant, instant))
      }
    }
    case 'complex':
      throw misfit('a complex attribute: compare one of its sub-attributes')
  }
}

/** Milliseconds since the epoch, or undefined when `text` is not an xsd:dateTime. */
export function parseDateTime(text: string): number | undefined {
  const match = DATE_TIME.exec(text)
  if (match === null) return undefined
  const hasTime = text.length > 10
  const instant = Date.parse(hasTime && match[1] === undefined ? `${text}Z` : text)
  return Number.isFinite(instant) ? instant : undefined
}

function testString(op: CompareOperator, actual: string, expected: string): boolean {
  switch (op) {
    case 'co':
      return actual.includes(expected)
    case 'sw':
      return actual.startsWith(expected)
    case 'ew':
      return actual.endsWith(expected)
    default:
      // Lexical order by UTF-16 code unit, as the RFC leaves collation open.
      return testOrdering(op, actual === expected ? 0 : actual < expected ? -1 : 1)
  }
}

function order(actual: number, expected: number): Ordering {
  return actual === expected ? 0 : actual < expected ? -1 : 1
}

function testOrdering(op: CompareOperator, ordering: Ordering): boolean {
  switch (op) {
    case 'eq':
      return ordering === 0
    case 'ne':
      return ordering !== 0
    case 'gt':
      return ordering > 0
    case 'ge':
      return ordering >= 0
    case 'lt':
      return ordering < 0
    case 'le':
      return ordering <= 0
    default:
      return false
  }
}
