import type pg from 'pg'
import type { Progress } from './progress.ts'

// Seeding goes straight into PostgreSQL as the superuser (row-level security
// does not apply): multi-row INSERT … SELECT generate_series, in chunks so
// progress can be shown. Users are numbered 1…n; user i is
// `user<i>@example.com` with externalId `ext-<i>`.

export const userName = (prefix: string, i: number): string => `${prefix}${i}@example.com`
export const externalId = (prefix: string, i: number): string => `ext-${prefix}${i}`

const USER_ROWS_SQL = `
  INSERT INTO users (tenant_id, id, user_name, external_id, display_name, active, attributes)
  SELECT $1, gen_random_uuid(), $4 || i || '@example.com', 'ext-' || $4 || i, 'User ' || i, true,
         jsonb_build_object(
           'userName', $4 || i || '@example.com',
           'externalId', 'ext-' || $4 || i,
           'displayName', 'User ' || i,
           'active', true,
           'name', jsonb_build_object('givenName', 'User', 'familyName', 'Number ' || i),
           'emails', jsonb_build_array(jsonb_build_object('value', $4 || i || '@example.com', 'type', 'work', 'primary', true)))
  FROM generate_series($2::int, $3::int) AS i`

export async function seedUsers(pool: pg.Pool, tenantId: string, count: number, progress: Progress, prefix = 'user', chunk = 50_000): Promise<void> {
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1)
    await pool.query(USER_ROWS_SQL, [tenantId, from, to, prefix])
    progress.count(`seeding ${tenantId} users`, to, count)
  }
}

/** A group whose members are the tenant's first `members` users (by insertion order); returns its id. */
export async function seedGroup(pool: pg.Pool, tenantId: string, displayName: string, members: number): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO groups (tenant_id, id, display_name, external_id, attributes)
     VALUES ($1, gen_random_uuid(), $2, $2, jsonb_build_object('displayName', $2::text, 'externalId', $2::text)) RETURNING id`,
    [tenantId, displayName],
  )
  const groupId = rows[0]!.id
  await pool.query(
    `INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
     SELECT $1, $2, id, 'User' FROM users WHERE tenant_id = $1 ORDER BY seq LIMIT $3`,
    [tenantId, groupId, members],
  )
  return groupId
}

/** Ids of users `from`…`to` (1-based insertion order) of a tenant. */
export async function userIds(pool: pg.Pool, tenantId: string, from: number, to: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 ORDER BY seq OFFSET $2 LIMIT $3', [tenantId, from - 1, to - from + 1])
  return rows.map((r) => r.id)
}

export async function analyze(pool: pg.Pool): Promise<void> {
  await pool.query('VACUUM ANALYZE users')
  await pool.query('VACUUM ANALYZE groups')
  await pool.query('VACUUM ANALYZE group_members')
}
