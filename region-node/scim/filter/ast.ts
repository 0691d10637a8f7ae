// RFC 7644 §3.4.2.2: the typed filter AST, the contract between the parser
// (pure), the in-memory evaluator (PATCH value paths) and filter-to-sql.
export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le'

/** A literal in a filter: JSON string, number, true/false, or null. */
export type FilterValue = string | number | boolean | null

/**
 * An attribute path as written, not yet resolved against a schema.
 * `urn:ietf:params:scim:schemas:core:2.0:User:name.familyName` →
 *   { uri: 'urn:ietf:params:scim:schemas:core:2.0:User', attribute: 'name', subAttribute: 'familyName' }
 */
export interface AttributePath {
  readonly uri?: string
  readonly attribute: string
  readonly subAttribute?: string
}

export type FilterNode =
  | { readonly kind: 'compare'; readonly path: AttributePath; readonly op: CompareOperator; readonly value: FilterValue }
  | { readonly kind: 'present'; readonly path: AttributePath }
  | { readonly kind: 'and'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: 'not'; readonly filter: FilterNode }
  /**
   * `emails[type eq "work" and value co "@example.com"]`: `path` names the
   * multi-valued attribute (no subAttribute); inside `filter`, paths are
   * relative to one element (`{ attribute: 'type' }`).
   * Entra ID's `emails[type eq "work"].value eq "x"` parses to the same node
   * with the trailing comparison folded into `filter` with `and`.
   */
  | { readonly kind: 'valuePath'; readonly path: AttributePath; readonly filter: FilterNode }

/**
 * RFC 7644 §3.5.2: a PATCH path. `members[value eq "2819c223"].display` →
 *   { attribute: { attribute: 'members' }, valueFilter: <compare>, subAttribute: 'display' }
 * `name.familyName` → { attribute: { attribute: 'name', subAttribute: 'familyName' } }
 */
export interface PatchPath {
  readonly attribute: AttributePath
  readonly valueFilter?: FilterNode
  /** Only with valueFilter: the sub-attribute after `]`. */
  readonly subAttribute?: string
}
