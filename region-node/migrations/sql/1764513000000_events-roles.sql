-- Up Migration

-- Per-tenant settings: the role catalog (NULL = the seed catalog, so new
-- tenants need no row) and the roles of active users in no group.
CREATE TABLE tenant_settings (
  tenant_id     text        NOT NULL PRIMARY KEY,
  roles         text[],
  default_roles text[]      NOT NULL DEFAULT '{}',
  updated       timestamptz NOT NULL DEFAULT now()
);

-- One event log per region database. `seq` is the feed's order: a reader of
-- the feed takes the tenant's advisory lock exclusively, every writer takes it
-- shared before drawing its seq values (region-node/storage/events-store.ts),
-- so a feed reader never passes a seq that a transaction still in flight holds.
CREATE TABLE events (
  tenant_id     text        NOT NULL,
  seq           bigint      GENERATED ALWAYS AS IDENTITY,
  id            uuid        NOT NULL DEFAULT gen_random_uuid(),
  time          timestamptz NOT NULL DEFAULT now(),
  type          text        NOT NULL,
  resource_type text        NOT NULL,
  resource_id   text        NOT NULL,
  actor_type    text        NOT NULL CHECK (actor_type IN ('token', 'admin', 'system')),
  actor_id      text,
  actor_label   text,
  client_kind   text,
  request_id    text,
  data          jsonb,
  -- the producer's id for events recorded from outside a node transaction
  -- (token events from the gateway): delivered at least once, stored once
  source_id     text,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX events_tenant_resource_idx ON events (tenant_id, resource_id, seq);
CREATE UNIQUE INDEX events_tenant_source_key ON events (tenant_id, source_id) WHERE source_id IS NOT NULL;
-- Retention deletes by time; rows arrive in time order, so a BRIN index costs next to nothing on insert.
CREATE INDEX events_time_brin ON events USING brin (time);

ALTER TABLE tenant_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_settings FORCE ROW LEVEL SECURITY;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON tenant_settings
  USING (tenant_id = current_setting('scimgate.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('scimgate.tenant_id', true));
CREATE POLICY tenant_isolation ON events
  USING (tenant_id = current_setting('scimgate.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('scimgate.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_settings TO scimgate_app;
-- The log is append-only for the node: no UPDATE, and DELETE only through the retention function below.
GRANT SELECT, INSERT ON events TO scimgate_app;

-- Retention runs across tenants, which the node's role cannot do: this
-- function runs as the table owner (the migration role), for whom a policy
-- lets through rows older than a day and nothing else.
DO $$
BEGIN
  EXECUTE format('CREATE POLICY event_retention_read ON events FOR SELECT TO %I USING (time < now() - interval ''1 day'')', current_user);
  EXECUTE format('CREATE POLICY event_retention_delete ON events FOR DELETE TO %I USING (time < now() - interval ''1 day'')', current_user);
END
$$;

CREATE FUNCTION scimgate_purge_events(cutoff timestamptz, batch_size integer) RETURNS integer
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
REVOKE ALL ON FUNCTION scimgate_purge_events(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scimgate_purge_events(timestamptz, integer) TO scimgate_app;

-- Down Migration
DROP FUNCTION scimgate_purge_events(timestamptz, integer);
DROP TABLE events;
DROP TABLE tenant_settings;
