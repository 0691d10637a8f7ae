import { randomUUID } from 'node:crypto'
import { ScimError } from '../../lib/scim-error.ts'
import { assertRolesInCatalog } from '../access/role-catalog.ts'
import type { NewEvent } from '../events/event-types.ts'
import { normalizeResource, validateResource } from '../scim/ingest/index.ts'
import type { ListRequest } from '../scim/list-request.ts'
import { deepEqual } from '../scim/patch/deep-equal.ts'
import { applyPatch, parsePatchRequest, planMemberOperations, type MemberOperation, type MemberInput } from '../scim/patch/index.ts'
import { isAttributeReturned, projectResource, type AttributeRequest } from '../scim/projection/index.ts'
import { GROUP_ACCESS_SCHEMA, GROUP_RESOURCE_TYPE } from '../scim/schema/index.ts'
import type { ScimResource } from '../scim/schema/types.ts'
import { serializeResource, storableAttributes } from '../scim/serialize-resource.ts'
import type { Queryable } from '../storage/database.ts'
import type { MembershipLog } from '../storage/events-store.ts'
import { createGroupsStore, type GroupsStore, type MembershipChange, type StoredMember } from '../storage/groups-store.ts'
import { GROUPS_TABLE } from '../storage/resource-tables.ts'
import { createTenantSettingsStore } from '../storage/tenant-settings-store.ts'
import { isUuid } from '../storage/sql-params.ts'
import type { StoredResource } from '../storage/stored-resource.ts'
import type { RequestScope, ResourceResult, ServiceDependencies, WriteConditions } from './service-context.ts'
import { readWithinBudget, type BudgetedSource } from './member-budget.ts'
import { listResources, lockForWrite, notFound, type ListSource } from './resource-service-support.ts'
import { ALWAYS_RECORD } from './event-recorder.ts'

// Members live in group_members, changed by set operations, never inside the group row.
const NOT_STORED = ['members'] as const

export interface GroupAccess {
  readonly roles?: readonly { readonly value: string; readonly display?: string; readonly type?: string; readonly primary?: boolean }[]
  readonly scope?: { readonly type: string; readonly values: readonly string[] }
}

export interface GroupsService {
  create(scope: RequestScope, body: unknown): Promise<ResourceResult>
  get(scope: RequestScope, id: string, request: AttributeRequest): Promise<ResourceResult>
  replace(scope: RequestScope, id: string, body: unknown, conditions: WriteConditions): Promise<ResourceResult>
  /** `resource` is undefined when the caller does not need it back (group PATCH answers 204). */
  patch(scope: RequestScope, id: string, body: unknown, conditions: WriteConditions, request: AttributeRequest | undefined): Promise<{ resource: ScimResource | undefined; version: number }>
  delete(scope: RequestScope, id: string, conditions: WriteConditions): Promise<void>
  list(scope: RequestScope, request: ListRequest): Promise<ScimResource>
  /** The admin route: roles and scope are set by team admins on our side. */
  setAccess(scope: RequestScope, id: string, access: GroupAccess, conditions: WriteConditions): Promise<ResourceResult>
}

const membersSource = (db: Queryable, tenantId: string): BudgetedSource<StoredMember> => {
  const store = createGroupsStore(db)
  return { countUpTo: (ids, cap) => store.memberCountsUpTo(tenantId, ids, cap), read: (ids, limit) => store.membersOf(tenantId, ids, limit) }
}

const groupsList = (maxMembers: number): ListSource<StoredMember[]> => ({
  resourceType: GROUP_RESOURCE_TYPE,
  table: GROUPS_TABLE,
  derivedAttribute: 'members',
  count: (db, tenantId, where, values) => createGroupsStore(db).count(tenantId, where, values),
  page: (db, tenantId, query) => createGroupsStore(db).list(tenantId, query),
  derived: async (db, tenantId, ids) => (await readWithinBudget(membersSource(db, tenantId), ids, maxMembers)).entries,
  toWire: (scope, row, members) => toWire(scope, row, members),
})

function toWire(scope: RequestScope, stored: StoredResource, members: readonly StoredMember[] | undefined): ScimResource {
  const derived: ScimResource = {}
  if (members !== undefined && members.length > 0) {
    derived.members = members.map((m) => ({
      value: m.value,
      $ref: `${scope.baseUrl}/${m.type === 'User' ? 'Users' : 'Groups'}/${m.value}`,
      type: m.type,
      ...(m.display === null ? {} : { display: m.display }),
    }))
  }
  return serializeResource(GROUP_RESOURCE_TYPE, stored, derived, `${scope.baseUrl}/Groups/${stored.id}`)
}

/**
 * Roles and scope belong to the team's admins unless they gave the identity provider's token the
 * `groups:access:write` scope: a write that would change them is refused whole (403), before anything is stored.
 */
function assertAccessUnchanged(scope: RequestScope, before: unknown, after: unknown): void {
  if (scope.mayWriteGroupAccess || deepEqual(before ?? {}, after ?? {})) return
  throw new ScimError(403, undefined, `this token may not set a group's roles or scope (${GROUP_ACCESS_SCHEMA}); a team admin can, or can create a token with the groups:access:write scope`)
}

function memberInputs(value: unknown): MemberInput[] {
  return Array.isArray(value) ? value.filter((m): m is MemberInput => typeof m === 'object' && m !== null && typeof (m as MemberInput).value === 'string') : []
}

function roleNames(attributes: ScimResource): string[] {
  const roles = (attributes[GROUP_ACCESS_SCHEMA] as { roles?: unknown } | undefined)?.roles
  return Array.isArray(roles) ? roles.flatMap((r) => (typeof r === 'object' && r !== null && typeof (r as { value?: unknown }).value === 'string' ? [(r as { value: string }).value] : [])) : []
}

/** What a write changed on the group row itself: its name and what it grants. */
function groupUpdateEvents(id: string, before: ScimResource, after: ScimResource): NewEvent[] {
  const events: NewEvent[] = []
  if (before.displayName !== after.displayName) events.push({ type: 'group.renamed', resourceType: 'Group', resourceId: id, data: { displayName: after.displayName } })
  if (!deepEqual(before[GROUP_ACCESS_SCHEMA], after[GROUP_ACCESS_SCHEMA])) events.push(accessChanged(id, after))
  return events
}

function accessChanged(id: string, attributes: ScimResource): NewEvent {
  const access = (attributes[GROUP_ACCESS_SCHEMA] ?? {}) as { scope?: unknown }
  return { type: 'group.access_changed', resourceType: 'Group', resourceId: id, data: { roles: roleNames(attributes), scope: access.scope ?? null } }
}

async function runMemberOperation(
  store: GroupsStore,
  tenantId: string,
  groupId: string,
  operation: MemberOperation,
  log: MembershipLog | undefined,
  bump: number | undefined,
): Promise<MembershipChange> {
  switch (operation.kind) {
    case 'add':
      return store.addMembers(tenantId, groupId, operation.members, log, bump)
    case 'remove':
      return store.removeMembers(tenantId, groupId, operation.memberIds, log, bump)
    case 'removeAll':
      return store.removeAllMembers(tenantId, groupId, log, bump)
    case 'replace':
      return store.replaceMembers(tenantId, groupId, operation.members, log, bump)
  }
}

export function createGroupsService(deps: ServiceDependencies): GroupsService {
  const { database } = deps
  const events = deps.events ?? ALWAYS_RECORD
  const reportSkipped = (tenantId: string, groupId: string, change: MembershipChange): void => {
    if (change.skipped.length > 0) deps.onSkippedMembers?.(tenantId, groupId, change.skipped)
  }

  const loadForWrite = (db: Queryable, scope: RequestScope, id: string, conditions: WriteConditions): Promise<StoredResource> =>
    lockForWrite('Group', (tenantId, groupId) => createGroupsStore(db).findForUpdate(tenantId, groupId), scope, id, conditions)

  /** Roles a write sets must be in the tenant's catalog; the catalog row is share-locked so a concurrent removal waits for this write. */
  async function checkRoles(db: Queryable, tenantId: string, attributes: ScimResource): Promise<void> {
    const roles = roleNames(attributes)
    if (roles.length === 0) return
    const catalog = await createTenantSettingsStore(db).catalog(tenantId, 'share')
    assertRolesInCatalog(roles, catalog.roles)
  }

  const maxMembers = deps.limits.maxMembersInResponse
  const groupsListSource = groupsList(maxMembers)

  /**
   * The group as the client asked for it. A group with more members than one response carries: a read is
   * refused with 400 tooMany (a client that read it without members could PUT it back and empty the group);
   * the answer to a write, which is already done, leaves `members` out.
   */
  async function readBack(db: Queryable, scope: RequestScope, stored: StoredResource, request: AttributeRequest, oversized: 'refuse' | 'omit' = 'omit'): Promise<ScimResource> {
    let members: StoredMember[] | undefined
    if (isAttributeReturned(GROUP_RESOURCE_TYPE, request, 'members')) {
      const budgeted = await readWithinBudget(membersSource(db, scope.tenantId), [stored.id], maxMembers)
      if (budgeted.omitted.size > 0 && oversized === 'refuse') {
        throw new ScimError(
          400,
          'tooMany',
          `group ${stored.id} has more than ${maxMembers} members, more than one response carries: read it with excludedAttributes=members and page its members with GET /Users?filter=groups.value eq "${stored.id}"`,
        )
      }
      members = budgeted.entries.get(stored.id)
    }
    return projectResource(toWire(scope, stored, members), GROUP_RESOURCE_TYPE, request)
  }

  return {
    async create(scope, body) {
      const validated = validateResource(normalizeResource(body, GROUP_RESOURCE_TYPE), GROUP_RESOURCE_TYPE, { mode: 'create' })
      const members = memberInputs(validated.members)
      assertAccessUnchanged(scope, undefined, validated[GROUP_ACCESS_SCHEMA])
      return database.write(scope.tenantId, async (db) => {
        const store = createGroupsStore(db)
        const id = randomUUID()
        const attributes = storableAttributes(validated, NOT_STORED)
        await checkRoles(db, scope.tenantId, attributes)
        const stored = await store.insert(scope.tenantId, id, attributes)
        const log: NewEvent[] = [{ type: 'group.created', resourceType: 'Group', resourceId: id }]
        if (attributes[GROUP_ACCESS_SCHEMA] !== undefined) log.push(accessChanged(id, attributes))
        // The group's own events go first: membership events of this request follow them in the feed.
        await events.record(db, scope, log)
        // Members added on creation leave the new group at version 1.
        if (members.length > 0) reportSkipped(scope.tenantId, id, await store.addMembers(scope.tenantId, id, members, events.membershipLog(scope)))
        return { resource: await readBack(db, scope, stored, {}), version: stored.version }
      })
    },

    async get(scope, id, request) {
      if (!isUuid(id)) throw notFound('Group', id)
      const resource = await database.read(scope.tenantId, async (db) => {
        const stored = await createGroupsStore(db).find(scope.tenantId, id)
        return stored === undefined ? undefined : { stored, wire: await readBack(db, scope, stored, request, 'refuse') }
      })
      if (resource === undefined) throw notFound('Group', id)
      return { resource: resource.wire, version: resource.stored.version }
    },

    async replace(scope, id, body, conditions) {
      const normalized = normalizeResource(body, GROUP_RESOURCE_TYPE)
      return database.write(scope.tenantId, async (db) => {
        const store = createGroupsStore(db)
        const current = await loadForWrite(db, scope, id, conditions)
        const validated = validateResource(normalized, GROUP_RESOURCE_TYPE, { mode: 'replace', existing: current.attributes })
        const attributes = storableAttributes(validated, NOT_STORED)
        // Roles and scope belong to the team's admins: a PUT that does not mention the access extension keeps them.
        if (attributes[GROUP_ACCESS_SCHEMA] === undefined && current.attributes[GROUP_ACCESS_SCHEMA] !== undefined) {
          attributes[GROUP_ACCESS_SCHEMA] = current.attributes[GROUP_ACCESS_SCHEMA]
        }
        assertAccessUnchanged(scope, current.attributes[GROUP_ACCESS_SCHEMA], attributes[GROUP_ACCESS_SCHEMA])
        if (!deepEqual(attributes[GROUP_ACCESS_SCHEMA], current.attributes[GROUP_ACCESS_SCHEMA])) await checkRoles(db, scope.tenantId, attributes)
        // RFC 7644 §3.5.1: PUT replaces the member list too (as a diff, so unchanged rows stay)
        await events.record(db, scope, groupUpdateEvents(id, current.attributes, attributes))
        reportSkipped(scope.tenantId, id, await store.replaceMembers(scope.tenantId, id, memberInputs(validated.members), events.membershipLog(scope)))
        const outcome = await store.update(scope.tenantId, id, attributes, undefined)
        if (outcome.kind !== 'updated') throw notFound('Group', id)
        return { resource: await readBack(db, scope, outcome.resource, {}), version: outcome.resource.version }
      })
    },

    async patch(scope, id, body, conditions, request) {
      const operations = parsePatchRequest(body)
      const { memberOperations, otherOperations } = planMemberOperations(operations, GROUP_RESOURCE_TYPE)
      const [only] = memberOperations
      if (only?.kind === 'add' && memberOperations.length === 1 && otherOperations.length === 0 && conditions.ifMatch === undefined && request === undefined) {
        // What identity providers send most (docs/identity-providers.md): members added, nothing to check or answer
        // but the version. Lock, insert, bump and events in one statement.
        if (!isUuid(id)) throw notFound('Group', id)
        const outcome = await database.write(scope.tenantId, (db) => createGroupsStore(db).lockAndAddMembers(scope.tenantId, id, only.members, events.membershipLog(scope)))
        if (outcome === undefined) throw notFound('Group', id)
        reportSkipped(scope.tenantId, id, outcome.change)
        return { resource: undefined, version: outcome.version }
      }
      return database.write(scope.tenantId, async (db) => {
        const store = createGroupsStore(db)
        // The request's one lock on the group row: concurrent PATCHes of one group queue up, so none loses a member.
        const current = await loadForWrite(db, scope, id, conditions)
        const patched = otherOperations.length === 0 ? undefined : applyPatch({ ...current.attributes, id }, otherOperations, GROUP_RESOURCE_TYPE)
        let attributes: ScimResource | undefined
        if (patched?.changed === true) {
          const validated = validateResource(patched.resource, GROUP_RESOURCE_TYPE, { mode: 'replace', existing: current.attributes })
          assertAccessUnchanged(scope, current.attributes[GROUP_ACCESS_SCHEMA], validated[GROUP_ACCESS_SCHEMA])
          attributes = storableAttributes(validated, NOT_STORED)
          if (!deepEqual(attributes[GROUP_ACCESS_SCHEMA], current.attributes[GROUP_ACCESS_SCHEMA])) await checkRoles(db, scope.tenantId, attributes)
        }
        // A PATCH that changes only members bumps version and lastModified in the statement that changes them;
        // one that changes the group's attributes too bumps them once, with the row update below.
        const bump = attributes === undefined ? current.version + 1 : undefined
        let stored = current
        const membershipLog = events.membershipLog(scope)
        for (const operation of memberOperations) {
          const change = await runMemberOperation(store, scope.tenantId, id, operation, membershipLog, bump)
          reportSkipped(scope.tenantId, id, change)
          if (change.bumped !== undefined) stored = { ...stored, version: change.bumped.version, lastModified: change.bumped.lastModified }
        }
        if (attributes !== undefined) {
          const outcome = await store.update(scope.tenantId, id, attributes, undefined)
          if (outcome.kind !== 'updated') throw notFound('Group', id)
          stored = outcome.resource
          await events.record(db, scope, groupUpdateEvents(id, current.attributes, attributes))
        }
        return { resource: request === undefined ? undefined : await readBack(db, scope, stored, request), version: stored.version }
      })
    },

    async delete(scope, id, conditions) {
      await database.write(scope.tenantId, async (db) => {
        const current = await loadForWrite(db, scope, id, conditions)
        await createGroupsStore(db).delete(scope.tenantId, id)
        await events.record(db, scope, [{ type: 'group.deleted', resourceType: 'Group', resourceId: current.id }])
      })
    },

    list: (scope, request) => listResources(deps, groupsListSource, scope, request),

    async setAccess(scope, id, access, conditions) {
      return database.write(scope.tenantId, async (db) => {
        const current = await loadForWrite(db, scope, id, conditions)
        const extension: ScimResource = {}
        if (access.roles !== undefined) extension.roles = access.roles
        if (access.scope !== undefined) extension.scope = access.scope
        const candidate = { ...current.attributes, [GROUP_ACCESS_SCHEMA]: extension }
        const validated = validateResource(candidate, GROUP_RESOURCE_TYPE, { mode: 'replace', existing: current.attributes })
        const attributes = storableAttributes(validated, NOT_STORED)
        await checkRoles(db, scope.tenantId, attributes)
        const outcome = await createGroupsStore(db).update(scope.tenantId, id, attributes, undefined)
        if (outcome.kind !== 'updated') throw notFound('Group', id)
        if (!deepEqual(attributes[GROUP_ACCESS_SCHEMA], current.attributes[GROUP_ACCESS_SCHEMA])) await events.record(db, scope, [accessChanged(id, attributes)])
        return { resource: await readBack(db, scope, outcome.resource, {}), version: outcome.resource.version }
      })
    },
  }
}
