// The built-in token store of embedded mode (`npm start` with no Redis): the
// same records and digests as the Redis store, kept in one JSON file (mode
// 0600) so the gateway and `scimgate token …` in another terminal share it.
// For one machine and local use only: writers replace the file atomically,
// and readers reload it when it changes.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseToken } from './token-format.ts'
import type { TokenHasher } from './token-hasher.ts'
import { TOKEN_ID_PATTERN } from './token-input.ts'
import { decodeTokenRecord, encodeTokenRecord, type TokenRecord } from './token-record.ts'
import { newToken, rotationInput, validListQuery } from './token-rules.ts'
import type { TokenStore } from './token-store.ts'

interface FileContents {
  /** digest → encoded record */
  readonly records: Record<string, string>
}

export function createFileTokenStore(path: string, options: { hasher: TokenHasher; now?: () => number }): TokenStore {
  const { hasher } = options
  const now = options.now ?? Date.now
  let cached: { mtimeMs: number; size: number; records: Map<string, TokenRecord> } | undefined

  function load(): Map<string, TokenRecord> {
    let stat
    try {
      stat = statSync(path)
    } catch {
      return new Map()
    }
    if (cached !== undefined && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.records
    const contents = JSON.parse(readFileSync(path, 'utf8')) as FileContents
    const records = new Map<string, TokenRecord>()
    for (const [digest, text] of Object.entries(contents.records ?? {})) {
      const record = decodeTokenRecord(text)
      if (record !== undefined) records.set(digest, record)
    }
    cached = { mtimeMs: stat.mtimeMs, size: stat.size, records }
    return records
  }

  function save(records: Map<string, TokenRecord>): void {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
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
    const records = new Map(load())
    records.set(digest, record)
    save(records)
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
      const records = new Map(load())
      records.set(found.digest, revoked)
      save(records)
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
