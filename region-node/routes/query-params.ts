import { ScimError } from '../../lib/scim-error.ts'
import type { QueryParams } from './request-helpers.ts'

/** One text query parameter; a repeated one is a 400, not a guess. */
export function textParam(query: QueryParams, name: string, maxLength = 1024): string | undefined {
  const value = query[name]
  if (value === undefined || value === '') return undefined
  if (Array.isArray(value)) throw new ScimError(400, 'invalidValue', `${name} may be given once`)
  if (value.length > maxLength) throw new ScimError(400, 'invalidValue', `${name} is longer than ${maxLength} characters`)
  return value
}

export function integerParam(query: QueryParams, name: string, min: number, max: number, fallback: number): number {
  const text = textParam(query, name, 12)
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new ScimError(400, 'invalidValue', `${name} must be a whole number from ${min} to ${max}`)
  return Number(text)
}

export function timeParam(query: QueryParams, name: string): Date | undefined {
  const text = textParam(query, name, 64)
  if (text === undefined) return undefined
  const at = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : Number.NaN
  if (!Number.isFinite(at)) throw new ScimError(400, 'invalidValue', `${name} must be an ISO 8601 date or date-time`)
  return new Date(at)
}
