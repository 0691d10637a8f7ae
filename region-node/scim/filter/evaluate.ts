// RFC 7644 §3.4.2.2: in-memory filter evaluation against ONE object (a
// resource, or one element of a multi-valued attribute for PATCH value paths).
// The filter is compiled first: every path is described and every literal
// checked against its attribute type before any data is read, so the same
// filter fails the same way (400 invalidFilter) whatever the data.
//
// Semantics beyond the RFC text, chosen to match what filter-to-sql does:
// - a multi-valued attribute matches when ANY of its values matches, except
//   `ne`, which is NOT(eq): it matches when NO value equals the literal, so
//   `ne` on an absent attribute is true;
// - `eq null` means "not present", `ne null` means "present";
// - a complex attribute compared without sub-attribute (`emails co "x"`)
//   compares its `value` sub-attribute;
// - with a schema URI, the attribute is read under the resource's URN key when
//   there is one (extensions), else at the top level (core schema).
import { ScimError } from '../../../lib/scim-error.ts'
import type { AttributePath, FilterNode } from './ast.ts'
import type { AttributeShape, DescribeAttribute } from './attribute-shape.ts'
import { compileComparison } from './compile-comparison.ts'
import { formatAttributePath } from './format.ts'
import { getAttribute, isPlainObject, isPresentValue, readValues } from './read-values.ts'
import type { PlainObject } from './read-values.ts'

export type ElementTest = (element: PlainObject) => boolean

export function matchesFilter(filter: FilterNode, element: PlainObject, describe: DescribeAttribute): boolean {
  return compileFilter(filter, describe)(element)
}

/** matchesFilter split in two, to test many objects against one filter. */
export function compileFilter(filter: FilterNode, describe: DescribeAttribute): ElementTest {
  return compileNode(filter, describe, undefined)
}

/**
 * For a PATCH value filter (`emails[type eq "work"]`) tested against one
 * element: describes the element-relative `{ attribute: 'type' }` as the full
 * `{ attribute: 'emails', subAttribute: 'type' }`.
 */
export function describeWithin(parent: AttributePath, describe: DescribeAttribute): DescribeAttribute {
  return (path) =>
    path.uri === undefined && path.subAttribute === undefined ? describe(subAttributePath(parent, path.attribute)) : undefined
}

function compileNode(node: FilterNode, describe: DescribeAttribute, parent: AttributePath | undefined): ElementTest {
  switch (node.kind) {
    case 'and': {
      const left = compileNode(node.left, describe, parent)
      const right = compileNode(node.right, describe, parent)
      return (element) => left(element) && right(element)
    }
    case 'or': {
      const left = compileNode(node.left, describe, parent)
      const right = compileNode(node.right, describe, parent)
      return (element) => left(element) || right(element)
    }
    case 'not': {
      const inner = compileNode(node.filter, describe, parent)
      return (element) => !inner(element)
    }
    case 'present': {
      const { read } = resolve(node.path, describe, parent)
      return (element) => read(element).some((value) => isPresentValue(value))
    }
    case 'compare':
      return compileCompare(node, describe, parent)
    case 'valuePath':
      return compileValuePath(node, describe, parent)
  }
}

function compileCompare(
  node: Extract<FilterNode, { kind: 'compare' }>,
  describe: DescribeAttribute,
  parent: AttributePath | undefined,
): ElementTest {
  const { fullPath, shape, read } = compareTarget(resolve(node.path, describe, parent), describe)
  const pathText = formatAttributePath(fullPath)
  if (node.value === null) {
    if (node.op !== 'eq' && node.op !== 'ne') {
      throw filterError(`"${pathText}" is compared with null: only "eq" and "ne" apply, not "${node.op}"`)
    }
    const wantPresent = node.op === 'ne'
    return (element) => read(element).some((value) => isPresentValue(value)) === wantPresent
  }
  if (node.op === 'ne') {
    const equals = compileComparison('eq', node.value, shape, pathText)
    return (element) => !read(element).some(equals)
  }
  const test = compileComparison(node.op, node.value, shape, pathText)
  return (element) => read(element).some(test)
}

function compileValuePath(
  node: Extract<FilterNode, { kind: 'valuePath' }>,
  describe: DescribeAttribute,
  parent: AttributePath | undefined,
): ElementTest {
  const pathText = formatAttributePath(node.path)
  if (parent !== undefined) {
    throw filterError(`"${pathText}[…]" is nested inside "${formatAttributePath(parent)}[…]": value filters do not nest`)
  }
  if (node.path.subAttribute !== undefined) {
    throw filterError(`"${pathText}[…]" names a sub-attribute: a value filter applies to a complex attribute`)
  }
  const { shape, read } = resolve(node.path, describe, undefined)
  if (shape.type !== 'complex') {
    throw filterError(`"${pathText}" is a ${shape.type} attribute: a value filter applies to a complex attribute`)
  }
  const inner = compileNode(node.filter, describe, node.path)
  return (element) => read(element).some((value) => isPlainObject(value) && inner(value))
}

// RFC 7644 §3.4.2.2 example `emails co "example.com"`: a multi-valued complex
// attribute compared without sub-attribute compares its `value` sub-attribute.
function compareTarget(resolved: ResolvedPath, describe: DescribeAttribute): ResolvedPath {
  if (resolved.shape.type !== 'complex') return resolved
  const valuePath = resolved.fullPath.subAttribute === undefined ? subAttributePath(resolved.fullPath, 'value') : undefined
  const valueShape = valuePath === undefined ? undefined : describe(valuePath)
  if (valuePath === undefined || valueShape === undefined) {
    throw filterError(`"${formatAttributePath(resolved.fullPath)}" is a complex attribute: compare one of its sub-attributes`)
  }
  const readComplex = resolved.read
  return {
    fullPath: valuePath,
    shape: valueShape,
    read: (element) => readComplex(element).flatMap((item) => (isPlainObject(item) ? readValues(item, ['value']) : [])),
  }
}

interface ResolvedPath {
  readonly fullPath: AttributePath
  readonly shape: AttributeShape
  /** The non-null values the path names in an element (arrays spread). */
  readonly read: (element: PlainObject) => unknown[]
}

function resolve(path: AttributePath, describe: DescribeAttribute, parent: AttributePath | undefined): ResolvedPath {
  if (parent !== undefined && (path.uri !== undefined || path.subAttribute !== undefined)) {
    throw filterError(
      `"${formatAttributePath(path)}" inside "${formatAttributePath(parent)}[…]": expected a sub-attribute name of "${parent.attribute}"`,
    )
  }
  const fullPath = parent === undefined ? path : subAttributePath(parent, path.attribute)
  const shape = describe(fullPath)
  if (shape === undefined) throw filterError(`unknown attribute "${formatAttributePath(fullPath)}"`)
  if (parent !== undefined) return { fullPath, shape, read: (element) => readValues(element, [path.attribute]) }
  const names = path.subAttribute === undefined ? [path.attribute] : [path.attribute, path.subAttribute]
  const { uri } = path
  return { fullPath, shape, read: (element) => readValues(container(element, uri), names) }
}

// Extension attributes live under their schema URN key (RFC 7643 §3.3).
function container(element: PlainObject, uri: string | undefined): PlainObject {
  if (uri === undefined) return element
  const extension = getAttribute(element, uri)
  return isPlainObject(extension) ? extension : element
}

function subAttributePath(parent: AttributePath, subAttribute: string): AttributePath {
  return { ...(parent.uri === undefined ? {} : { uri: parent.uri }), attribute: parent.attribute, subAttribute }
}

function filterError(detail: string): ScimError {
  return new ScimError(400, 'invalidFilter', `invalid filter: ${detail}`)
}
