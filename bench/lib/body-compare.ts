// The floor must answer what the node answers: bodies are compared byte for
// byte, after ids and timestamps (which two creates cannot share) are replaced
// by their order of appearance.
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi
const TIMESTAMP = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g

/** `text` with each distinct UUID and timestamp replaced by a placeholder numbered by first appearance. */
export function normalizeIdentities(text: string): string {
  const numbered = (pattern: RegExp, label: string) => {
    const seen = new Map<string, number>()
    return (value: string): string => {
      const key = value.toLowerCase()
      if (!seen.has(key)) seen.set(key, seen.size + 1)
      return `<${label}${seen.get(key)}>`
    }
  }
  return text.replace(UUID, numbered(UUID, 'id')).replace(TIMESTAMP, numbered(TIMESTAMP, 'time'))
}

/** undefined when equal; otherwise where the two differ first, with a little of each. */
export function bodyDifference(node: string, floor: string): string | undefined {
  if (node === floor) return undefined
  let at = 0
  while (at < node.length && at < floor.length && node[at] === floor[at]) at++
  const around = (text: string): string => JSON.stringify(text.slice(Math.max(0, at - 40), at + 60))
  return `bodies differ at byte ${at} (node ${node.length} bytes, floor ${floor.length}): node …${around(node)}… floor …${around(floor)}…`
}
