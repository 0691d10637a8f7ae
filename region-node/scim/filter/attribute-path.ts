// RFC 7644 §3.4.2.2 (Figure 1): attrPath = [URI ":"] ATTRNAME *1subAttr.
import type { AttributePath } from './ast.ts'

// ATTRNAME = ALPHA *(nameChar); nameChar = "-" / "_" / DIGIT / ALPHA.
// RFC 7643 §2.4 also names `$ref` sub-attributes, so it is accepted too.
const ATTRIBUTE_NAME = /^(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)$/
// RFC 3986 §3.1 scheme, then something after the colon: `urn:…`, `http://…`.
const SCHEMA_URI = /^[A-Za-z][A-Za-z0-9+.-]*:.+$/
// The segment before a resource name in a schema URN: `…:2.0:User`.
const VERSION_SEGMENT = /^\d+(?:\.\d+)*$/

export function isAttributeName(text: string): boolean {
  return ATTRIBUTE_NAME.test(text)
}

/**
 * The path a word names, or undefined when it is not an attrPath.
 * URNs contain colons and dots (`…:enterprise:2.0:User:employeeNumber`), so
 * the URI is everything up to the LAST colon; the rest is `name` or `name.sub`.
 */
export function parseAttributePath(word: string): AttributePath | undefined {
  const lastColon = word.lastIndexOf(':')
  const uri = lastColon === -1 ? undefined : word.slice(0, lastColon)
  if (uri !== undefined && !SCHEMA_URI.test(uri)) return undefined
  const names = word.slice(lastColon + 1).split('.')
  if (names.length > 2 || !names.every(isAttributeName)) return undefined
  const [attribute, subAttribute] = names as [string, string | undefined]
  return {
    ...(uri === undefined ? {} : { uri }),
    attribute,
    ...(subAttribute === undefined ? {} : { subAttribute }),
  }
}

/**
 * True when `word` is a whole schema URN (`urn:…:enterprise:2.0:User`) rather
 * than `uri:attribute`: read as attrPath its URI would end in a version
 * segment (`…:2.0`), which no schema URI does (RFC 7643 §3, §8.7).
 */
export function isBareSchemaUrn(word: string): boolean {
  const path = parseAttributePath(word)
  if (path?.uri === undefined || path.subAttribute !== undefined) return false
  const uriSegments = path.uri.split(':')
  return VERSION_SEGMENT.test(uriSegments[uriSegments.length - 1] ?? '')
}
