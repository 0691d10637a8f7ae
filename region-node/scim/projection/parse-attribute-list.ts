// RFC 7644 §3.4.2.5: `attributes` and `excludedAttributes` are
// comma-separated lists of attribute paths.
export function parseAttributeList(text: string | undefined): string[] {
  if (text === undefined) return []
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}
