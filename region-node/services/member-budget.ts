// How many members one response may carry (SCIM_MAX_MEMBERS_IN_RESPONSE).
// RFC 7644 has no paging inside a multi-valued attribute, and a page of
// 1,000 groups of 50,000 members would be tens of millions of rows: groups are
// filled in page order while the budget lasts; a group whose members do not fit
// what is left is answered without `members`. The page itself is never
// shortened, because Okta steps startIndex by its own count, not itemsPerPage.
import type { GroupsStore, MemberReference } from '../storage/groups-store.ts'

// Groups counted per query: a huge group costs at most the remaining budget in index entries.
const COUNT_CHUNK = 100

export interface BudgetedMembers {
  readonly members: Map<string, MemberReference[]>
  /** Groups that have members but were answered without them. */
  readonly omitted: ReadonlySet<string>
}

export async function readMembersWithinBudget(store: GroupsStore, tenantId: string, groupIds: readonly string[], budget: number): Promise<BudgetedMembers> {
  const included: string[] = []
  const omitted = new Set<string>()
  let remaining = budget
  for (let start = 0; start < groupIds.length; start += COUNT_CHUNK) {
    const chunk = groupIds.slice(start, start + COUNT_CHUNK)
    const counts = await store.memberCountsUpTo(tenantId, chunk, remaining + 1)
    for (const id of chunk) {
      const count = counts.get(id) ?? 0
      if (count === 0) continue
      if (count <= remaining) {
        included.push(id)
        remaining -= count
      } else omitted.add(id)
    }
  }
  // LIMIT bounds the rows even if members were added between the count and this read.
  return { members: await store.membersOf(tenantId, included, budget), omitted }
}
