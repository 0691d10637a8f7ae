// "Last used" of tokens without a Redis round trip per request: each gateway
// notes uses in memory and writes them in one command every few seconds (as
// the rate limit does). The stored value is the newest of every gateway's.
import type { ClientKind } from '../../lib/client-kind.ts'
import type { TokenUsage } from './token-events.ts'
import type { TokenStore } from './token-store.ts'

export interface TokenUsageRecorder {
  record(tokenId: string, clientKind: ClientKind): void
  flush(): Promise<void>
  close(): Promise<void>
}

export function createTokenUsageRecorder(store: TokenStore, options: { flushMs?: number; maxTokens?: number; now?: () => number } = {}): TokenUsageRecorder {
  const now = options.now ?? Date.now
  const maxTokens = options.maxTokens ?? 100_000
  let pending = new Map<string, TokenUsage>()
  let flushing: Promise<void> | undefined

  async function send(): Promise<void> {
    if (pending.size === 0) return
    const batch = pending
    pending = new Map()
    try {
      await store.recordUsage(batch)
    } catch {
      // Redis unavailable: keep the newest observations for the next flush.
      for (const [tokenId, usage] of batch) if (!pending.has(tokenId) && pending.size < maxTokens) pending.set(tokenId, usage)
    }
  }

  const flush = (): Promise<void> => {
    flushing ??= send().finally(() => {
      flushing = undefined
    })
    return flushing
  }

  const timer = setInterval(() => void flush(), options.flushMs ?? 5_000)
  timer.unref()

  return {
    record(tokenId, clientKind) {
      if (pending.size >= maxTokens && !pending.has(tokenId)) return
      pending.set(tokenId, { lastUsedAt: now(), clientKind })
    },
    flush,
    async close() {
      clearInterval(timer)
      await flush()
    },
  }
}
