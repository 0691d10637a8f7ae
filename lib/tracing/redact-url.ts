// A SCIM filter travels in the query string and carries user names and e-mail
// addresses: spans and logs keep a URL's path and parameter names, never the values.

export const REDACTED = 'REDACTED'

/** `filter=userName eq "kim"&count=10` → `filter=REDACTED&count=REDACTED`. */
export function redactQuery(query: string): string {
  if (query === '') return query
  return query
    .split('&')
    .map((pair) => {
      const name = pair.split('=', 1)[0] ?? ''
      return pair.includes('=') ? `${name}=${REDACTED}` : name
    })
    .join('&')
}

/** Redacts the query part of a URL or a path; with `bareQuery` the whole text is a query (`url.query`, with or without its `?`). */
export function redactUrl(value: string, bareQuery = false): string {
  const at = value.indexOf('?')
  if (at >= 0) return `${value.slice(0, at + 1)}${redactQuery(value.slice(at + 1))}`
  return bareQuery ? redactQuery(value) : value
}
