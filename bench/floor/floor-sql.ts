// The floor's SQL: the node's own statements (region-node/storage/*.ts, copied
// as the node runs them on this schema, with their parameter order), named so
// PostgreSQL plans each once per connection. Where the node spreads one request
// over several dependent statements, the floor folds them into one statement of
// the same pieces, which is the least a correct implementation has to do.

/** region-node/storage/events-store.ts: the log's advisory-lock namespace and NOTIFY channel. */
const EVENT_LOCK_CLASS = 0x5c1e
const EVENT_CHANNEL = 'scimgate_events'
const EVENT_COLUMNS = 'tenant_id, type, resource_type, resource_id, actor_type, actor_id, actor_label, client_kind, request_id, data'
const RESOURCE_COLUMNS = 'r.id, r.seq, r.version, r.created, r.last_modified, r.attributes'

/** database.ts transactionSettings: tenant, statement timeout and the unprivileged role, for this transaction only. */
export const SETTINGS = {
  name: 'floor_settings',
  text: 'SELECT set_config($1, $2, true), set_config($3, $4, true), set_config($5, $6, true)',
}

export function settingsValues(tenantId: string, statementTimeoutMs: number, role: string): unknown[] {
  return ['scimgate.tenant_id', tenantId, 'statement_timeout', String(statementTimeoutMs), 'role', role]
}

/** users-store.ts findWithGroups: $1 tenant, $2 id, $3 the groups budget + 1. */
export const FIND_USER_WITH_GROUPS = {
  name: 'floor_find_user_with_groups',
  text: `SELECT ${RESOURCE_COLUMNS},
                COALESCE((SELECT json_agg(json_build_object('value', mg.id, 'display', mg.display_name) ORDER BY mg.seq)
                          FROM (SELECT g.id, g.display_name, g.seq
                                FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
                                WHERE m.tenant_id = r.tenant_id AND m.member_id = r.id
                                ORDER BY g.seq LIMIT $3) mg), '[]'::json) AS groups
         FROM users r WHERE r.tenant_id = $1 AND r.id = $2`,
}

/** resource-rows.ts countRows with filter-to-sql's `userName eq`: $1 tenant, $2 the userName. */
export const COUNT_USER_NAME_EQ = {
  name: 'floor_count_user_name_eq',
  text: 'SELECT count(*) AS total FROM users r WHERE r.tenant_id = $1 AND r.user_name_lower = lower($2)',
}

/**
 * resource-rows.ts listRows with the same filter, default order and index paging ($3 limit, $4 offset),
 * with the page's `groups` read by findWithGroups' sub-query instead of two more dependent statements
 * (groupCountsUpTo, groupsOf): $5 is the groups budget + 1. The floor answers only `userName eq`
 * (a page of at most one user), for which that per-user budget is the node's page budget.
 */
export const PAGE_USER_NAME_EQ_WITH_GROUPS = {
  name: 'floor_page_user_name_eq',
  text: `SELECT ${RESOURCE_COLUMNS}, NULL AS sort_key,
                COALESCE((SELECT json_agg(json_build_object('value', mg.id, 'display', mg.display_name) ORDER BY mg.seq)
                          FROM (SELECT g.id, g.display_name, g.seq
                                FROM group_members m JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id
                                WHERE m.tenant_id = r.tenant_id AND m.member_id = r.id
                                ORDER BY g.seq LIMIT $5) mg), '[]'::json) AS groups
         FROM users r
         WHERE r.tenant_id = $1 AND r.user_name_lower = lower($2) ORDER BY r.seq ASC LIMIT $3 OFFSET $4`,
}

/** A read's snapshot: the node reads count and page in one REPEATABLE READ, READ ONLY transaction. */
export const BEGIN_READ = { name: 'floor_begin_read', text: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' }
export const COMMIT = { name: 'floor_commit', text: 'COMMIT' }

/** events-store.ts writerCtes + eventAttachment, for events whose tenant parameter is `$tenant`. */
function attachedEventCtes(first: number): string {
  const p = (offset: number): string => `$${first + offset}`
  return `event_writer AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(${EVENT_LOCK_CLASS}, hashtext(${p(0)}))),
          event_wake AS MATERIALIZED (SELECT pg_notify('${EVENT_CHANNEL}', ${p(0)})),
          event_rows AS (
            INSERT INTO events (${EVENT_COLUMNS})
            SELECT ${p(0)}, e.type, e.resource_type, e.resource_id, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, e.data::jsonb
            FROM event_writer, event_wake, unnest(${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[]) WITH ORDINALITY AS e(type, resource_type, resource_id, data, n)
            ORDER BY e.n
            RETURNING 1)`
}

const INSERT_USER = `INSERT INTO users AS r (tenant_id, id, user_name, external_id, display_name, active, attributes)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${RESOURCE_COLUMNS}`

/** users-store.ts insert with the `user.created` event on the same statement (log on), or bare (log off). */
export const INSERT_USER_LOGGED = { name: 'floor_insert_user_logged', text: `WITH ${attachedEventCtes(8)} ${INSERT_USER}` }
export const INSERT_USER_BARE = { name: 'floor_insert_user', text: INSERT_USER }

/** The origin columns of an event (actor type, id, label, client kind, request id), as events-store.ts writes them. */
export interface EventOrigin {
  readonly actorId: string
  readonly actorLabel: string | null
  readonly clientKind: string
  readonly requestId: string
}

export function userCreatedEventValues(tenantId: string, userId: string, origin: EventOrigin): unknown[] {
  return [tenantId, ['user.created'], ['User'], [userId], [null], 'token', origin.actorId, origin.actorLabel, origin.clientKind, origin.requestId]
}

/** events-store.ts membershipLog: one event row holding the members of the CTE `inserted`, in member-id order. */
function membershipEventCtes(first: number): string {
  const p = (offset: number): string => `$${first + offset}`
  return `event_writer AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(${EVENT_LOCK_CLASS}, hashtext(${p(0)}::text))),
          event_wake AS MATERIALIZED (SELECT pg_notify('${EVENT_CHANNEL}', ${p(0)}::text)),
          event_rows AS (
            INSERT INTO events (${EVENT_COLUMNS}, member_ids, member_types, member_count)
            SELECT ${p(0)}::text, ${p(7)}::text, 'Group', ${p(1)}::text, ${p(2)}::text, ${p(3)}::text, ${p(4)}::text, ${p(5)}::text, ${p(6)}::text, NULL,
                   m.ids, CASE WHEN m.all_users THEN NULL ELSE m.types END, cardinality(m.ids)
            FROM event_writer, event_wake,
                 (SELECT array_agg(s.member_id) AS ids, array_agg(s.member_type::text) AS types, bool_and(s.member_type = 'User') AS all_users
                  FROM (SELECT member_id, member_type FROM inserted ORDER BY member_id) s) m
            WHERE m.ids IS NOT NULL
            RETURNING 1)`
}

/**
 * A group PATCH adding members, in one statement: the node's findForUpdate (the group row locked),
 * insertMembers (resolve, insert, membership events) and touch (version and lastModified bumped only
 * when a member was added) as CTEs. $1 tenant, $2 group id, $3 member ids; $4… the membership log's.
 */
function addMembersText(logged: boolean): string {
  return `WITH target AS MATERIALIZED (SELECT r.version FROM groups r WHERE r.tenant_id = $1 AND r.id = $2 FOR UPDATE),
            wanted AS (SELECT DISTINCT unnest($3::uuid[]) AS id),
            resolved AS (
              SELECT w.id, CASE WHEN u.id IS NOT NULL THEN 'User' WHEN g.id IS NOT NULL THEN 'Group' END AS member_type
              FROM wanted w
              LEFT JOIN users u ON u.tenant_id = $1 AND u.id = w.id
              LEFT JOIN groups g ON g.tenant_id = $1 AND g.id = w.id),
            inserted AS (
              INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
              SELECT $1, $2, resolved.id, resolved.member_type FROM resolved, target WHERE resolved.member_type IS NOT NULL
              ON CONFLICT DO NOTHING
              RETURNING member_id, member_type),
            touched AS (
              UPDATE groups AS r SET version = r.version + 1, last_modified = clock_timestamp()
              WHERE r.tenant_id = $1 AND r.id = $2 AND EXISTS (SELECT 1 FROM inserted)
              RETURNING r.version)${logged ? `,
            ${membershipEventCtes(4)}` : ''}
       SELECT (SELECT version FROM target) AS current_version, (SELECT version FROM touched) AS new_version,
              ARRAY(SELECT id::text FROM resolved WHERE member_type IS NULL) AS unknown`
}

export const ADD_MEMBERS_LOGGED = { name: 'floor_add_members_logged', text: addMembersText(true) }
export const ADD_MEMBERS_BARE = { name: 'floor_add_members', text: addMembersText(false) }

export function membershipEventValues(tenantId: string, groupId: string, origin: EventOrigin): unknown[] {
  return [tenantId, groupId, 'token', origin.actorId, origin.actorLabel, origin.clientKind, origin.requestId, 'membership.added']
}

/**
 * /Bulk's baseline: every user of the request in one multi-row INSERT (arrays, so the text and its plan
 * stay the same for any number of rows), a userName already taken skipped and answered 409, and one
 * `user.created` event per inserted row in the same statement. $1 tenant, $2… the columns as arrays.
 */
function insertUsersText(logged: boolean): string {
  return `WITH wanted AS (
              SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::jsonb[]) WITH ORDINALITY
                AS t(id, user_name, external_id, display_name, active, attributes, n)),
            inserted AS (
              INSERT INTO users AS r (tenant_id, id, user_name, external_id, display_name, active, attributes)
              SELECT $1, id, user_name, external_id, display_name, active, attributes FROM wanted ORDER BY n
              ON CONFLICT DO NOTHING
              RETURNING r.id, r.version, r.created, r.last_modified)${logged ? `,
            event_writer AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(${EVENT_LOCK_CLASS}, hashtext($1))),
            event_wake AS MATERIALIZED (SELECT pg_notify('${EVENT_CHANNEL}', $1)),
            event_rows AS (
              INSERT INTO events (${EVENT_COLUMNS})
              SELECT $1, 'user.created', 'User', i.id::text, 'token', $8, $9, $10, $11, NULL
              FROM event_writer, event_wake, inserted i JOIN wanted w ON w.id = i.id
              ORDER BY w.n
              RETURNING 1)` : ''}
       SELECT id, version, created, last_modified FROM inserted`
}

export const INSERT_USERS_LOGGED = { name: 'floor_insert_users_logged', text: insertUsersText(true) }
export const INSERT_USERS_BARE = { name: 'floor_insert_users', text: insertUsersText(false) }
