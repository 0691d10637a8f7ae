// RFC 7644 §3.4.2.2 filters and §3.5.2 PATCH paths: parse, format, evaluate.
export type { AttributePath, CompareOperator, FilterNode, FilterValue, PatchPath } from './ast.ts'
export type { AttributeShape, DescribeAttribute } from './attribute-shape.ts'
export { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, parseFilter, parsePath } from './parse.ts'
export { formatAttributePath, formatFilter } from './format.ts'
export { compileFilter, describeWithin, matchesFilter } from './evaluate.ts'
export type { ElementTest } from './evaluate.ts'
