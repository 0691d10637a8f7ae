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

export function scimErrorBody(status: number, detail: string, scimType?: ScimType): ScimErrorBody {
  const body: ScimErrorBody = { schemas: [SCIM_ERROR_SCHEMA], status: String(status), detail }
  if (scimType !== undefined) body.scimType = scimType
  return body
}

export function isScimError(value: unknown): value is ScimError {
  return value instanceof ScimError
}
