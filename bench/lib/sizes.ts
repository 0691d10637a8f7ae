/** How big and how long each benchmark runs; `quick` and `smoke` scale the full sizes down. */
export interface BenchSizes {
  readonly mode: 'full' | 'quick' | 'smoke'
  readonly load: { readonly durationS: number; readonly warmupS: number; readonly rounds: number }
  readonly latency: { readonly samples: number; readonly warmup: number }
  readonly redisRequests: number
  readonly smallTenantUsers: number
  readonly largeTenantUsers: number
  readonly smallGroupMembers: number
  readonly largeGroupMembers: number
  readonly membershipSamples: number
  readonly pagingUsers: number
  readonly sync: { readonly users: number; readonly groups: number; readonly memberships: number; readonly concurrency: number; readonly membersPerPatch: number }
  /** Access decisions and the event log: the tenant's size, the probe users' groups, and samples of the write comparisons. */
  readonly events: {
    readonly users: number
    readonly groups: number
    readonly membersPerGroup: number
    readonly groupsPerProbeUser: number
    readonly createSamples: number
    readonly patchSamples: number
    readonly patchMembers: number
  }
  /** The node against the floor: the seeded tenant, the users GET rotates over, the groups PATCH spreads over, /Bulk's size. */
  readonly floor: {
    readonly users: number
    readonly readUsers: number
    readonly patchGroups: number
    readonly bulkOperations: number
    /** Seconds of each measured run and of its warm-up (a /Bulk run lasts at least `durationS`); rounds as `load`. */
    readonly durationS: number
    readonly warmupS: number
  }
}

export const FULL_SIZES: BenchSizes = {
  mode: 'full',
  load: { durationS: 10, warmupS: 2, rounds: 2 },
  latency: { samples: 2000, warmup: 200 },
  redisRequests: 1000,
  smallTenantUsers: 10_000,
  largeTenantUsers: 1_000_000,
  smallGroupMembers: 10,
  largeGroupMembers: 100_000,
  membershipSamples: 300,
  pagingUsers: 100_000,
  sync: { users: 100_000, groups: 1_000, memberships: 200_000, concurrency: 32, membersPerPatch: 50 },
  events: { users: 100_000, groups: 1_000, membersPerGroup: 200, groupsPerProbeUser: 20, createSamples: 1000, patchSamples: 60, patchMembers: 1000 },
  floor: { users: 100_000, readUsers: 200, patchGroups: 64, bulkOperations: 1000, durationS: 10, warmupS: 2 },
}

export const QUICK_SIZES: BenchSizes = {
  mode: 'quick',
  load: { durationS: 4, warmupS: 1, rounds: 1 },
  latency: { samples: 300, warmup: 40 },
  redisRequests: 300,
  smallTenantUsers: 10_000,
  largeTenantUsers: 100_000,
  smallGroupMembers: 10,
  largeGroupMembers: 10_000,
  membershipSamples: 40,
  pagingUsers: 20_000,
  sync: { users: 3_000, groups: 30, memberships: 6_000, concurrency: 32, membersPerPatch: 50 },
  events: { users: 20_000, groups: 200, membersPerGroup: 100, groupsPerProbeUser: 20, createSamples: 200, patchSamples: 15, patchMembers: 1000 },
  floor: { users: 20_000, readUsers: 200, patchGroups: 64, bulkOperations: 1000, durationS: 3, warmupS: 1 },
}

/** Tiny sizes for the CI smoke test: exercises the code, measures nothing worth reading. */
export const SMOKE_SIZES: BenchSizes = {
  mode: 'smoke',
  load: { durationS: 1.5, warmupS: 0.5, rounds: 1 },
  latency: { samples: 10, warmup: 2 },
  redisRequests: 10,
  smallTenantUsers: 200,
  largeTenantUsers: 400,
  smallGroupMembers: 5,
  largeGroupMembers: 50,
  membershipSamples: 3,
  pagingUsers: 350,
  sync: { users: 60, groups: 4, memberships: 80, concurrency: 8, membersPerPatch: 10 },
  events: { users: 300, groups: 30, membersPerGroup: 10, groupsPerProbeUser: 5, createSamples: 5, patchSamples: 2, patchMembers: 50 },
  floor: { users: 500, readUsers: 20, patchGroups: 8, bulkOperations: 50, durationS: 1, warmupS: 0.3 },
}

export function describeSizes(sizes: BenchSizes): string {
  const n = (v: number): string => (v >= 1_000_000 ? `${v / 1_000_000}M` : v >= 1000 ? `${v / 1000}k` : String(v))
  return [
    `${sizes.mode} mode`,
    `lookups ${n(sizes.smallTenantUsers)} vs ${n(sizes.largeTenantUsers)} users`,
    `groups ${n(sizes.smallGroupMembers)} vs ${n(sizes.largeGroupMembers)} members`,
    `cursor over ${n(sizes.pagingUsers)} users`,
    `sync ${n(sizes.sync.users)} users + ${n(sizes.sync.groups)} groups / ${n(sizes.sync.memberships)} memberships at ${sizes.sync.concurrency} concurrent`,
    `load ${sizes.load.durationS}s × ${sizes.load.rounds} round(s)`,
    `floor ${n(sizes.floor.users)} users, /Bulk of ${n(sizes.floor.bulkOperations)}, ${sizes.floor.durationS}s runs`,
  ].join('; ')
}
