import type { AttributeRequest } from './attribute-selection.ts'

/**
 * Whether a response must be projected at all. A stored resource holds only known attributes, none
 * `returned: never` and no nulls (ingest drops them), so without attributes/excludedAttributes its
 * wire form is already what RFC 7644 §3.4.2.5 asks for.
 */
export function isProjectionRequested(request: AttributeRequest): boolean {
  return (request.attributes?.length ?? 0) > 0 || (request.excludedAttributes?.length ?? 0) > 0
}
