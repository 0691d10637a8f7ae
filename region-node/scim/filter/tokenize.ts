// RFC 7644 §3.4.2.2: splits filter text into tokens. Grouping characters and
// JSON strings are tokens of their own; everything else between whitespace is
// a "word" (attribute path, operator, keyword, number, or an unquoted literal
// as Entra ID sends it) that the parser interprets by position.
// Positions are 0-based offsets into the text, as in V8's JSON.parse errors.
import { ScimError } from '../../../lib/scim-error.ts'
import type { ScimType } from '../../../lib/scim-error.ts'

export type TokenKind = '(' | ')' | '[' | ']' | 'string' | 'word' | 'end'

export interface Token {
  readonly kind: TokenKind
  /** The source text of the token (for strings: with quotes and escapes). */
  readonly text: string
  readonly start: number
  /** The decoded value of a `string` token. */
  readonly value?: string
}

const PUNCTUATION = new Set(['(', ')', '[', ']'])
const WHITESPACE = new Set([' ', '\t', '\n', '\r'])
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
}
const HEX4 = /^[0-9A-Fa-f]{4}$/

/** Tokens of `text`, always ending with one `end` token. */
export function tokenize(text: string, scimType: ScimType = 'invalidFilter'): Token[] {
  const tokens: Token[] = []
  let index = 0
  while (index < text.length) {
    const char = text.charAt(index)
    if (WHITESPACE.has(char)) {
      index += 1
    } else if (PUNCTUATION.has(char)) {
      tokens.push({ kind: char as TokenKind, text: char, start: index })
      index += 1
    } else if (char === '"') {
      const token = readString(text, index, scimType)
      tokens.push(token)
      index += token.text.length
    } else {
      const start = index
      while (index < text.length) {
        const next = text.charAt(index)
        if (WHITESPACE.has(next) || PUNCTUATION.has(next) || next === '"') break
        index += 1
      }
      tokens.push({ kind: 'word', text: text.slice(start, index), start })
    }
  }
  tokens.push({ kind: 'end', text: '', start: text.length })
  return tokens
}

// RFC 8259 §7: a JSON string; raw control characters are not allowed.
function readString(text: string, start: number, scimType: ScimType): Token {
  let value = ''
  let index = start + 1
  while (index < text.length) {
    const char = text.charAt(index)
    if (char === '"') {
      return { kind: 'string', text: text.slice(start, index + 1), start, value }
    }
    if (char === '\\') {
      const escape = text.charAt(index + 1)
      const simple = SIMPLE_ESCAPES[escape]
      if (simple !== undefined) {
        value += simple
        index += 2
      } else if (escape === 'u' && HEX4.test(text.slice(index + 2, index + 6))) {
        value += String.fromCharCode(Number.parseInt(text.slice(index + 2, index + 6), 16))
        index += 6
      } else {
        throw new ScimError(
          400,
          scimType,
          `invalid escape in string at position ${index}: expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`,
        )
      }
    } else if (char < ' ') {
      throw new ScimError(
        400,
        scimType,
        `control character in string at position ${index}: expected it escaped (e.g. \\n or \\u00XX)`,
      )
    } else {
      value += char
      index += 1
    }
  }
  throw new ScimError(400, scimType, `unterminated string starting at position ${start}: expected a closing '"'`)
}

/** How an error message names a token: quoted and cut short. */
export function describeToken(token: Token): string {
  if (token.kind === 'end') return 'the end of the text'
  const text = token.text.length > 40 ? `${token.text.slice(0, 40)}…` : token.text
  return JSON.stringify(text)
}
