import type { AttributeType } from '../schema/types.ts'
import type { AttributePath } from './ast.ts'

/** What filter evaluation needs to know about an attribute (RFC 7643 §7). */
export type AttributeShape = { readonly type: AttributeType; readonly caseExact: boolean; readonly multiValued: boolean }

/**
 * Describes the attribute a FULL path names (`{ attribute: 'emails', subAttribute: 'type' }`
 * for `type` inside `emails[…]`); undefined for an unknown attribute.
 */
export type DescribeAttribute = (path: AttributePath) => AttributeShape | undefined
