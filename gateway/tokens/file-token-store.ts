// The built-in token store of embedded mode (`npm start` with no Redis): the
// same records and digests as the Redis store, kept in one JSON file (mode
// 0600) so the gateway and `scimgate token …` in another terminal share it.
// For one machine and local use only: writers replace the file atomically
// while holding a lock file (the gateway and the CLI are separate processes:
// without it, one's read-modify-write could drop the other's token), and
// readers reload the file when it changes. Token events wait in a directory
// next to it (one file each, so the CLI and the gateway never rewrite each
// other's), and "last used" goes to a file of its own that only gateways write.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CLI_CONTEXT, decodeTokenEvent, tokenEvent, type TokenEvent, type TokenEventContext, type TokenEventType, type TokenUsage } from './token-events.ts'
import { parseToken } from './token-format.ts'
import type { TokenHasher } from './token-hasher.ts'
import { ALL_TENANTS, TOKEN_ID_PATTERN } from './token-input.ts'
import { decodeTokenRecord, encodeTokenRecord, type TokenRecord } from './token-record.ts'
import { newToken, rotationInput, validListQuery } from './token-rules.ts'
import { decodeUsage, type TokenStore } from './token-store.ts'

const LOCK_WAIT_MS = 5_000
/** A lock older than this was left by a process that died while writing. */
const STALE_LOCK_MS = 10_000

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Runs `work` while holding `${path}.lock` (created exclusively); the work is synchronous and short. */
function withFileLock<T>(path: string, work: () => T): T {
  const lock = `${path}.lock`
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600))
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const age = (() => {
        try {
          return Date.now() - statSync(lock).mtimeMs
        } catch {
          return 0
        }
      })()
      if (age > STALE_LOCK_MS) rmSync(lock, { force: true })
      else if (Date.now() > deadline) throw new Error(`the token store ${path} is locked by another process (${lock})`)
      else pause(5)
    }
  }
  try {
    return work()
  } finally {
    rmSync(lock, { force: true })
  }
}

interface FileContents {
  /** digest → encoded record */
  readonly records: Record<string, string>
}

export function createFileTokenStore(path: string, options: { hasher: TokenHasher; now?: () => number }): TokenStore {
  const { hasher } = options
  const now = options.now ?? Date.now
  let cached: { ino: number; mtimeMs: number; size: number; records: Map<string, TokenRecord> } | undefined

  function load(): Map<string, TokenRecord> {
    let stat
    try {
      stat = statSync(path)
    } catch {
      return new Map()
    }
    // Every write renames a new file into place, so a new inode tells a change even within the clock's resolution.
    if (cached !== undefined && cached.ino === stat.ino && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.records
    const contents = JSON.parse(readFileSync(path, 'utf8')) as FileContents
    const records = new Map<string, TokenRecord>()
    for (const [digest, text] of Object.entries(contents.records ?? {})) {
      const record = decodeTokenRecord(text)
      if (record !== undefined) records.set(digest, record)
    }
    cached = { ino: stat.ino, mtimeMs: stat.mtimeMs, size: stat.size, records }
    return records
  }

  /** Read, change and write back as one step against other processes. */
  function update(change: (records: Map<string, TokenRecord>) => void): void {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    withFileLock(path, () => {
      const records = new Map(load())
      change(records)
      save(records)
    })
  }

  function save(records: Map<string, TokenRecord>): void {
    const contents: FileContents = { records: Object.fromEntries([...records].map(([digest, record]) => [digest, encodeTokenRecord(record)])) }
    const temporary = `${path}.${process.pid}.tmp`
    writeFileSync(temporary, JSON.stringify(contents), { mode: 0o600 })
    renameSync(temporary, path)
    cached = undefined
  }

  const eventsDir = `${path}.events`
  const usagePath = `${path}.usage.json`

  function writeAtomically(file: string, text: string): void {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    const temporary = `${file}.${process.pid}.tmp`
    writeFileSync(temporary, text, { mode: 0o600 })
    renameSync(temporary, file)
  }

  function enqueue(type: TokenEventType, record: TokenRecord, context: TokenEventContext | undefined, data?: Record<string, unknown>): void {
    // An access credential belongs to no tenant, so no tenant's event log records it.
    if (record.tenantId === ALL_TENANTS) return
    const event = tokenEvent(type, record, context ?? CLI_CONTEXT, now(), data)
    writeAtomically(join(eventsDir, record.region, `${Date.now().toString().padStart(15, '0')}-${event.id}.json`), JSON.stringify(event))
  }

  function readUsage(): Record<string, string> {
    try {
      return JSON.parse(readFileSync(usagePath, 'utf8')) as Record<string, string>
    } catch {
      return {}
    }
  }

  function find(tokenId: string): { digest: string; record: TokenRecord } | undefined {
    if (!TOKEN_ID_PATTERN.test(tokenId)) return undefined
    for (const [digest, record] of load()) if (record.tokenId === tokenId) return { digest, record }
    return undefined
  }

  function issue(input: Parameters<TokenStore['create']>[0], context: TokenEventContext | undefined, rotatedFrom?: string): ReturnType<TokenStore['create']> {
    const { token, digest, record } = newToken(input, hasher, now())
    update((records) => records.set(digest, record))
    if (rotatedFrom === undefined) enqueue('token.created', record, context)
    else enqueue('token.rotated', record, context, { rotatedFrom })
    return Promise.resolve({ token, record })
  }
  const expiredNoted = new Set<string>()

  return {
    invalidationChannel: '',
    create: (input, context) => issue(input, context),
    async list(tenantId, region) {
      const code = validListQuery(tenantId, region)
      return [...load().values()].filter((r) => r.tenantId === tenantId && r.region === code).sort((a, b) => a.createdAt - b.createdAt)
    },
    async get(tokenId) {
      return find(tokenId)?.record
    },
    async rotate(tokenId, rotateOptions = {}, context) {
      const found = find(tokenId)
      return found === undefined ? undefined : issue(rotationInput(found.record, rotateOptions, now()), context, tokenId)
    },
    async revoke(tokenId, context) {
      const found = find(tokenId)
      if (found === undefined) return undefined
      const revoked: TokenRecord = { ...found.record, status: 'revoked' }
      update((records) => records.set(found.digest, revoked))
      enqueue('token.revoked', revoked, context)
      return revoked
    },
    async noteExpiredUse(record, context) {
      // Once per gateway process: embedded mode has a single gateway.
      if (expiredNoted.has(record.tokenId)) return
      expiredNoted.add(record.tokenId)
      enqueue('token.expired', record, context, { expiredAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString() })
    },
    async pendingEvents(region, limit) {
      const dir = join(eventsDir, region)
      let names: string[]
      try {
        names = readdirSync(dir).filter((name) => name.endsWith('.json')).sort().slice(0, limit)
      } catch {
        return []
      }
      return names.flatMap((name): TokenEvent[] => {
        try {
          const event = decodeTokenEvent(readFileSync(join(dir, name), 'utf8'))
          return event === undefined ? [] : [event]
        } catch {
          return []
        }
      })
    },
    async acknowledgeEvents(region, events) {
      const dir = join(eventsDir, region)
      const ids = new Set(events.map((e) => e.id))
      let names: string[] = []
      try {
        names = readdirSync(dir)
      } catch {
        return
      }
      for (const name of names) {
        if (ids.has(name.replace(/^\d+-/, '').replace(/\.json$/, ''))) unlinkSync(join(dir, name))
      }
    },
    async recordUsage(usage) {
      if (usage.size === 0) return
      const stored = readUsage()
      for (const [tokenId, u] of usage) {
        const current = decodeUsage(stored[tokenId])
        if (current === undefined || current.lastUsedAt < u.lastUsedAt) stored[tokenId] = `${u.lastUsedAt}|${u.clientKind}`
      }
      writeAtomically(usagePath, JSON.stringify(stored))
    },
    async usage(tokenIds) {
      const stored = readUsage()
      const result = new Map<string, TokenUsage>()
      for (const tokenId of tokenIds) {
        const usage = decodeUsage(stored[tokenId])
        if (usage !== undefined) result.set(tokenId, usage)
      }
      return result
    },
    async lookup(token) {
      if (parseToken(token) === undefined) return undefined
      const records = load()
      for (const version of hasher.versions) {
        const record = records.get(hasher.digest(token, version))
        if (record !== undefined && record.pepperVersion === version) return record
      }
      return undefined
    },
  }
}
