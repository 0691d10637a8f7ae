import { ScimError, isScimError } from '../../../lib/scim-error.ts'

export function operationLabel(index: number): string {
  return `Operations[${index}]`
}

/** Prefixes a ScimError's detail with the operation it came from; anything else is rethrown as is. */
export function withOperationIndex(error: unknown, index: number): unknown {
  if (!isScimError(error)) return error
  const label = operationLabel(index)
  if (error.message.startsWith(label)) return error
  return new ScimError(error.status, error.scimType, `${label}: ${error.message}`, { ...error.headers })
}
