// Per-tenant concurrency on a node's database pool: one tenant's slow filters
// may hold at most `perTenant` connections, so the rest of the pool stays free
// for the other tenants. A tenant over its share waits in line; a wait that is
// too long, or a line that is too long, is a SCIM 503 with Retry-After, never a hang.
import { ScimError } from '../../lib/scim-error.ts'

export interface TenantSlotOptions {
  readonly perTenant: number
  readonly maxWaitMs: number
  /** Requests one tenant may have waiting; more are refused at once. */
  readonly maxQueued: number
  readonly retryAfterSeconds: number
}

export interface TenantSlots {
  /**
   * The function that gives the slot back: at once when the tenant has one free, else a promise of it that
   * rejects with a 503 ScimError when the tenant must retry later.
   */
  acquire(tenantId: string): (() => void) | Promise<() => void>
  /** Slots held now, over all tenants (a request holds one until its connection is back in the pool). */
  inUse(): number
}

interface TenantState {
  active: number
  readonly waiting: { grant: () => void }[]
}

export function createTenantSlots(options: TenantSlotOptions): TenantSlots {
  const tenants = new Map<string, TenantState>()
  const busy = (): ScimError =>
    new ScimError(503, undefined, 'this tenant has too many requests in progress on the region database; retry later', { 'retry-after': String(options.retryAfterSeconds) })

  const releaser = (tenantId: string, state: TenantState): (() => void) => {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = state.waiting.shift()
      if (next !== undefined) return next.grant()
      state.active -= 1
      if (state.active === 0) tenants.delete(tenantId)
    }
  }

  return {
    inUse() {
      let held = 0
      for (const state of tenants.values()) held += state.active
      return held
    },
    acquire(tenantId) {
      let state = tenants.get(tenantId)
      if (state === undefined) {
        state = { active: 0, waiting: [] }
        tenants.set(tenantId, state)
      }
      if (state.active < options.perTenant) {
        state.active += 1
        return releaser(tenantId, state)
      }
      if (state.waiting.length >= options.maxQueued) return Promise.reject(busy())
      const current = state
      return new Promise((resolve, reject) => {
        const waiter = {
          // The slot passes straight from the releasing request to this one: `active` stays as it is.
          grant: () => {
            clearTimeout(timer)
            resolve(releaser(tenantId, current))
          },
        }
        const timer = setTimeout(() => {
          const index = current.waiting.indexOf(waiter)
          if (index >= 0) current.waiting.splice(index, 1)
          reject(busy())
        }, options.maxWaitMs)
        current.waiting.push(waiter)
      })
    },
  }
}
