// RFC 7644 §3.12: the one error type of scimgate. Domain code throws it; each
// service's error handler turns it into an `application/scim+json` body.
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  // RFC 9865 (cursor pagination)
  | 'invalidCursor'
  | 'expiredCursor'
  | 'invalidCount'

/**
 * The statuses each scimType may go with. RFC 7644 §3.12 (Table 9) defines the
 * keywords for 400 responses, and §3.3/§3.5.1 pair `uniqueness` with 409;
 * §7.5.2 refuses sensitive data in URIs with 403. RFC 9865's cursor keywords
 * are 400s. Any other status carries no scimType.
 */
const STATUSES_OF_SCIM_TYPE: Readonly<Record<ScimType, readonly number[]>> = {
  invalidFilter: [400],
  tooMany: [400],
  uniqueness: [409],
  mutability: [400],
  invalidSyntax: [400],
  invalidPath: [400],
  noTarget: [400],
  invalidValue: [400],
  invalidVers: [400],
  sensitive: [400, 403],
  invalidCursor: [400],
  expiredCursor: [400],
  invalidCount: [400],
}

/** True when the status and scimType may appear together in one SCIM error. */
export function statusAgreesWithScimType(status: number, scimType: ScimType | undefined): boolean {
  return scimType === undefined || (STATUSES_OF_SCIM_TYPE[scimType]?.includes(status) ?? false)
}

export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA]
  status: string
  scimType?: ScimType
  detail: string
}

export class ScimError extends Error {
  readonly status: number
  readonly scimType: ScimType | undefined
  /** Extra response headers, e.g. Retry-After on 429/503. */
  readonly headers: Readonly<Record<string, string>>

  constructor(status: number, scimType: ScimType | undefined, detail: string, headers: Record<string, string> = {}) {
    // A wrong pair is our bug: refuse it here rather than send a client a contradiction.
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new RangeError(`a SCIM error needs a 4xx or 5xx status, not ${status}`)
    if (!statusAgreesWithScimType(status, scimType)) throw new RangeError(`scimType ${String(scimType)} does not go with status ${status} (RFC 7644 §3.12)`)
    super(detail)
    this.name = 'ScimError'
    this.status = status
    this.scimType = scimType
    this.headers = headers
  }

  get detail(): string {
    return this.message
  }

  toBody(): ScimErrorBody {
    return scimErrorBody(this.status, this.message, this.scimType)
  }
}

/**
 * A dependency (PostgreSQL, Redis, a region node) is unreachable or went away
 * mid-request: 503 with Retry-After, never a 500. Raised where the dependency
 * is called, decided by error code or class there, never by message text.
 */
export class DependencyUnavailableError extends ScimError {
  constructor(detail: string, retryAfterSeconds: number, options: { cause?: unknown } = {}) {
    super(503, undefined, detail, { 'retry-after': String(retryAfterSeconds) })
    this.name = 'DependencyUnavailableError'
    if (options.cause !== undefined) this.cause = options.cause
  }
}

export function scimErrorBody(status: number, detail: string, scimType?: ScimType): ScimErrorBody {
  if (!statusAgreesWithScimType(status, scimType)) throw new RangeError(`scimType ${String(scimType)} does not go with status ${status} (RFC 7644 §3.12)`)
  const body: ScimErrorBody = { schemas: [SCIM_ERROR_SCHEMA], status: String(status), detail }
  if (scimType !== undefined) body.scimType = scimType
  return body
}

export function isScimError(value: unknown): value is ScimError {
  return value instanceof ScimError
}
