import type { LightMyRequestResponse } from 'fastify'

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

/** A PatchOp request body. */
export const patchRequest = (...operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations: operations })

/** Fresh tenant ids, so tests sharing a node never share data. */
export function tenantNames(prefix: string): () => string {
  let count = 0
  return () => `${prefix}-${++count}`
}

type Call = (tenant: string, method: string, path: string, body?: unknown) => Promise<LightMyRequestResponse>

/** Setup steps that must succeed (a failure throws with the response), over a caller's SCIM call. */
export function scimCalls(call: Call) {
  async function expectStatus(status: number, tenant: string, method: string, path: string, body?: unknown) {
    const response = await call(tenant, method, path, body)
    if (response.statusCode !== status) throw new Error(`${method} ${path}: ${response.statusCode} ${response.body}`)
    return response.json()
  }
  return {
    /** POSTs a resource and returns its id. */
    create: async (tenant: string, endpoint: 'Users' | 'Groups', body: unknown): Promise<string> => (await expectStatus(201, tenant, 'POST', endpoint, body)).id,
    /** The resource as JSON (untyped, as SCIM bodies are). */
    read: (tenant: string, path: string) => expectStatus(200, tenant, 'GET', path),
    memberIds: async (tenant: string, groupId: string): Promise<string[]> =>
      (((await expectStatus(200, tenant, 'GET', `Groups/${groupId}`)).members ?? []) as { value: string }[]).map((m) => m.value).sort(),
    groupsOf: async (tenant: string, userId: string): Promise<string[]> =>
      (((await expectStatus(200, tenant, 'GET', `Users/${userId}`)).groups ?? []) as { value: string }[]).map((g) => g.value).sort(),
  }
}
