import type { FastifyReply } from 'fastify'
import { scimErrorBody, type ScimType } from './scim-error.ts'

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8'

export function sendScimError(reply: FastifyReply, status: number, detail: string, scimType?: ScimType, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers(headers).type(SCIM_CONTENT_TYPE).send(scimErrorBody(status, detail, scimType))
}
