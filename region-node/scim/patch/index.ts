export type { MemberOperation, MemberInput, PatchOperation, PatchOperationKind } from './patch-operation.ts'
export { MAX_PATCH_OPERATIONS, parsePatchRequest } from './parse-patch-request.ts'
export { applyPatch } from './apply-patch.ts'
export { planMemberOperations } from './plan-member-operations.ts'
