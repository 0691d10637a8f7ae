// Checks a presented provisioning token, with an in-process cache so a hot
// token costs no Redis round trip.
//
// - Malformed tokens (prefix, alphabet, checksum) are refused without I/O.
// - Cache key = HMAC digest of the token under the current pepper: the key is
//   safe to log or rate-limit on, and revocations (which publish digests) find it.
// - One HMAC per token per positiveTtlMs, not per request: a small memo maps a
//   token that parsed to its digest. It holds raw tokens, in this process's
//   memory only (never logged, stored or sent), for at most positiveTtlMs —
//   the same place and about the time a request's own headers hold them. It is
//   keyed by the whole token, so two tokens can never share an entry (a short
//   fingerprint could collide and hand one tenant's entry to another). It
//   needs no invalidation: a token's digest under the current pepper never
//   changes; what the token may do is decided by the entries below.
// - Positive entries live positiveTtlMs (10 s), "unknown" answers
//   negativeTtlMs (2 s) in a separate, smaller LRU so a flood of made-up
//   tokens cannot evict the real ones.
// - Revocation: the store publishes the stored digest; every authenticator
//   deletes that entry (within milliseconds). After the subscriber reconnects
//   messages may have been lost, so the whole cache is flushed: every entry
//   is looked up again at its next use (kept only as the outage fallback
//   below, in case Redis fails again before that). A lookup that was in
//   flight when an invalidation arrived is answered but not cached.
// - Redis down: a token verified within outageGraceMs (default 15 min) keeps
//   working after its entry expires, for as long as look-ups fail; an
//   unknown token gets `unavailable` as soon as the command fails (the
//   connection fails fast, see gateway/redis/redis-connection.ts). When Redis returns,
//   the subscriber's reconnect flushes the cache, so revocations made
//   meanwhile apply at the next look-up. So a failover (Sentinel) never
//   turns a cached token away: 503 is only for tokens this gateway has not
//   verified.
// - A subscriber connection that goes silent without closing (half-open
//   TCP) would miss invalidations forever: the connection's liveness ping
//   reconnects it (gateway/redis/redis-connection.ts), and the reconnect
//   flushes the cache as above.
// Trade-off: a gateway cut off from Redis while another gateway revokes a
// token keeps honouring its cached copy for at most positiveTtlMs.
import type { Cluster, Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { parseToken } from './token-format.ts'
import type { TokenHasher } from './token-hasher.ts'
import { isUsable, type TokenRecord } from './token-record.ts'
import type { TokenStore } from './token-store.ts'

export type AuthOutcome =
  | { kind: 'ok'; record: TokenRecord; cacheKey: string }
  | { kind: 'invalid'; reason: 'malformed' | 'unknown' | 'revoked' | 'expired'; record?: TokenRecord }
  | { kind: 'unavailable' }

export interface TokenAuthenticator {
  /** A structurally invalid token (see parseToken) is 'malformed', found without I/O: the gateway's auth hook relies on it. */
  authenticate(token: string): Promise<AuthOutcome>
  /** `flushes`: times the cache was flushed (the subscriber reconnected). */
  stats(): { hits: number; misses: number; size: number; flushes: number }
  /** Unsubscribes and clears the cache; does not close the subscriber connection (its owner does). */
  close(): Promise<void>
  /** Resolves once subscribed to invalidations (waits for Redis if it is down at start; never rejects). */
  readonly ready: Promise<void>
}

export interface TokenAuthenticatorOptions {
  store: TokenStore
  subscriber: Redis | Cluster
  hasher: TokenHasher
  positiveTtlMs?: number
  negativeTtlMs?: number
  maxEntries?: number
  now?: () => number
  /** While Redis is unreachable, a token verified this recently still passes (default 15 min; 0 = only until its entry expires). */
  outageGraceMs?: number
}

interface Entry {
  /** undefined = no such token (negative entry). */
  readonly record: TokenRecord | undefined
  /** Digest the record is stored under (differs from the cache key for tokens of an older pepper). */
  readonly storedDigest: string | undefined
  readonly expiresAt: number
  /** When Redis last confirmed the record. */
  readonly verifiedAt: number
  /** The flush epoch it was cached in: entries of an older epoch are stale (looked up again). */
  readonly epoch: number
}

const UNAVAILABLE: AuthOutcome = Object.freeze({ kind: 'unavailable' })
const invalid = (reason: 'malformed' | 'unknown' | 'revoked' | 'expired'): AuthOutcome => ({ kind: 'invalid', reason })

export function createTokenAuthenticator(options: TokenAuthenticatorOptions): TokenAuthenticator {
  const { store, subscriber, hasher } = options
  const positiveTtlMs = options.positiveTtlMs ?? 10_000
  const negativeTtlMs = options.negativeTtlMs ?? 2_000
  const maxEntries = options.maxEntries ?? 50_000
  const outageGraceMs = options.outageGraceMs ?? 15 * 60_000
  const now = options.now ?? Date.now
  const channel = store.invalidationChannel

  // storedDigest → cacheKey, only for records hashed with a non-current pepper.
  const aliases = new Map<string, string>()
  const positive = new LRUCache<string, Entry>({
    max: maxEntries,
    dispose: (entry, key) => {
      if (entry.storedDigest !== undefined && aliases.get(entry.storedDigest) === key) aliases.delete(entry.storedDigest)
    },
  })
  const negative = new LRUCache<string, Entry>({ max: Math.max(1, Math.min(maxEntries, 10_000)) })
  const inflight = new Map<string, Promise<AuthOutcome>>()
  const digests = new LRUCache<string, string>({ max: maxEntries, ttl: positiveTtlMs, updateAgeOnGet: false })
  // Bumped by every invalidation or flush: a lookup started under an older
  // generation may have read the record before the revocation.
  let generation = 0
  let epoch = 0
  let hits = 0
  let misses = 0
  let closed = false

  function outcomeOf(entry: Entry, cacheKey: string): AuthOutcome {
    const record = entry.record
    if (record === undefined) return invalid('unknown')
    if (record.status === 'revoked') return invalid('revoked')
    if (!isUsable(record, now())) return { kind: 'invalid', reason: 'expired', record }
    return { kind: 'ok', record, cacheKey }
  }

  function invalidate(digest: string): void {
    generation++
    positive.delete(digest)
    negative.delete(digest)
    const alias = aliases.get(digest)
    if (alias !== undefined) positive.delete(alias)
  }

  /** Every entry must be looked up again; positive ones stay as the outage fallback. */
  function flush(): void {
    generation++
    epoch++
    negative.clear()
  }

  function clear(): void {
    generation++
    digests.clear()
    positive.clear()
    negative.clear()
    aliases.clear()
  }

  async function lookup(token: string, cacheKey: string): Promise<AuthOutcome> {
    const startedIn = generation
    let record: TokenRecord | undefined
    try {
      record = await store.lookup(token)
    } catch {
      // Expired entries stay in the LRU until replaced or flushed: one verified recently enough still answers.
      const known = positive.get(cacheKey)
      return known !== undefined && now() - known.verifiedAt <= outageGraceMs ? outcomeOf(known, cacheKey) : UNAVAILABLE
    }
    const storedDigest = record === undefined ? undefined : hasher.digest(token, record.pepperVersion)
    const at = now()
    const entry: Entry = { record, storedDigest, expiresAt: at + (record === undefined ? negativeTtlMs : positiveTtlMs), verifiedAt: at, epoch }
    if (startedIn === generation && !closed) {
      if (record === undefined) negative.set(cacheKey, entry)
      else {
        positive.set(cacheKey, entry)
        if (storedDigest !== undefined && storedDigest !== cacheKey) aliases.set(storedDigest, cacheKey)
      }
    }
    return outcomeOf(entry, cacheKey)
  }

  function currentDigest(token: string): string | undefined {
    let digest = digests.get(token)
    if (digest === undefined) {
      if (parseToken(token) === undefined) return undefined
      digest = hasher.digest(token, hasher.current)
      digests.set(token, digest)
    }
    return digest
  }

  async function authenticate(token: string): Promise<AuthOutcome> {
    const cacheKey = currentDigest(token)
    if (cacheKey === undefined) return invalid('malformed')
    const cached = positive.get(cacheKey) ?? negative.get(cacheKey)
    if (cached !== undefined && cached.epoch === epoch && cached.expiresAt > now()) {
      hits++
      return outcomeOf(cached, cacheKey)
    }
    misses++
    const pending = inflight.get(cacheKey)
    if (pending !== undefined) return pending
    const promise = lookup(token, cacheKey).finally(() => inflight.delete(cacheKey))
    inflight.set(cacheKey, promise)
    return promise
  }

  const onMessage = (from: string, message: string): void => {
    if (from === channel) invalidate(message)
  }
  subscriber.on('message', onMessage)

  let resolveReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve
  })
  // (Re)subscribe on every 'ready': ioredis resubscribes by itself too, but
  // only our own confirmed SUBSCRIBE tells us when it is safe to flush.
  const onReady = (): void => {
    if (closed) return
    subscriber
      .subscribe(channel)
      .then(
        () => {
          if (closed) return
          // Invalidations published before this point may have been missed.
          flush()
          resolveReady()
        },
        () => {
          // Connection dropped again: the next 'ready' retries.
        },
      )
      .catch(() => undefined)
  }
  subscriber.on('ready', onReady)
  if (subscriber.status === 'ready') onReady()

  return {
    authenticate,
    ready,
    stats: () => ({ hits, misses, size: positive.size + negative.size, flushes: epoch }),
    async close() {
      if (closed) return
      closed = true
      subscriber.off('ready', onReady)
      subscriber.off('message', onMessage)
      clear()
      if (subscriber.status === 'ready') await subscriber.unsubscribe(channel).catch(() => undefined)
    },
  }
}
