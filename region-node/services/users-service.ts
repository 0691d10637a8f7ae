import { randomUUID } from 'node:crypto'
import type { NewEvent } from '../events/event-types.ts'
import { changedPaths } from '../scim/changed-paths.ts'
import { normalizeResource, validateResource } from '../scim/ingest/index.ts'
import type { ListRequest } from '../scim/list-request.ts'
import { applyPatch, parsePatchRequest } from '../scim/patch/index.ts'
import { isAttributeReturned, isProjectionRequested, projectResource, type AttributeRequest } from '../scim/projection/index.ts'
import { USER_RESOURCE_TYPE } from '../scim/schema/index.ts'
import type { ScimResource } from '../scim/schema/types.ts'
import { serializeResource, storableAttributes } from '../scim/serialize-resource.ts'
import type { Queryable } from '../storage/database.ts'
import { USERS_TABLE } from '../storage/resource-tables.ts'
import { isUuid } from '../storage/sql-params.ts'
import type { StoredResource } from '../storage/stored-resource.ts'
import { countUsers, createUsersStore, insertUser, listUsersWithGroups, type GroupReference } from '../storage/users-store.ts'
import { readWithinBudget, type BudgetedSource } from './member-budget.ts'
import { listResources, lockForWrite, notFound, type ListSource } from './resource-service-support.ts'
import type { RequestScope, ResourceResult, ServiceDependencies, WriteConditions } from './service-context.ts'
import { ALWAYS_RECORD } from './event-recorder.ts'

// `groups` is derived from memberships; `password` is never kept: team members sign in through their identity provider.
const NOT_STORED = ['groups', 'password'] as const

/** GET by id and create are one statement each: BEGIN, settings, the statement and COMMIT go out together. */
const ONE_ROUND_TRIP = { oneRoundTrip: true } as const
// A user is in few groups: their count and the groups themselves are read in one round trip.
const READ_WITH_COUNT = { readWithCount: true } as const

export interface UsersService {
  create(scope: RequestScope, body: unknown): Promise<ResourceResult>
  get(scope: RequestScope, id: string, request: AttributeRequest): Promise<ResourceResult>
  replace(scope: RequestScope, id: string, body: unknown, conditions: WriteConditions): Promise<ResourceResult>
  patch(scope: RequestScope, id: string, body: unknown, conditions: WriteConditions): Promise<ResourceResult>
  delete(scope: RequestScope, id: string, conditions: WriteConditions): Promise<void>
  list(scope: RequestScope, request: ListRequest): Promise<ScimResource>
}

const groupsSource = (db: Queryable, tenantId: string): BudgetedSource<GroupReference> => {
  const store = createUsersStore(db)
  return { countUpTo: (ids, cap) => store.groupCountsUpTo(tenantId, ids, cap), read: (ids, limit) => store.groupsOf(tenantId, ids, limit) }
}

/** A user's groups within the response budget (none for a user in more groups than one response carries). */
async function groupsWithinBudget(db: Queryable, tenantId: string, userId: string, budget: number): Promise<GroupReference[] | undefined> {
  return (await readWithinBudget(groupsSource(db, tenantId), [userId], budget, READ_WITH_COUNT)).entries.get(userId)
}

const usersList = (budget: number): ListSource<GroupReference[]> => ({
  resourceType: USER_RESOURCE_TYPE,
  table: USERS_TABLE,
  derivedAttribute: 'groups',
  count: countUsers,
  page: (db, tenantId, query) => createUsersStore(db).list(tenantId, query),
  derived: async (db, tenantId, ids) => (await readWithinBudget(groupsSource(db, tenantId), ids, budget, READ_WITH_COUNT)).entries,
  // Every user of the page fits when all their groups together do (one more than the budget tells).
  pageWithDerived: async (db, tenantId, query) => {
    const { rows, groups, groupRows } = await listUsersWithGroups(db, tenantId, query, budget + 1)
    return groupRows <= budget ? { rows, derived: groups } : undefined
  },
  toWire: (scope, row, groups) => toWire(scope, row, groups),
})

function toWire(scope: RequestScope, stored: StoredResource, groups: readonly GroupReference[] | undefined): ScimResource {
  const derived: ScimResource = {}
  if (groups !== undefined && groups.length > 0) {
    derived.groups = groups.map((g) => ({ value: g.value, $ref: `${scope.baseUrl}/Groups/${g.value}`, display: g.display, type: 'direct' }))
  }
  return serializeResource(USER_RESOURCE_TYPE, stored, derived, `${scope.baseUrl}/Users/${stored.id}`)
}

/** What a write did to a user, for the event log: changed paths (never values), and (de)activation on its own. */
function userUpdateEvents(id: string, before: ScimResource, after: ScimResource): NewEvent[] {
  const events: NewEvent[] = []
  const wasActive = before.active !== false
  const isActive = after.active !== false
  if (wasActive && !isActive) events.push({ type: 'user.deactivated', resourceType: 'User', resourceId: id })
  if (!wasActive && isActive) events.push({ type: 'user.reactivated', resourceType: 'User', resourceId: id })
  const paths = changedPaths(before, after, ['active', ...NOT_STORED])
  if (paths.length > 0) events.push({ type: 'user.updated', resourceType: 'User', resourceId: id, data: { paths } })
  return events
}

/** RFC 7644 §3.3: a new user; `active` defaults to true so "not deactivated" is explicit. */
export function prepareNewUser(body: unknown): ScimResource {
  const normalized = normalizeResource(body, USER_RESOURCE_TYPE)
  const attributes = storableAttributes(validateResource(normalized, USER_RESOURCE_TYPE, { mode: 'create' }), NOT_STORED)
  attributes.active ??= true
  return attributes
}

export function createUsersService(deps: ServiceDependencies): UsersService {
  const { database } = deps
  const events = deps.events ?? ALWAYS_RECORD
  const budget = deps.limits.maxMembersInResponse
  const usersListSource = usersList(budget)

  const loadForWrite = (db: Queryable, scope: RequestScope, id: string, conditions: WriteConditions): Promise<StoredResource> =>
    lockForWrite('User', (tenantId, userId) => createUsersStore(db).findForUpdate(tenantId, userId), scope, id, conditions)

  async function save(db: Queryable, scope: RequestScope, current: StoredResource, attributes: ScimResource): Promise<ResourceResult> {
    const store = createUsersStore(db)
    const log = events.attachment(scope, userUpdateEvents(current.id, current.attributes, attributes))
    const outcome = await store.update(scope.tenantId, current.id, attributes, current.version, log)
    // Not updated: the error rolls the transaction back, the events with it.
    if (outcome.kind !== 'updated') throw notFound('User', current.id)
    const groups = await groupsWithinBudget(db, scope.tenantId, current.id, budget)
    return { resource: toWire(scope, outcome.resource, groups), version: outcome.resource.version }
  }

  return {
    async create(scope, body) {
      const attributes = prepareNewUser(body)
      const id = randomUUID()
      const log = events.attachment(scope, [{ type: 'user.created', resourceType: 'User', resourceId: id }])
      const stored = await database.write(scope.tenantId, (db) => insertUser(db, scope.tenantId, id, attributes, log), ONE_ROUND_TRIP)
      return { resource: toWire(scope, stored, []), version: stored.version }
    },

    async get(scope, id, request) {
      if (!isUuid(id)) throw notFound('User', id)
      const wantsGroups = isAttributeReturned(USER_RESOURCE_TYPE, request, 'groups')
      const { stored, groups } = await database.read(scope.tenantId, async (db) => {
        const store = createUsersStore(db)
        if (!wantsGroups) return { stored: await store.find(scope.tenantId, id), groups: undefined }
        // One more than fits says whether the user is in more groups than one response carries.
        const found = await store.findWithGroups(scope.tenantId, id, budget + 1)
        return { stored: found?.user, groups: found === undefined || found.groups.length > budget ? undefined : found.groups }
      }, ONE_ROUND_TRIP)
      if (stored === undefined) throw notFound('User', id)
      const resource = toWire(scope, stored, groups)
      return { resource: isProjectionRequested(request) ? projectResource(resource, USER_RESOURCE_TYPE, request) : resource, version: stored.version }
    },

    async replace(scope, id, body, conditions) {
      const normalized = normalizeResource(body, USER_RESOURCE_TYPE)
      return database.write(scope.tenantId, async (db) => {
        const current = await loadForWrite(db, scope, id, conditions)
        const validated = validateResource(normalized, USER_RESOURCE_TYPE, { mode: 'replace', existing: current.attributes })
        // A PUT that leaves `active` out keeps the current state: reactivating someone by omission would be a security bug.
        const attributes = { ...storableAttributes(validated, NOT_STORED), active: validated.active ?? current.attributes.active ?? true }
        return save(db, scope, current, attributes)
      })
    },

    async patch(scope, id, body, conditions) {
      const operations = parsePatchRequest(body)
      return database.write(scope.tenantId, async (db) => {
        const current = await loadForWrite(db, scope, id, conditions)
        const before = { ...current.attributes, id: current.id }
        const { resource, changed } = applyPatch(before, operations, USER_RESOURCE_TYPE)
        if (!changed) {
          const groups = await groupsWithinBudget(db, scope.tenantId, id, budget)
          return { resource: toWire(scope, current, groups), version: current.version }
        }
        const validated = validateResource(resource, USER_RESOURCE_TYPE, { mode: 'replace', existing: current.attributes })
        // Removing `active` keeps the current state: only an explicit true reactivates a user.
        return save(db, scope, current, { ...storableAttributes(validated, NOT_STORED), active: validated.active ?? current.attributes.active ?? true })
      })
    },

    async delete(scope, id, conditions) {
      await database.write(scope.tenantId, async (db) => {
        const current = await loadForWrite(db, scope, id, conditions)
        await createUsersStore(db).delete(scope.tenantId, current.id, events.attachment(scope, [{ type: 'user.deleted', resourceType: 'User', resourceId: current.id }]))
      })
    },

    list: (scope, request) => listResources(deps, usersListSource, scope, request),
  }
}
