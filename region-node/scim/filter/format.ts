// RFC 7644 §3.4.2.2: canonical filter text — lower-case operators, JSON
// literals, parentheses only where the left-associative `and`-over-`or`
// grammar needs them — so parseFilter(formatFilter(ast)) equals ast.
import { ScimError } from '../../../lib/scim-error.ts'
import type { AttributePath, FilterNode, FilterValue } from './ast.ts'

export function formatFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'compare':
      return `${formatAttributePath(node.path)} ${node.op} ${formatFilterValue(node.value)}`
    case 'present':
      return `${formatAttributePath(node.path)} pr`
    case 'and':
      return `${formatOperand(node.left, node.left.kind === 'or')} and ${formatOperand(node.right, node.right.kind === 'or' || node.right.kind === 'and')}`
    case 'or':
      return `${formatFilter(node.left)} or ${formatOperand(node.right, node.right.kind === 'or')}`
    case 'not':
      return `not (${formatFilter(node.filter)})`
    case 'valuePath':
      return `${formatAttributePath(node.path)}[${formatFilter(node.filter)}]`
  }
}

export function formatAttributePath(path: AttributePath): string {
  const name = path.subAttribute === undefined ? path.attribute : `${path.attribute}.${path.subAttribute}`
  return path.uri === undefined ? name : `${path.uri}:${name}`
}

export function formatFilterValue(value: FilterValue): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value !== 'number') return String(value)
  if (!Number.isFinite(value)) {
    throw new ScimError(400, 'invalidFilter', `invalid filter: ${value} is not a number a filter can hold`)
  }
  return Object.is(value, -0) ? '-0' : String(value)
}

function formatOperand(node: FilterNode, grouped: boolean): string {
  return grouped ? `(${formatFilter(node)})` : formatFilter(node)
}
