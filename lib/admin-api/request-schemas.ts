// Server-side validation of the admin contract's requests; each schema is
// checked against its contract type, so the two cannot drift apart.
import { z } from 'zod'
import { IDENTITY_SCOPES } from '../internal-identity.ts'
import type { CreateCredentialRequest, CreateTokenRequest, GroupQuery, PageQuery, RotateTokenRequest, SignInRequest, UserQuery } from './contract.ts'

const expiresAt = z.iso.datetime({ offset: true }).nullable().optional()

export const signInSchema = z.strictObject({ credential: z.string().min(1).max(256) }) satisfies z.ZodType<SignInRequest>

export const createTokenSchema = z.strictObject({
  tenantId: z.string().min(1),
  region: z.string().min(1),
  label: z.string().max(200).optional(),
  expiresAt,
  scopes: z.array(z.enum(IDENTITY_SCOPES)).min(1).optional(),
}) satisfies z.ZodType<CreateTokenRequest>

export const rotateTokenSchema = z.strictObject({ label: z.string().max(200).optional(), expiresAt }) satisfies z.ZodType<RotateTokenRequest>

export const createCredentialSchema = z.strictObject({
  kind: z.enum(['admin', 'access']),
  region: z.string().min(1),
  tenantId: z.string().min(1).optional(),
  label: z.string().max(200).optional(),
  expiresAt,
}) satisfies z.ZodType<CreateCredentialRequest>

export const pageQuerySchema = z.object({
  cursor: z.string().max(200).optional(),
  count: z.coerce.number().int().min(1).max(200).default(50),
}) satisfies z.ZodType<PageQuery, unknown>
export const userQuerySchema = pageQuerySchema.extend({
  search: z.string().max(200).optional(),
  status: z.enum(['all', 'active', 'deactivated']).default('all'),
}) satisfies z.ZodType<UserQuery, unknown>
export const groupQuerySchema = pageQuerySchema.extend({ search: z.string().max(200).optional() }) satisfies z.ZodType<GroupQuery, unknown>
