// Which kind of admin-API credential a forwarded admin request comes from.
// The gateway sets it on every request its admin listener forwards to a node;
// the node believes it only alongside a valid identity. The change feed
// tracks the position of product services (access credentials) by default,
// and of admins only when they name themselves a consumer: a console or a
// terminal following the feed is no consumer that lags.
export const ADMIN_CREDENTIAL_KINDS = ['operator', 'admin', 'access'] as const
export type AdminCredentialKind = (typeof ADMIN_CREDENTIAL_KINDS)[number]

export const ADMIN_CREDENTIAL_KIND_HEADER = 'x-scimgate-credential-kind'

export function isAdminCredentialKind(value: unknown): value is AdminCredentialKind {
  return typeof value === 'string' && (ADMIN_CREDENTIAL_KINDS as readonly string[]).includes(value)
}
