// Console sessions, kept server-side: the browser holds a random id in an
// HttpOnly cookie; the store keys each session by the SHA-256 of that id, so a
// dump of Redis (or of memory) cannot be replayed as a cookie. Sessions end
// after an idle timeout (every use extends it) and at an absolute lifetime.
import { createHash, randomBytes } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { Principal } from '../../lib/admin-api/contract.ts'

export interface ConsoleSession {
  readonly principal: Principal
  readonly csrfToken: string
  readonly createdAt: number
}

export interface SessionStore {
  /** Stores the session; returns the id for the cookie (shown once, never stored). */
  create(principal: Principal): Promise<{ id: string; session: ConsoleSession }>
  /** The session and a fresh idle timeout, or undefined when unknown or expired. */
  touch(id: string): Promise<ConsoleSession | undefined>
  delete(id: string): Promise<void>
  readonly idleTimeoutMs: number
  readonly maxLifetimeMs: number
}

export interface SessionStoreOptions {
  readonly idleTimeoutMs: number
  readonly maxLifetimeMs: number
  readonly now?: () => number
}

const digest = (id: string): string => createHash('sha256').update(id).digest('hex')
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/

function newSession(principal: Principal, nowMs: number): { id: string; session: ConsoleSession } {
  return { id: randomBytes(32).toString('base64url'), session: { principal, csrfToken: randomBytes(32).toString('base64url'), createdAt: nowMs } }
}

function decode(text: string | null): ConsoleSession | undefined {
  if (text === null) return undefined
  try {
    const value = JSON.parse(text) as ConsoleSession
    return typeof value.csrfToken === 'string' && typeof value.createdAt === 'number' && typeof value.principal?.kind === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

export function createRedisSessionStore(redis: Redis | Cluster, keyPrefix: string, options: SessionStoreOptions): SessionStore {
  const now = options.now ?? Date.now
  const key = (id: string): string => `${keyPrefix}console-session:${digest(id)}`
  return {
    idleTimeoutMs: options.idleTimeoutMs,
    maxLifetimeMs: options.maxLifetimeMs,
    async create(principal) {
      const created = newSession(principal, now())
      await redis.set(key(created.id), JSON.stringify(created.session), 'PX', options.idleTimeoutMs)
      return created
    },
    async touch(id) {
      if (!SESSION_ID_PATTERN.test(id)) return undefined
      const session = decode(await redis.getex(key(id), 'PX', options.idleTimeoutMs))
      if (session === undefined) return undefined
      if (session.createdAt + options.maxLifetimeMs <= now()) {
        await redis.del(key(id))
        return undefined
      }
      return session
    },
    async delete(id) {
      if (SESSION_ID_PATTERN.test(id)) await redis.del(key(id))
    },
  }
}

/** Embedded mode (no Redis): sessions in this gateway's memory; a restart signs everyone out. */
export function createMemorySessionStore(options: SessionStoreOptions): SessionStore {
  const now = options.now ?? Date.now
  const sessions = new LRUCache<string, { session: ConsoleSession; idleUntil: number }>({ max: 10_000 })
  return {
    idleTimeoutMs: options.idleTimeoutMs,
    maxLifetimeMs: options.maxLifetimeMs,
    async create(principal) {
      const created = newSession(principal, now())
      sessions.set(digest(created.id), { session: created.session, idleUntil: now() + options.idleTimeoutMs })
      return created
    },
    async touch(id) {
      if (!SESSION_ID_PATTERN.test(id)) return undefined
      const entry = sessions.get(digest(id))
      if (entry === undefined) return undefined
      if (entry.idleUntil <= now() || entry.session.createdAt + options.maxLifetimeMs <= now()) {
        sessions.delete(digest(id))
        return undefined
      }
      entry.idleUntil = now() + options.idleTimeoutMs
      return entry.session
    },
    async delete(id) {
      sessions.delete(digest(id))
    },
  }
}
