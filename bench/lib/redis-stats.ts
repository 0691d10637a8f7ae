import type { Redis } from 'ioredis'

/** Calls per command from `INFO commandstats`. */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const text = await redis.info('commandstats')
  const calls = new Map<string, number>()
  for (const line of text.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (match !== null) calls.set(match[1]!, Number(match[2]))
  }
  return calls
}

/** What ran between two snapshots, leaving out the INFO calls that took them. */
export function commandDelta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  const delta = new Map<string, number>()
  for (const [command, count] of after) {
    if (command === 'info') continue
    const added = count - (before.get(command) ?? 0)
    if (added > 0) delta.set(command, added)
  }
  return delta
}
