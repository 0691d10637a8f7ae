// RFC 7644 §3.7: Bulk. Each operation runs (and commits) on its own, as the RFC
// specifies; bulkId references are resolved as creations complete, so
// operations may come in any order. A run of consecutive POST /Users
// operations that refer to no bulkId still unresolved is one multi-row insert
// (user-create-batches.ts) with the results the operations would have had
// one by one.
import { ScimError, isScimError } from '../../lib/scim-error.ts'
import { parseVersionCondition } from '../scim/etag.ts'
import { BULK_REQUEST_SCHEMA, BULK_RESPONSE_SCHEMA } from '../scim/schema/index.ts'
import type { GroupsService } from './groups-service.ts'
import type { RequestScope, ResourceResult } from './service-context.ts'
import type { UserCreateBatches } from './user-create-batches.ts'
import type { UsersService } from './users-service.ts'

export interface BulkOperation {
  readonly method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  readonly bulkId?: string
  readonly version?: string
  readonly path: string
  readonly data?: unknown
}

interface BulkResult {
  method: string
  bulkId?: string
  version?: string
  location?: string
  status: string
  response?: unknown
}

const BULK_ID_REFERENCE = /^bulkId:(.+)$/

function readOperations(body: unknown, maxOperations: number): { operations: BulkOperation[]; failOnErrors: number | undefined } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ScimError(400, 'invalidSyntax', 'a BulkRequest must be a JSON object')
  const request = body as Record<string, unknown>
  const schemas = request.schemas
  if (Array.isArray(schemas) && !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === BULK_REQUEST_SCHEMA.toLowerCase())) {
    throw new ScimError(400, 'invalidSyntax', `schemas must contain ${BULK_REQUEST_SCHEMA}`)
  }
  const list = request.Operations ?? request.operations
  if (!Array.isArray(list)) throw new ScimError(400, 'invalidSyntax', 'Operations must be an array')
  if (list.length > maxOperations) throw new ScimError(413, undefined, `at most ${maxOperations} operations per bulk request`)
  const failOnErrors = request.failOnErrors
  if (failOnErrors !== undefined && (typeof failOnErrors !== 'number' || !Number.isInteger(failOnErrors) || failOnErrors < 1)) {
    throw new ScimError(400, 'invalidValue', 'failOnErrors must be a positive integer')
  }
  const operations = list.map((raw, index): BulkOperation => {
    if (typeof raw !== 'object' || raw === null) throw new ScimError(400, 'invalidSyntax', `Operations[${index}] must be an object`)
    const op = raw as Record<string, unknown>
    const method = typeof op.method === 'string' ? op.method.toUpperCase() : ''
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw new ScimError(400, 'invalidValue', `Operations[${index}].method must be POST, PUT, PATCH or DELETE`)
    if (typeof op.path !== 'string' || op.path === '') throw new ScimError(400, 'invalidValue', `Operations[${index}].path is required`)
    if (method === 'POST' && (typeof op.bulkId !== 'string' || op.bulkId === '')) throw new ScimError(400, 'invalidValue', `Operations[${index}].bulkId is required for POST`)
    return {
      method: method as BulkOperation['method'],
      path: op.path,
      data: op.data,
      ...(typeof op.bulkId === 'string' ? { bulkId: op.bulkId } : {}),
      ...(typeof op.version === 'string' ? { version: op.version } : {}),
    }
  })
  return { operations, failOnErrors: failOnErrors as number | undefined }
}

class UnresolvedReference extends Error {}

/** Whether any string in `value` is a "bulkId:x" reference (a walk that copies nothing: most data has none). */
function containsReference(value: unknown): boolean {
  if (typeof value === 'string') return value.startsWith('bulkId:')
  if (Array.isArray(value)) return value.some(containsReference)
  if (typeof value === 'object' && value !== null) {
    for (const key in value) if (containsReference((value as Record<string, unknown>)[key])) return true
  }
  return false
}

/** Replaces every "bulkId:x" string in data with the id created for x; throws UnresolvedReference when x is not created yet. */
function resolveReferences(value: unknown, created: ReadonlyMap<string, string>, failed: ReadonlySet<string>): unknown {
  if (!containsReference(value)) return value
  if (typeof value === 'string') {
    const match = BULK_ID_REFERENCE.exec(value)
    if (match === null) return value
    const id = created.get(match[1]!)
    if (id !== undefined) return id
    if (failed.has(match[1]!)) throw new ScimError(409, undefined, `bulkId ${match[1]} refers to an operation that failed`)
    throw new UnresolvedReference(match[1])
  }
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, created, failed))
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v, created, failed)]))
  }
  return value
}

export interface BulkService {
  execute(scope: RequestScope, body: unknown): Promise<Record<string, unknown>>
}

/** The smallest run of POST /Users operations worth one statement (a single one goes the ordinary way). */
const MIN_BATCH = 2
const USERS_PATH = /^\/*Users$/i

export function createBulkService(options: { users: UsersService; groups: GroupsService; userBatches?: UserCreateBatches; maxOperations: number }): BulkService {
  const { users, groups } = options

  async function run(scope: RequestScope, operation: BulkOperation, path: string, data: unknown): Promise<{ status: number; result?: ResourceResult; location?: string }> {
    const match = /^\/(Users|Groups)(?:\/([^/?#]+))?$/i.exec(path)
    if (match === null) throw new ScimError(400, 'invalidPath', `unsupported bulk path ${path}`)
    const service = match[1]!.toLowerCase() === 'users' ? users : groups
    const id = match[2]
    const conditions = { ifMatch: parseVersionCondition(operation.version) }
    if (operation.method === 'POST') {
      if (id !== undefined) throw new ScimError(400, 'invalidPath', 'POST goes to /Users or /Groups')
      const result = await service.create(scope, data)
      return { status: 201, result }
    }
    if (id === undefined) throw new ScimError(400, 'invalidPath', `${operation.method} needs /Users/{id} or /Groups/{id}`)
    if (operation.method === 'DELETE') {
      await service.delete(scope, id, conditions)
      return { status: 204 }
    }
    if (operation.method === 'PUT') return { status: 200, result: await service.replace(scope, id, data, conditions) }
    const result = service === users ? await users.patch(scope, id, data, conditions) : await groups.patch(scope, id, data, conditions, {})
    return { status: 200, result: result.resource === undefined ? undefined : { resource: result.resource, version: result.version } }
  }

  return {
    async execute(scope, body) {
      const { operations, failOnErrors } = readOperations(body, options.maxOperations)
      const results: (BulkResult | undefined)[] = operations.map(() => undefined)
      const created = new Map<string, string>()
      const failedBulkIds = new Set<string>()
      let errors = 0
      let pending = operations.map((_, index) => index)
      const baseOf = (operation: BulkOperation): BulkResult => ({ method: operation.method, status: '', ...(operation.bulkId === undefined ? {} : { bulkId: operation.bulkId }) })
      const fail = (index: number, error: ScimError): void => {
        const operation = operations[index]!
        errors++
        if (operation.bulkId !== undefined) failedBulkIds.add(operation.bulkId)
        results[index] = { ...baseOf(operation), status: String(error.status), response: error.toBody() }
      }
      /** The data of a POST /Users that can join a batch (no bulkId it names is unresolved or failed), else undefined. */
      const batchable = (index: number): { data: unknown } | undefined => {
        const operation = operations[index]!
        if (operation.method !== 'POST' || !USERS_PATH.test(operation.path)) return undefined
        try {
          return { data: resolveReferences(operation.data, created, failedBulkIds) }
        } catch {
          return undefined
        }
      }
      // A batch the database refused as a whole runs one by one, each operation with its own outcome.
      let oneByOneUntil = -1
      /** Runs the batch of pending[from…] POST /Users operations; returns how many it ran, 0 when there is no batch here. */
      const runBatch = async (from: number): Promise<number> => {
        if (options.userBatches === undefined || from < oneByOneUntil) return 0
        const batch: { index: number; data: unknown }[] = []
        for (let at = from; at < pending.length; at++) {
          const candidate = batchable(pending[at]!)
          if (candidate === undefined) break
          batch.push({ index: pending[at]!, data: candidate.data })
        }
        if (batch.length < MIN_BATCH) return 0
        const outcomes = await options.userBatches.create(scope, batch.map((b) => b.data), failOnErrors === undefined ? undefined : failOnErrors - errors)
        if (outcomes === undefined) {
          oneByOneUntil = from + batch.length
          return 0
        }
        outcomes.forEach((outcome, at) => {
          const { index } = batch[at]!
          const operation = operations[index]!
          if (outcome.kind === 'failed') return fail(index, outcome.error)
          if (operation.bulkId !== undefined) created.set(operation.bulkId, outcome.id)
          results[index] = { ...baseOf(operation), status: '201', location: outcome.location, version: outcome.version }
        })
        return outcomes.length
      }
      // Each pass runs every operation whose references are known; a pass that makes no progress ends the cycle.
      while (pending.length > 0 && (failOnErrors === undefined || errors < failOnErrors)) {
        const deferred: number[] = []
        oneByOneUntil = -1
        for (let position = 0; position < pending.length; position++) {
          if (failOnErrors !== undefined && errors >= failOnErrors) break
          const ran = await runBatch(position)
          if (ran > 0) {
            position += ran - 1
            continue
          }
          const index = pending[position]!
          const operation = operations[index]!
          const base = baseOf(operation)
          try {
            const path = `/${operation.path.replace(/^\/+/, '')}`
              .split('/')
              .map((segment) => resolveReferences(segment, created, failedBulkIds) as string)
              .join('/')
            const data = resolveReferences(operation.data, created, failedBulkIds)
            const outcome = await run(scope, operation, path, data)
            const meta = outcome.result?.resource.meta as { location?: string; version?: string } | undefined
            if (operation.method === 'POST' && operation.bulkId !== undefined && outcome.result !== undefined) {
              created.set(operation.bulkId, String(outcome.result.resource.id))
            }
            results[index] = {
              ...base,
              status: String(outcome.status),
              ...(meta?.location === undefined ? {} : { location: meta.location }),
              ...(meta?.version === undefined ? {} : { version: meta.version }),
            }
          } catch (error) {
            if (error instanceof UnresolvedReference) {
              deferred.push(index)
              continue
            }
            if (!isScimError(error)) throw error
            fail(index, error)
          }
        }
        if (deferred.length === pending.length) {
          for (const index of deferred) fail(index, new ScimError(409, undefined, 'bulkId references form a cycle or name an unknown bulkId'))
          break
        }
        pending = deferred
      }
      return { schemas: [BULK_RESPONSE_SCHEMA], Operations: results.filter((r): r is BulkResult => r !== undefined) }
    },
  }
}
