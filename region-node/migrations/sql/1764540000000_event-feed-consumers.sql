-- Up Migration

-- The change feed's consumers keep their cursors themselves; the node records
-- where each one reads from, so operators can see how far behind it is
-- (docs/runbook.md#scimgateeventfeedconsumerlagging). A consumer is the
-- credential that reads plus an optional name it gives
-- (region-node/events/feed-consumer.ts). The registry is region-wide and
-- holds no tenant data; its size is capped by the node.
CREATE TABLE event_feed_consumers (
  consumer   text        NOT NULL PRIMARY KEY,
  registered timestamptz NOT NULL DEFAULT now()
);

-- One row per consumer and tenant: the cursor of its last read (what it has
-- processed) and when. Deleting a consumer forgets its positions.
CREATE TABLE event_feed_positions (
  tenant_id text        NOT NULL,
  consumer  text        NOT NULL REFERENCES event_feed_consumers (consumer) ON DELETE CASCADE,
  after_seq bigint      NOT NULL,
  read_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, consumer)
);
-- after_seq and read_at stay out of every index: a read rewrites its row in place (HOT).
CREATE INDEX event_feed_positions_consumer_idx ON event_feed_positions (consumer);

ALTER TABLE event_feed_positions ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_feed_positions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON event_feed_positions
  USING (tenant_id = current_setting('scimgate.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('scimgate.tenant_id', true));

GRANT SELECT, INSERT ON event_feed_consumers TO scimgate_app;
GRANT SELECT, INSERT, UPDATE ON event_feed_positions TO scimgate_app;

-- The lag report and the forgetting of idle consumers look across tenants,
-- which the node's role cannot: these functions run as the table owner (the
-- migration role), for whom these policies let through positions and the
-- event times the report needs.
DO $$
BEGIN
  EXECUTE format('CREATE POLICY feed_lag_read ON event_feed_positions FOR SELECT TO %I USING (true)', current_user);
  EXECUTE format('CREATE POLICY feed_lag_read ON events FOR SELECT TO %I USING (true)', current_user);
END
$$;

-- Per consumer: the age of the oldest event it has not read yet in any tenant
-- (0 when caught up everywhere) and its last read. One primary-key probe of
-- events per position; no scan of the log.
CREATE FUNCTION scimgate_event_feed_lag() RETURNS TABLE (consumer text, lag_seconds double precision, last_read timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT p.consumer,
         coalesce(max(extract(epoch FROM now() - oldest.time)), 0)::double precision,
         max(p.read_at)
  FROM public.event_feed_positions p
  LEFT JOIN LATERAL (
    SELECT e.time FROM public.events e
    WHERE e.tenant_id = p.tenant_id AND e.seq > p.after_seq
    ORDER BY e.seq
    LIMIT 1
  ) oldest ON true
  GROUP BY p.consumer
$$;
REVOKE ALL ON FUNCTION scimgate_event_feed_lag() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scimgate_event_feed_lag() TO scimgate_app;

-- Consumers that read nothing since `cutoff` (the retention horizon: the
-- events they would read next are gone) free their place under the cap.
CREATE FUNCTION scimgate_forget_idle_feed_consumers(cutoff timestamptz) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  WITH forgotten AS (
    DELETE FROM public.event_feed_consumers c
    WHERE c.registered < cutoff
      AND NOT EXISTS (SELECT 1 FROM public.event_feed_positions p WHERE p.consumer = c.consumer AND p.read_at >= cutoff)
    RETURNING 1
  )
  SELECT count(*)::integer FROM forgotten
$$;
REVOKE ALL ON FUNCTION scimgate_forget_idle_feed_consumers(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scimgate_forget_idle_feed_consumers(timestamptz) TO scimgate_app;

-- The retention function (migration events-roles) locks the rows it deletes
-- (FOR UPDATE SKIP LOCKED), which row security allows only through an UPDATE
-- policy: without one, a table owner that is not a superuser purged nothing.
-- This one lets it lock what it may delete, and change nothing.
DO $$
BEGIN
  EXECUTE format('CREATE POLICY event_retention_lock ON events FOR UPDATE TO %I USING (time < now() - interval ''1 day'') WITH CHECK (false)', current_user);
END
$$;

-- Down Migration
DROP POLICY event_retention_lock ON events;
DROP FUNCTION scimgate_forget_idle_feed_consumers(timestamptz);
DROP FUNCTION scimgate_event_feed_lag();
DROP POLICY feed_lag_read ON events;
DROP TABLE event_feed_positions;
DROP TABLE event_feed_consumers;
