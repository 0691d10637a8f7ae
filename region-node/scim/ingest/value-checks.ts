// RFC 7643 §2.3: the data types of SCIM attributes, checked strictly. Shared
// by the lenient ingest (after its coercions) and the strict validator.
import { ScimError } from '../../../lib/scim-error.ts'
import type { AttributeType } from '../schema/types.ts'

type JsonObject = { [key: string]: unknown }

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// RFC 7643 §2.3.5: xsd:dateTime. We also require a timezone so that stored
// instants are unambiguous and comparable in filters and sorting.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-](\d{2}):(\d{2}))$/

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

export function isDateTime(text: string): boolean {
  const match = DATE_TIME.exec(text)
  if (match === null) return false
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const offsetHours = match[9] === undefined ? 0 : Number(match[9])
  const offsetMinutes = match[10] === undefined ? 0 : Number(match[10])
  return (
    year >= 1 &&
    month >= 1 && month <= 12 &&
    day >= 1 && day <= daysInMonth(year, month) &&
    hour <= 23 && minute <= 59 && second <= 59 &&
    offsetHours <= 14 && offsetMinutes <= 59
  )
}

// RFC 7643 §2.3.6: binary values are base64 (RFC 4648 §4, padded, no line breaks).
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

const EXPECTED: Record<Exclude<AttributeType, 'complex'>, string> = {
  string: 'a string',
  boolean: 'a boolean',
  integer: 'an integer',
  decimal: 'a number',
  dateTime: 'a dateTime with a timezone (e.g. 2024-05-01T12:00:00Z)',
  reference: 'a reference (string)',
  binary: 'base64-encoded binary',
}

/** Whether `value` is a valid simple (non-complex) value of `type`. */
export function isValidSimpleValue(type: Exclude<AttributeType, 'complex'>, value: unknown): boolean {
  switch (type) {
    case 'string':
    case 'reference':
      return typeof value === 'string'
    case 'boolean':
      return typeof value === 'boolean'
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value)
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value)
    case 'dateTime':
      return typeof value === 'string' && isDateTime(value)
    case 'binary':
      return typeof value === 'string' && BASE64.test(value)
  }
}

export function invalidValue(pointer: string, problem: string): ScimError {
  return new ScimError(400, 'invalidValue', `${pointer}: ${problem}`)
}

export function expectedTypeError(type: AttributeType, pointer: string): ScimError {
  return invalidValue(pointer, `expected ${type === 'complex' ? 'a complex value (JSON object)' : EXPECTED[type]}`)
}
