// RFC 7644 §3.4.2.2 (Figure 1) filters and §3.5.2 PATCH paths, by recursive
// descent: `or` < `and` < `not (…)` / `( … )` / attrExp / valuePath.
// Operators and keywords are case-insensitive. Lenient forms real identity
// providers send (docs/identity-providers.md#r8):
// - Entra ID `emails[type eq "work"].value eq "x"` folds into the value path:
//   `emails[type eq "work" and value eq "x"]`;
// - Entra ID unquoted literals: a bare word that is not true/false/null or a
//   JSON number is a string (`userName eq john.doe@example.com`).
// Every error is a ScimError 400 naming what was expected and the 0-based
// character position.
import { ScimError } from '../../../lib/scim-error.ts'
import type { ScimType } from '../../../lib/scim-error.ts'
import type { AttributePath, CompareOperator, FilterNode, FilterValue, PatchPath } from './ast.ts'
import { isAttributeName, isBareSchemaUrn, parseAttributePath } from './attribute-path.ts'
import { describeToken, tokenize } from './tokenize.ts'
import type { Token } from './tokenize.ts'

export const MAX_FILTER_LENGTH = 4096
export const MAX_FILTER_DEPTH = 64

const COMPARE_OPERATORS: ReadonlySet<string> = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'])
const LOGICAL_KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not'])
// RFC 8259 §6.
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

export function parseFilter(text: string): FilterNode {
  const parser = new Parser(text, 'invalidFilter', 'filter')
  const filter = parser.parseOr()
  parser.expect('end', '"and", "or" or the end of the filter')
  return filter
}

/**
 * RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr].
 * A bare schema URN (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`,
 * the target of a no-sub-path add/replace of a whole extension) is returned as
 * `{ attribute: { uri: <the URN as written>, attribute: '' } }`: an empty
 * attribute name means "the extension object itself".
 */
export function parsePath(text: string): PatchPath {
  const parser = new Parser(text, 'invalidPath', 'path')
  const first = parser.peek()
  if (first.kind === 'word' && isBareSchemaUrn(first.text) && parser.peek(1).kind === 'end') {
    return { attribute: { uri: first.text, attribute: '' } }
  }
  const target = parser.parsePathWithValueFilter()
  parser.expect('end', '"[", "." or the end of the path')
  return target.filter === undefined
    ? { attribute: target.path }
    : {
        attribute: target.path,
        valueFilter: target.filter,
        ...(target.subAttribute === undefined ? {} : { subAttribute: target.subAttribute }),
      }
}

interface ValuePathParts {
  readonly path: AttributePath
  readonly filter?: FilterNode
  /** The `.sub` after `]`. */
  readonly subAttribute?: string
}

class Parser {
  private readonly tokens: Token[]
  private index = 0
  private depth = 0
  /** The multi-valued attribute whose `[…]` is being parsed, if any. */
  private valuePathAttribute: string | undefined
  private readonly scimType: ScimType
  private readonly what: 'filter' | 'path'

  constructor(text: unknown, scimType: ScimType, what: 'filter' | 'path') {
    this.scimType = scimType
    this.what = what
    if (typeof text !== 'string') throw this.error(`expected the ${what} as a string`)
    if (text.length > MAX_FILTER_LENGTH) {
      throw this.error(`${what} is ${text.length} characters long: expected at most ${MAX_FILTER_LENGTH}`)
    }
    this.tokens = tokenize(text, scimType)
  }

  peek(ahead = 0): Token {
    // The last token is always `end`.
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)] as Token
  }

  expect(kind: Token['kind'], expected: string, note = ''): Token {
    const token = this.peek()
    if (token.kind !== kind) throw this.unexpected(token, expected, note)
    this.index += 1
    return token
  }

  // logExp: `or` binds loosest; both operators associate to the left.
  parseOr(): FilterNode {
    let left = this.parseAnd()
    while (this.isKeyword(this.peek(), 'or')) {
      this.index += 1
      left = { kind: 'or', left, right: this.parseAnd() }
    }
    return left
  }

  parsePathWithValueFilter(): ValuePathParts {
    const token = this.peek()
    const path = this.parseAttributePathToken(token)
    this.index += 1
    if (this.peek().kind !== '[') return { path }
    const filter = this.parseValueFilter(path, token)
    const dotted = this.peek()
    if (dotted.kind !== 'word' || !dotted.text.startsWith('.')) return { path, filter }
    const subAttribute = dotted.text.slice(1)
    if (!isAttributeName(subAttribute)) {
      throw this.unexpected(dotted, 'a sub-attribute name after "]."')
    }
    this.index += 1
    return { path, filter, subAttribute }
  }

  private parseAnd(): FilterNode {
    let left = this.parseOperand()
    while (this.isKeyword(this.peek(), 'and')) {
      this.index += 1
      left = { kind: 'and', left, right: this.parseOperand() }
    }
    return left
  }

  private parseOperand(): FilterNode {
    const token = this.peek()
    if (this.isKeyword(token, 'not')) {
      this.index += 1
      const open = this.expect('(', '"(" after "not"')
      return { kind: 'not', filter: this.parseGroup(open) }
    }
    if (token.kind === '(') {
      this.index += 1
      return this.parseGroup(token)
    }
    return this.parseAttributeExpression()
  }

  private parseGroup(open: Token): FilterNode {
    this.enter(open)
    const filter = this.parseOr()
    this.expect(')', '"and", "or" or ")"', ` (the "(" at position ${open.start} is not closed)`)
    this.depth -= 1
    return filter
  }

  // attrExp / valuePath, including Entra ID's `valuePath "." subAttr op value`.
  private parseAttributeExpression(): FilterNode {
    const { path, filter, subAttribute } = this.parsePathWithValueFilter()
    if (filter === undefined) return this.parseOperation(path)
    if (subAttribute === undefined) return { kind: 'valuePath', path, filter }
    const trailing = this.parseOperation({ attribute: subAttribute })
    return { kind: 'valuePath', path, filter: { kind: 'and', left: filter, right: trailing } }
  }

  private parseValueFilter(path: AttributePath, pathToken: Token): FilterNode {
    const open = this.peek()
    if (this.valuePathAttribute !== undefined) {
      throw this.error(`value filters do not nest: "[" at position ${open.start} after "${path.attribute}" is inside another value filter`)
    }
    if (path.subAttribute !== undefined) {
      throw this.error(
        `"[" at position ${open.start}: a value filter applies to a multi-valued attribute, not to the sub-attribute ${describeToken(pathToken)}`,
      )
    }
    this.index += 1
    this.enter(open)
    this.valuePathAttribute = path.attribute
    const filter = this.parseOr()
    this.expect(']', '"and", "or" or "]"', ` (the "[" at position ${open.start} is not closed)`)
    this.valuePathAttribute = undefined
    this.depth -= 1
    return filter
  }

  private parseOperation(path: AttributePath): FilterNode {
    const token = this.peek()
    const operator = token.kind === 'word' ? token.text.toLowerCase() : ''
    if (operator === 'pr') {
      this.index += 1
      return { kind: 'present', path }
    }
    if (!COMPARE_OPERATORS.has(operator)) {
      throw this.unexpected(token, 'a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or "pr"')
    }
    this.index += 1
    return { kind: 'compare', path, op: operator as CompareOperator, value: this.parseValue() }
  }

  // compValue = false / null / true / number / string, plus unquoted words.
  private parseValue(): FilterValue {
    const token = this.peek()
    const expected = 'a value (a JSON string, a number, true, false or null)'
    if (token.kind === 'string') {
      this.index += 1
      return token.value ?? ''
    }
    if (token.kind !== 'word' || LOGICAL_KEYWORDS.has(token.text.toLowerCase())) {
      throw this.unexpected(token, expected)
    }
    this.index += 1
    const lower = token.text.toLowerCase()
    if (lower === 'true') return true
    if (lower === 'false') return false
    if (lower === 'null') return null
    if (!JSON_NUMBER.test(token.text)) return token.text
    const number = Number(token.text)
    if (!Number.isFinite(number)) {
      throw this.error(`number ${describeToken(token)} at position ${token.start} is out of range: expected a finite number`)
    }
    return number
  }

  private parseAttributePathToken(token: Token): AttributePath {
    const expected = this.valuePathAttribute === undefined
      ? 'an attribute path (name, name.sub or schemaURN:name)'
      : `a sub-attribute name of "${this.valuePathAttribute}"`
    const isKeyword = token.kind === 'word' && LOGICAL_KEYWORDS.has(token.text.toLowerCase())
    const path = token.kind === 'word' && !isKeyword ? parseAttributePath(token.text) : undefined
    if (path === undefined) throw this.unexpected(token, expected)
    // Inside `attr[…]` paths are relative to one element (RFC 7644 §3.4.2.2),
    // and RFC 7643 §2.3.8 gives sub-attributes no sub-attributes of their own.
    if (this.valuePathAttribute !== undefined && (path.uri !== undefined || path.subAttribute !== undefined)) {
      throw this.unexpected(token, expected)
    }
    return path
  }

  private enter(open: Token): void {
    this.depth += 1
    if (this.depth > MAX_FILTER_DEPTH) {
      throw this.error(`${this.what} nests deeper than ${MAX_FILTER_DEPTH} levels at position ${open.start}`)
    }
  }

  private isKeyword(token: Token, keyword: 'and' | 'or' | 'not'): boolean {
    return token.kind === 'word' && token.text.toLowerCase() === keyword
  }

  private unexpected(token: Token, expected: string, note = ''): ScimError {
    return this.error(`expected ${expected} at position ${token.start}, found ${describeToken(token)}${note}`)
  }

  private error(detail: string): ScimError {
    return new ScimError(400, this.scimType, `invalid ${this.what}: ${detail}`)
  }
}
