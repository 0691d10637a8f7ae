// Which identity provider sent a request, read from its User-Agent. The
// gateway computes it once per request and passes it to the node (header
// below), for the event log and the "last used by" of tokens.
export const CLIENT_KINDS = ['okta', 'entra', 'onelogin', 'other'] as const
export type ClientKind = (typeof CLIENT_KINDS)[number]

/** Set by the gateway on every proxied request; the node believes it only alongside a valid identity. */
export const CLIENT_KIND_HEADER = 'x-scimgate-client-kind'

export function clientKindOf(userAgent: string | undefined): ClientKind {
  if (userAgent === undefined) return 'other'
  if (/okta/i.test(userAgent)) return 'okta'
  // Entra ID provisioning identifies itself as Azure AD / Microsoft (e.g. "Microsoft.AAD.Provisioning…")
  if (/entra|azure|microsoft|\baad\b/i.test(userAgent)) return 'entra'
  if (/onelogin/i.test(userAgent)) return 'onelogin'
  return 'other'
}

export function isClientKind(value: unknown): value is ClientKind {
  return typeof value === 'string' && (CLIENT_KINDS as readonly string[]).includes(value)
}
