-- Up Migration

-- How far the retention purge has deleted each tenant's log: the position of
-- the last event (highest seq, and for a membership row its last member) it
-- deleted. A feed cursor before this mark would silently skip deleted events,
-- so the feed refuses it (410, region-node/services/events-service.ts). seq
-- values are drawn region-wide, so a gap in a tenant's seqs proves nothing:
-- the mark is written by the purge itself, in the same statement as the
-- deletes, and read by the feed in the same statement as the page.
CREATE TABLE event_purge_marks (
  tenant_id  text        NOT NULL PRIMARY KEY,
  purged_seq bigint      NOT NULL,
  purged_pos integer     NOT NULL,
  purged_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE event_purge_marks ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_purge_marks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON event_purge_marks
  USING (tenant_id = current_setting('scimgate.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('scimgate.tenant_id', true));
-- The node reads its tenant's mark; only the purge (below) writes marks.
GRANT SELECT ON event_purge_marks TO scimgate_app;

-- The purge runs as the table owner across tenants (migration events-roles).
DO $$
BEGIN
  EXECUTE format('CREATE POLICY event_retention_mark ON event_purge_marks TO %I USING (true) WITH CHECK (true)', current_user);
END
$$;

-- As in the migration events-roles, plus the marks: the highest position
-- deleted per tenant, raised (never lowered) by concurrent purges of several nodes.
CREATE OR REPLACE FUNCTION scimgate_purge_events(cutoff timestamptz, batch_size integer) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  WITH doomed AS (
    SELECT tenant_id, seq FROM public.events
    WHERE time < least(cutoff, now() - interval '1 day')
    ORDER BY time
    LIMIT least(batch_size, 10000)
    FOR UPDATE SKIP LOCKED
  ), deleted AS (
    DELETE FROM public.events e USING doomed d WHERE e.tenant_id = d.tenant_id AND e.seq = d.seq
    RETURNING e.tenant_id, e.seq, coalesce(e.member_count, 0) AS last_pos
  ), marked AS (
    INSERT INTO public.event_purge_marks AS m (tenant_id, purged_seq, purged_pos)
    SELECT DISTINCT ON (tenant_id) tenant_id, seq, last_pos FROM deleted ORDER BY tenant_id, seq DESC
    ON CONFLICT (tenant_id) DO UPDATE SET purged_seq = excluded.purged_seq, purged_pos = excluded.purged_pos, purged_at = now()
    WHERE (m.purged_seq, m.purged_pos) < (excluded.purged_seq, excluded.purged_pos)
    RETURNING 1
  )
  SELECT count(*)::integer FROM deleted
$$;

-- An admin forgets a feed consumer in the request's tenant (its position
-- there); a consumer left with no position in any tenant leaves the region's
-- registry too, freeing its place under EVENT_FEED_MAX_CONSUMERS. Looking at
-- other tenants' positions needs the owner's policy feed_lag_read.
CREATE FUNCTION scimgate_forget_feed_consumer(name text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  WITH forgotten AS (
    DELETE FROM public.event_feed_positions p
    WHERE p.tenant_id = current_setting('scimgate.tenant_id', true) AND p.consumer = name
    RETURNING p.consumer
  ), unregistered AS (
    DELETE FROM public.event_feed_consumers c
    WHERE c.consumer IN (SELECT consumer FROM forgotten)
      AND NOT EXISTS (
        SELECT 1 FROM public.event_feed_positions o
        WHERE o.consumer = c.consumer AND o.tenant_id <> current_setting('scimgate.tenant_id', true)
      )
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM forgotten)
$$;
REVOKE ALL ON FUNCTION scimgate_forget_feed_consumer(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scimgate_forget_feed_consumer(text) TO scimgate_app;

-- Down Migration
DROP FUNCTION scimgate_forget_feed_consumer(text);
CREATE OR REPLACE FUNCTION scimgate_purge_events(cutoff timestamptz, batch_size integer) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  WITH doomed AS (
    SELECT tenant_id, seq FROM public.events
    WHERE time < least(cutoff, now() - interval '1 day')
    ORDER BY time
    LIMIT least(batch_size, 10000)
    FOR UPDATE SKIP LOCKED
  ), deleted AS (
    DELETE FROM public.events e USING doomed d WHERE e.tenant_id = d.tenant_id AND e.seq = d.seq RETURNING 1
  )
  SELECT count(*)::integer FROM deleted
$$;
DROP TABLE event_purge_marks;
