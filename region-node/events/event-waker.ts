// Long-poll readers of the feed wait here until their tenant's log grows.
// The node's LISTEN connection (plugins/event-listener.ts) calls `wake`.

export interface EventWaiter {
  /** Resolves when the tenant's log may have grown since `subscribe`, or after `ms`. */
  wait(ms: number): Promise<void>
  cancel(): void
}

export interface EventWaker {
  subscribe(tenantId: string): EventWaiter
  wake(tenantId: string): void
  /** Every waiter re-reads: after the LISTEN connection came back (notifications may have been lost) and at shutdown. */
  wakeAll(): void
  /** Shutdown: every waiter returns now, and none waits again. */
  close(): void
  readonly closed: boolean
  readonly waiting: number
}

interface Slot {
  woken: boolean
  resolve: (() => void) | undefined
}

export function createEventWaker(): EventWaker {
  const byTenant = new Map<string, Set<Slot>>()
  let waiting = 0
  let closed = false

  const fire = (slot: Slot): void => {
    slot.woken = true
    slot.resolve?.()
  }

  const wakeAll = (): void => {
    for (const slots of byTenant.values()) for (const slot of slots) fire(slot)
  }

  return {
    get waiting() {
      return waiting
    },
    get closed() {
      return closed
    },
    subscribe(tenantId) {
      const slot: Slot = { woken: closed, resolve: undefined }
      let slots = byTenant.get(tenantId)
      if (slots === undefined) byTenant.set(tenantId, (slots = new Set()))
      slots.add(slot)
      waiting++
      let cancelled = false
      const cancel = (): void => {
        if (cancelled) return
        cancelled = true
        waiting--
        slots.delete(slot)
        if (slots.size === 0 && byTenant.get(tenantId) === slots) byTenant.delete(tenantId)
        fire(slot)
      }
      return {
        cancel,
        wait(ms) {
          if (slot.woken || cancelled || ms <= 0) return Promise.resolve()
          return new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ms)
            slot.resolve = () => {
              clearTimeout(timer)
              resolve()
            }
          })
        },
      }
    },
    wake(tenantId) {
      for (const slot of byTenant.get(tenantId) ?? []) fire(slot)
    },
    wakeAll,
    close() {
      closed = true
      wakeAll()
    },
  }
}
