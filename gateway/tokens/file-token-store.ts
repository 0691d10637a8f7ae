// The built-in token store of embedded mode (`npm start` with no Redis): the
// same records and digests as the Redis store, kept in one JSON file (mode
// 0600) so the gateway and `scimgate token …` in another terminal share it.
// For one machine and local use only: writers replace the file atomically
// while holding a lock file (the gateway and the CLI are separate processes:
// without it, one's read-modify-write could drop the other's token), and
// readers reload the file when it changes.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseToken } from './token-format.ts'
import type { TokenHasher } from './token-hasher.ts'
import { TOKEN_ID_PATTERN } from './token-input.ts'
import { decodeTokenRecord, encodeTokenRecord, type TokenRecord } from './token-record.ts'
import { newToken, rotationInput, validListQuery } from './token-rules.ts'
import type { TokenStore } from './token-store.ts'

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

  function find(tokenId: string): { digest: string; record: TokenRecord } | undefined {
    if (!TOKEN_ID_PATTERN.test(tokenId)) return undefined
    for (const [digest, record] of load()) if (record.tokenId === tokenId) return { digest, record }
    return undefined
  }

  async function create(input: Parameters<TokenStore['create']>[0]): ReturnType<TokenStore['create']> {
    const { token, digest, record } = newToken(input, hasher, now())
    update((records) => records.set(digest, record))
    return { token, record }
  }

  return {
    invalidationChannel: '',
    create,
    async list(tenantId, region) {
      const code = validListQuery(tenantId, region)
      return [...load().values()].filter((r) => r.tenantId === tenantId && r.region === code).sort((a, b) => a.createdAt - b.createdAt)
    },
    async get(tokenId) {
      return find(tokenId)?.record
    },
    async rotate(tokenId, rotateOptions = {}) {
      const found = find(tokenId)
      return found === undefined ? undefined : create(rotationInput(found.record, rotateOptions, now()))
    },
    async revoke(tokenId) {
      const found = find(tokenId)
      if (found === undefined) return undefined
      const revoked: TokenRecord = { ...found.record, status: 'revoked' }
      update((records) => records.set(found.digest, revoked))
      return revoked
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
