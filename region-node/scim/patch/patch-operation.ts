// RFC 7644 §3.5.2: one PATCH operation, after parsePatchRequest has normalised
// what identity providers send (lower-case `op`, `null` values, remove with a
// value array).
export type PatchOperationKind = 'add' | 'remove' | 'replace'

export interface PatchOperation {
  readonly op: PatchOperationKind
  readonly path?: string
  readonly value?: unknown
  /**
   * Position of the operation in the request's `Operations` array, for error
   * details (`Operations[2]: …`). parsePatchRequest sets it because one request
   * operation can become several (Entra's remove with a value array); when it
   * is absent the position in the array given to applyPatch is used.
   */
  readonly index?: number
}

export type MemberInput = { value: string; type?: 'User' | 'Group' }

/** A change of Group `members`, executed by the store as SQL set operations (docs/identity-providers.md#r3). */
export type MemberOperation =
  | { kind: 'add'; members: MemberInput[] }
  | { kind: 'remove'; memberIds: string[] }
  | { kind: 'removeAll' }
  | { kind: 'replace'; members: MemberInput[] }
