// How many membership entries one response may carry (SCIM_MAX_MEMBERS_IN_RESPONSE):
// a group's `members` and a user's `groups` alike. RFC 7644 has no paging inside
// a multi-valued attribute, and a page of 1,000 groups of 50,000 members would
// be tens of millions of rows: resources are filled in page order while the
// budget lasts; one whose entries do not fit what is left is answered without
// the attribute. The page itself is never shortened, because Okta steps
// startIndex by its own count, not itemsPerPage.

// Owners counted per query: a huge one costs at most the remaining budget in index entries.
const COUNT_CHUNK = 100

export interface BudgetedEntries<T> {
  readonly entries: Map<string, T[]>
  /** Owners that have entries but were answered without them. */
  readonly omitted: ReadonlySet<string>
}

/** Where the entries of owners (groups → members, users → groups) are counted and read, both with LIMIT. */
export interface BudgetedSource<T> {
  countUpTo(ownerIds: readonly string[], cap: number): Promise<Map<string, number>>
  read(ownerIds: readonly string[], limit: number): Promise<Map<string, T[]>>
}

/**
 * `readWithCount`: for owners with few entries each (a user's groups), count and read in the same round trip
 * when there is one chunk of owners; the read is kept when every owner fits, and costs at most `budget`
 * rows when one does not (so not for groups' members, where one huge group is the case to expect).
 */
export async function readWithinBudget<T>(source: BudgetedSource<T>, ownerIds: readonly string[], budget: number, options: { readWithCount?: boolean } = {}): Promise<BudgetedEntries<T>> {
  const included: string[] = []
  const omitted = new Set<string>()
  let remaining = budget
  const take = (chunk: readonly string[], counts: Map<string, number>): void => {
    for (const id of chunk) {
      const count = counts.get(id) ?? 0
      if (count === 0) continue
      if (count <= remaining) {
        included.push(id)
        remaining -= count
      } else omitted.add(id)
    }
  }
  if (options.readWithCount === true && ownerIds.length <= COUNT_CHUNK) {
    const [counts, entries] = await Promise.all([source.countUpTo(ownerIds, budget + 1), ownerIds.length === 0 ? new Map<string, T[]>() : source.read(ownerIds, budget)])
    take(ownerIds, counts)
    if (omitted.size === 0) return { entries, omitted }
    return { entries: included.length === 0 ? new Map() : await source.read(included, budget), omitted }
  }
  for (let start = 0; start < ownerIds.length; start += COUNT_CHUNK) {
    const chunk = ownerIds.slice(start, start + COUNT_CHUNK)
    take(chunk, await source.countUpTo(chunk, remaining + 1))
  }
  // LIMIT bounds the rows even if entries were added between the count and this read.
  return { entries: await source.read(included, budget), omitted }
}
