// Delivers the token event outbox to the region nodes: each event goes to the
// node of its token's region, signed as the gateway, and leaves the outbox
// only once the node answered that it stored it. Every gateway relays; the
// node stores an event once by its id, so a double delivery is harmless.
import type { RegionCatalog } from '../../config/region-catalog.ts'
import { IDENTITY_HEADER, signIdentity, type SigningKey } from '../../lib/internal-identity.ts'
import { pickUpstream } from '../routing/pick-upstream.ts'
import type { TokenEvent } from './token-events.ts'
import type { TokenStore } from './token-store.ts'

export interface TokenEventRelay {
  /** Delivers soon (after a token change through this gateway). */
  kick(): void
  /** Delivers what is pending now; resolves when done (tests, shutdown). */
  deliver(): Promise<void>
  close(): Promise<void>
}

export interface TokenEventRelayOptions {
  readonly store: TokenStore
  readonly catalog: RegionCatalog
  /** The regions this gateway serves: each region's gateways deliver its outbox. */
  readonly regions: readonly string[]
  readonly signingKey: SigningKey
  readonly timeoutMs: number
  readonly intervalMs?: number
  readonly batchSize?: number
  readonly onError?: (error: unknown, region: string) => void
}

function nodeShape(event: TokenEvent): Record<string, unknown> {
  return {
    id: event.id,
    time: event.time,
    type: event.type,
    resourceId: event.resourceId,
    actor: event.actor,
    clientKind: event.clientKind,
    ...(event.requestId === undefined ? {} : { requestId: event.requestId }),
    ...(event.data === undefined ? {} : { data: event.data }),
  }
}

export function createTokenEventRelay(options: TokenEventRelayOptions): TokenEventRelay {
  const batchSize = options.batchSize ?? 200
  let running: Promise<void> | undefined
  let again = false
  let closed = false

  /** A failing error report must not fail a delivery round (it runs from a timer: a rejection there would end the process). */
  const report = (error: unknown, region: string): void => {
    try {
      options.onError?.(error, region)
    } catch {
      // nothing more to do
    }
  }

  async function post(region: string, tenantId: string, events: readonly TokenEvent[]): Promise<boolean> {
    const target = options.catalog.byCode(region)
    if (target === undefined) return false
    const identity = await signIdentity(options.signingKey, { tenantId, tokenId: 'gateway', region: target.code, scopes: ['admin'] }, 60)
    const upstream = pickUpstream(target)
    try {
      const response = await fetch(`${upstream}/admin/v1/internal/events`, {
        method: 'POST',
        headers: { [IDENTITY_HEADER]: identity, 'content-type': 'application/json' },
        body: JSON.stringify({ events: events.map(nodeShape) }),
        signal: AbortSignal.timeout(options.timeoutMs),
      })
      await response.arrayBuffer()
      if (response.status !== 200) throw new Error(`region ${region} answered ${response.status}`)
      return true
    } catch (error) {
      report(error, region)
      return false
    }
  }

  /** Delivers one batch of a region's outbox; returns how many events left it when more may wait. */
  async function deliverOnce(region: string): Promise<number> {
    const pending = await options.store.pendingEvents(region, batchSize)
    const byTenant = new Map<string, TokenEvent[]>()
    for (const event of pending) byTenant.set(event.tenantId, [...(byTenant.get(event.tenantId) ?? []), event])
    let delivered = 0
    for (const [tenantId, events] of byTenant) {
      if (await post(region, tenantId, events)) {
        await options.store.acknowledgeEvents(region, events)
        delivered += events.length
      }
    }
    return pending.length === batchSize && delivered > 0 ? delivered : 0
  }

  function deliver(): Promise<void> {
    if (running !== undefined) {
      again = true
      return running
    }
    running = (async () => {
      do {
        again = false
        try {
          for (const region of options.regions) while (!closed && (await deliverOnce(region)) > 0);
        } catch (error) {
          report(error, '-')
        }
      } while (again && !closed)
    })().finally(() => {
      running = undefined
    })
    return running
  }

  const timer = setInterval(() => void deliver(), options.intervalMs ?? 1_000)
  timer.unref()

  return {
    kick: () => void deliver(),
    deliver,
    async close() {
      closed = true
      clearInterval(timer)
      await running
    },
  }
}
