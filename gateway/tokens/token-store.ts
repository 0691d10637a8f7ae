// Provisioning tokens in Redis. Only HMAC digests are stored (see token-hasher.ts).
//
// Layout, every key under `${keyPrefix}{tokens}:` (K below):
//   K record:<digest>             string, JSON TokenRecord          (the lookup key)
//   K id:<tokenId>                string, <digest>                  (admin operations by id)
//   K tenant:<REGION>:<tenantId>  set of tokenIds                   (listing; pruned lazily)
//   K events:<REGION>             sorted set of JSON TokenEvents by time: the outbox the relay delivers to the region's node
//   K expired-noted:<tokenId>     marks a token whose expiry was already recorded as an event
//   K usage                       hash tokenId → "<lastUsedMs>|<clientKind>" (written in batches by the gateways)
//   channel ${keyPrefix}token-invalidations  message = <digest> of a revoked token
//
// `{tokens}` is a Redis Cluster hash tag: every key of the store hashes to one
// slot, so MGET over pepper versions and the MULTI blocks below work in
// Cluster mode (tokens are few and small; one slot is plenty). If keyPrefix
// itself contains a `{…}` tag, that tag wins — still one slot. The layout is
// the same in every mode, so moving from single to Cluster keeps the data.
//
// Lifetimes: an active token without expiry has no TTL. A token with an
// expiry, or a revoked one, is kept RETENTION_MS (30 days) past its expiry /
// revocation so `list` still shows it, then Redis drops it. Tenant sets keep
// ids until `list` notices their record is gone.
import { ReplyError, type Cluster, type Redis } from 'ioredis'
import { DependencyUnavailableError } from '../../lib/scim-error.ts'
import { whenRedisReady } from '../redis/redis-connection.ts'
import { parseToken } from './token-format.ts'
import type { TokenHasher } from './token-hasher.ts'
import { ALL_TENANTS, TOKEN_ID_PATTERN, type CreateTokenInput } from './token-input.ts'
import { isClientKind } from '../../lib/client-kind.ts'
import { CLI_CONTEXT, decodeTokenEvent, tokenEvent, type TokenEvent, type TokenEventContext, type TokenEventType, type TokenUsage } from './token-events.ts'
import { decodeTokenRecord, encodeTokenRecord, type TokenRecord } from './token-record.ts'
import { newToken, rotationInput, validListQuery } from './token-rules.ts'

export const RETENTION_MS = 30 * 24 * 60 * 60 * 1000

export interface TokenStoreOptions {
  keyPrefix: string
  hasher: TokenHasher
  now?: () => number
  /** Token creations, rotations and revocations wait (briefly) for replicas; see ReplicatedWrites. */
  replicatedWrites?: ReplicatedWrites
  /** How long a token change waits for its connection to be ready (at start, after a reconnection) before 503; default WRITE_READY_WAIT_MS. */
  readyWaitMs?: number
}

/** Long enough for a (re)connection on a healthy server, short enough that an outage still answers 503 at once. */
export const WRITE_READY_WAIT_MS = 1_000
/** Changes sent together before one WAIT covers them all. */
const MAX_CHANGES_PER_WAIT = 64

/**
 * Replication is asynchronous: a token acknowledged by a primary that dies a moment later may be missing
 * on the replica Sentinel promotes. Token changes therefore go through a connection of their own and are
 * followed by WAIT: acknowledged once `replicas` replicas have them or `timeoutMs` passed. WAIT holds its
 * connection until then, which is why it is not the connection of the look-ups and the rate limit. Changes
 * that arrive while a WAIT is pending are sent together next, and one WAIT covers them all (it confirms
 * every earlier write of its connection): a burst of changes costs a few WAITs, not one each. Not
 * confirmed in time (replica gone or lagging) → the change still stands and is acknowledged, and
 * `onUnconfirmed` reports it: a failover before the replica catches up would lose it.
 */
export interface ReplicatedWrites {
  readonly connection: Redis
  readonly replicas: number
  readonly timeoutMs: number
  readonly onUnconfirmed: (change: { tokenId: string; type: 'create' | 'revoke'; acknowledged: number }) => void
}

export interface IssuedToken {
  /** The plaintext token: shown once, never stored. */
  token: string
  record: TokenRecord
}

export interface TokenStore {
  /** `context` says who asked, for the token's event (default: the CLI). */
  create(input: CreateTokenInput, context?: TokenEventContext): Promise<IssuedToken>
  /** Every kind of credential of the tenant (`*`: a region's access credentials); callers filter by kind. */
  list(tenantId: string, region: string): Promise<TokenRecord[]>
  get(tokenId: string): Promise<TokenRecord | undefined>
  rotate(tokenId: string, options?: { expiresAt?: number | null; label?: string }, context?: TokenEventContext): Promise<IssuedToken | undefined>
  revoke(tokenId: string, context?: TokenEventContext): Promise<TokenRecord | undefined>
  /** Records, once per token, that an expired token was presented. */
  noteExpiredUse(record: TokenRecord, context: TokenEventContext): Promise<void>
  /** A region's outbox of token events, oldest first, and their removal once the region's node stored them. */
  pendingEvents(region: string, limit: number): Promise<TokenEvent[]>
  acknowledgeEvents(region: string, events: readonly TokenEvent[]): Promise<void>
  /** Adds gateways' batched "last used" observations (the newest wins). */
  recordUsage(usage: ReadonlyMap<string, TokenUsage>): Promise<void>
  usage(tokenIds: readonly string[]): Promise<Map<string, TokenUsage>>
  /** One round trip; undefined for unknown or malformed tokens; throws when Redis fails. */
  lookup(token: string): Promise<TokenRecord | undefined>
  readonly invalidationChannel: string
}

type Transaction = ReturnType<Redis['multi']>

export const REDIS_RETRY_AFTER_SECONDS = 2

/**
 * A Redis command that failed without an error reply (connection closed, not
 * connected, timed out — see gateway/redis/redis-connection.ts) means Redis is
 * unavailable: a 503 for the admin API. An error reply is a bug and stays one.
 */
function redisCall<T>(pending: Promise<T>): Promise<T> {
  return pending.catch((error: unknown) => {
    if (error instanceof ReplyError) throw error
    throw new DependencyUnavailableError('the token store is unavailable; retry later', REDIS_RETRY_AFTER_SECONDS, { cause: error })
  })
}

/** Runs a MULTI block and surfaces the first per-command error (ioredis reports them in the result). */
async function execute(transaction: Transaction): Promise<void> {
  const results = await redisCall(transaction.exec())
  if (results === null) throw new Error('token store transaction was aborted')
  for (const [error] of results) if (error) throw error
}

// Keeps the newest observation per token: ARGV = tokenId, "<ms>|<kind>", tokenId, …
const RECORD_USAGE_SCRIPT = `
for i = 1, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local newer = tonumber(string.match(ARGV[i + 1], '^(%d+)'))
  if not current or tonumber(string.match(current, '^(%d+)')) < newer then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1`

// Records an expiry event once per token: KEYS = marker, outbox; ARGV = marker lifetime ms, score, event JSON.
const NOTE_EXPIRED_SCRIPT = `
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3]) return 1 end
return 0`

export function decodeUsage(text: string | null | undefined): TokenUsage | undefined {
  const match = typeof text === 'string' ? /^(\d+)\|(\w+)$/.exec(text) : null
  if (match === null) return undefined
  const kind = match[2]
  return { lastUsedAt: Number(match[1]), clientKind: isClientKind(kind) ? kind : 'other' }
}

export function createTokenStore(client: Redis | Cluster, options: TokenStoreOptions): TokenStore {
  const { hasher, keyPrefix } = options
  const now = options.now ?? Date.now
  const base = `${keyPrefix}{tokens}:`
  const recordKey = (digest: string): string => `${base}record:${digest}`
  const idKey = (tokenId: string): string => `${base}id:${tokenId}`
  const tenantKey = (region: string, tenantId: string): string => `${base}tenant:${region}:${tenantId}`
  const invalidationChannel = `${keyPrefix}token-invalidations`
  const outboxKey = (region: string): string => `${base}events:${region}`
  const usageKey = `${base}usage`

  // A sorted set orders equal scores by member text: events this store writes within one millisecond
  // keep their order through a score that always grows (by 1 µs when the clock has not moved).
  let lastOutboxScore = 0
  const outboxScore = (at: number): number => (lastOutboxScore = Math.max(at, lastOutboxScore + 0.001))

  const replicated = options.replicatedWrites
  const readyWaitMs = options.readyWaitMs ?? WRITE_READY_WAIT_MS
  const unavailable = (cause: string): DependencyUnavailableError =>
    new DependencyUnavailableError('the token store is unavailable; retry later', REDIS_RETRY_AFTER_SECONDS, { cause: new Error(cause) })

  /** Waits (up to `deadline`) for a connection that is (re)connecting: with no offline queue a command sent now would fail at once. */
  async function ready(connection: Redis | Cluster, deadline: number): Promise<void> {
    if (!(await whenRedisReady(connection, deadline - Date.now()))) throw unavailable(`Redis connection not ready within ${readyWaitMs} ms`)
  }

  interface PendingChange {
    readonly type: 'create' | 'revoke'
    readonly tokenId: string
    readonly build: (transaction: Transaction) => void
    readonly deadline: number
    readonly settle: (error?: unknown) => void
  }
  const pending: PendingChange[] = []
  let sending = false

  /** Runs a token change's MULTI; with replicatedWrites, queued for the write connection and its WAIT. */
  async function change(type: 'create' | 'revoke', tokenId: string, build: (transaction: Transaction) => void): Promise<void> {
    const deadline = Date.now() + readyWaitMs
    if (replicated === undefined) {
      await ready(client, deadline)
      const transaction = client.multi()
      build(transaction)
      return execute(transaction)
    }
    return new Promise<void>((resolve, reject) => {
      pending.push({ type, tokenId, build, deadline, settle: (error) => (error === undefined ? resolve() : reject(error)) })
      if (!sending) void sendPending()
    })
  }

  /** Sends queued changes in batches, each followed by one WAIT; never rejects (each change is settled on its own). */
  async function sendPending(): Promise<void> {
    sending = true
    try {
      while (pending.length > 0) {
        const batch = pending.splice(0, MAX_CHANGES_PER_WAIT)
        try {
          await ready(replicated!.connection, Math.max(...batch.map((c) => c.deadline)))
        } catch (error) {
          for (const c of batch) c.settle(error)
          continue
        }
        await sendBatch(replicated!, batch).catch((error: unknown) => batch.forEach((c) => c.settle(error)))
      }
    } finally {
      sending = false
    }
  }

  async function sendBatch(writes: ReplicatedWrites, batch: readonly PendingChange[]): Promise<void> {
    // Pipelined on one connection: applied in order, each MULTI whole or not at all.
    const outcomes = await Promise.allSettled(
      batch.map(async (c) => {
        const transaction = writes.connection.multi()
        c.build(transaction)
        return execute(transaction)
      }),
    )
    const applied = batch.filter((_, i) => outcomes[i]!.status === 'fulfilled')
    // The changes stand whatever WAIT answers: failing now would make the caller retry an applied change.
    const acknowledged = applied.length === 0 ? 0 : await writes.connection.wait(writes.replicas, writes.timeoutMs).catch(() => 0)
    batch.forEach((c, i) => {
      const outcome = outcomes[i]!
      if (outcome.status === 'rejected') return c.settle(outcome.reason)
      if (acknowledged < writes.replicas) {
        try {
          writes.onUnconfirmed({ tokenId: c.tokenId, type: c.type, acknowledged })
        } catch {
          // A failing report must not fail an applied change.
        }
      }
      c.settle()
    })
  }

  function enqueue(transaction: Transaction, type: TokenEventType, record: TokenRecord, context: TokenEventContext | undefined, data?: Record<string, unknown>): void {
    // An access credential belongs to no tenant, so no tenant's event log records it.
    if (record.tenantId === ALL_TENANTS) return
    const at = now()
    transaction.zadd(outboxKey(record.region), outboxScore(at), JSON.stringify(tokenEvent(type, record, context ?? CLI_CONTEXT, at, data)))
  }

  /** When Redis may forget the record; undefined = keep while active. */
  function dropAt(record: TokenRecord, revokedAt?: number): number | undefined {
    const candidates: number[] = []
    if (record.expiresAt !== null) candidates.push(record.expiresAt + RETENTION_MS)
    if (revokedAt !== undefined) candidates.push(revokedAt + RETENTION_MS)
    return candidates.length === 0 ? undefined : Math.min(...candidates)
  }

  function writeRecord(transaction: Transaction, digest: string, record: TokenRecord, at: number | undefined): void {
    if (at === undefined) {
      transaction.set(recordKey(digest), encodeTokenRecord(record))
      transaction.set(idKey(record.tokenId), digest)
    } else {
      transaction.set(recordKey(digest), encodeTokenRecord(record), 'PXAT', at)
      transaction.set(idKey(record.tokenId), digest, 'PXAT', at)
    }
  }

  async function issue(input: CreateTokenInput, context: TokenEventContext | undefined, rotatedFrom?: string): Promise<IssuedToken> {
    const { token, digest, record } = newToken(input, hasher, now())
    await change('create', record.tokenId, (transaction) => {
      writeRecord(transaction, digest, record, dropAt(record))
      transaction.sadd(tenantKey(record.region, record.tenantId), record.tokenId)
      // The event is written with the token, in the same MULTI: neither exists without the other.
      if (rotatedFrom === undefined) enqueue(transaction, 'token.created', record, context)
      else enqueue(transaction, 'token.rotated', record, context, { rotatedFrom })
    })
    return { token, record }
  }

  async function find(tokenId: string): Promise<{ digest: string; record: TokenRecord } | undefined> {
    if (typeof tokenId !== 'string' || !TOKEN_ID_PATTERN.test(tokenId)) return undefined
    const digest = await redisCall(client.get(idKey(tokenId)))
    if (digest === null) return undefined
    const record = decodeTokenRecord(await redisCall(client.get(recordKey(digest))))
    return record?.tokenId === tokenId ? { digest, record } : undefined
  }

  return {
    invalidationChannel,
    create: (input, context) => issue(input, context),

    async list(tenantId, region) {
      const code = validListQuery(tenantId, region)
      const key = tenantKey(code, tenantId)
      const ids = await redisCall(client.smembers(key))
      if (ids.length === 0) return []
      const digests = await redisCall(client.mget(ids.map(idKey)))
      const present = digests.flatMap((digest, i) => (digest === null ? [] : [{ digest, tokenId: ids[i] }]))
      const gone = ids.filter((_, i) => digests[i] === null)
      if (gone.length > 0) await redisCall(client.srem(key, ...gone))
      if (present.length === 0) return []
      const texts = await redisCall(client.mget(present.map((p) => recordKey(p.digest))))
      return texts
        .map((text) => decodeTokenRecord(text))
        .filter((r): r is TokenRecord => r !== undefined && r.tenantId === tenantId && r.region === code)
        .sort((a, b) => a.createdAt - b.createdAt || a.tokenId.localeCompare(b.tokenId))
    },

    async get(tokenId) {
      return (await find(tokenId))?.record
    },

    async rotate(tokenId, rotateOptions = {}, context) {
      const found = await find(tokenId)
      if (found === undefined) return undefined
      return issue(rotationInput(found.record, rotateOptions, now()), context, tokenId)
    },

    async revoke(tokenId, context) {
      const found = await find(tokenId)
      if (found === undefined) return undefined
      const record: TokenRecord = { ...found.record, status: 'revoked' }
      await change('revoke', tokenId, (transaction) => {
        writeRecord(transaction, found.digest, record, dropAt(record, now()))
        // Same transaction: every gateway drops its cached copy as soon as the write lands.
        transaction.publish(invalidationChannel, found.digest)
        enqueue(transaction, 'token.revoked', record, context)
      })
      return record
    },

    async noteExpiredUse(record, context) {
      const at = now()
      const event = tokenEvent('token.expired', record, context, at, { expiredAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString() })
      await redisCall(client.eval(NOTE_EXPIRED_SCRIPT, 2, `${base}expired-noted:${record.tokenId}`, outboxKey(record.region), String(RETENTION_MS), String(outboxScore(at)), JSON.stringify(event)))
    },

    async pendingEvents(region, limit) {
      const texts = await redisCall(client.zrange(outboxKey(region), '0', String(limit - 1)))
      const events = texts.flatMap((text) => decodeTokenEvent(text) ?? [])
      const broken = texts.filter((text) => decodeTokenEvent(text) === undefined)
      if (broken.length > 0) await redisCall(client.zrem(outboxKey(region), ...broken))
      return events
    },

    async acknowledgeEvents(region, events) {
      if (events.length > 0) await redisCall(client.zrem(outboxKey(region), ...events.map((e) => JSON.stringify(e))))
    },

    async recordUsage(usage) {
      if (usage.size === 0) return
      const args = [...usage].flatMap(([tokenId, u]) => [tokenId, `${u.lastUsedAt}|${u.clientKind}`])
      await redisCall(client.eval(RECORD_USAGE_SCRIPT, 1, usageKey, ...args))
    },

    async usage(tokenIds) {
      const result = new Map<string, TokenUsage>()
      if (tokenIds.length === 0) return result
      const texts = await redisCall(client.hmget(usageKey, ...tokenIds))
      texts.forEach((text, i) => {
        const usage = decodeUsage(text)
        if (usage !== undefined) result.set(tokenIds[i]!, usage)
      })
      return result
    },

    async lookup(token) {
      if (parseToken(token) === undefined) return undefined
      const versions = hasher.versions
      const texts = await redisCall(client.mget(versions.map((version) => recordKey(hasher.digest(token, version)))))
      for (const [i, text] of texts.entries()) {
        const record = decodeTokenRecord(text)
        if (record !== undefined && record.pepperVersion === versions[i]) return record
      }
      return undefined
    },
  }
}
