// The event log laid out as in production: its tables and SECURITY DEFINER functions belong to a role that is
// not a superuser (row security then applies to it too), as on a managed PostgreSQL.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { Test } from 'tap'
import { POSTGRES_URL } from './test-database.ts'

export interface EventLogOwner {
  readonly name: string
  /** Hands the log's tables, functions and policies to the owner, through a superuser connection to the node's database. */
  takeOver(superuser: pg.Client): Promise<void>
}

/**
 * A new owner role. Call it before starting the node: roles are cluster-wide and must be dropped after the node's
 * database, and teardowns run in reverse order.
 */
export function eventLogOwner(t: Test, label: string): EventLogOwner {
  const name = `scimgate_test_${label}_owner_${randomBytes(4).toString('hex')}`
  t.teardown(async () => {
    const server = new pg.Client({ connectionString: POSTGRES_URL })
    await server.connect()
    await server.query(`DROP ROLE IF EXISTS ${name}`)
    await server.end()
  })
  return {
    name,
    async takeOver(superuser) {
      for (const statement of [
        `CREATE ROLE ${name} NOLOGIN`,
        ...['events', 'event_feed_consumers', 'event_feed_positions', 'event_purge_marks'].map((table) => `ALTER TABLE ${table} OWNER TO ${name}`),
        `ALTER FUNCTION scimgate_purge_events(timestamptz, integer) OWNER TO ${name}`,
        `ALTER FUNCTION scimgate_event_feed_lag() OWNER TO ${name}`,
        `ALTER FUNCTION scimgate_forget_idle_feed_consumers(timestamptz) OWNER TO ${name}`,
        `ALTER FUNCTION scimgate_forget_feed_consumer(text) OWNER TO ${name}`,
        ...['event_retention_read', 'event_retention_delete', 'event_retention_lock', 'feed_lag_read'].map((policy) => `ALTER POLICY ${policy} ON events TO ${name}`),
        `ALTER POLICY feed_lag_read ON event_feed_positions TO ${name}`,
        `ALTER POLICY event_retention_mark ON event_purge_marks TO ${name}`,
      ]) {
        await superuser.query(statement)
      }
    },
  }
}
