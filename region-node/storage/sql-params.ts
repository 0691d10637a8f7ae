/** Collects bound values while SQL text is assembled; values never enter the text. */
export class SqlParams {
  readonly values: unknown[] = []

  constructor(initial: readonly unknown[] = []) {
    this.values.push(...initial)
  }

  /** Binds a value and returns its placeholder (`$3`). */
  add(value: unknown): string {
    this.values.push(value)
    return `$${this.values.length}`
  }
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value)
}

/** LIKE pattern for a literal: `%` `_` `\` escaped (PostgreSQL's default escape character is `\`). */
export function likePattern(literal: string, where: 'contains' | 'startsWith' | 'endsWith'): string {
  const escaped = literal.replace(/[\\%_]/g, (c) => `\\${c}`)
  if (where === 'contains') return `%${escaped}%`
  if (where === 'startsWith') return `${escaped}%`
  return `%${escaped}`
}
