-- Up Migration

-- A membership statement (a PATCH adding 10,000 members, say) stores ONE row
-- in the log holding the members it added or removed, in member-id order,
-- instead of one row per member: each row and its index entries cost as much
-- as the membership row itself. The feed and the audit trail expand such a
-- row into one event per member when they read it (region-node/storage/events-store.ts);
-- an event's position is then (seq, pos): pos 0 for an ordinary row, 1..n
-- for the members of a membership row.
-- member_count is cardinality(member_ids), kept so that the lag report and
-- the audit trail (newest first: a row's last members) know a row's size
-- without reading its array; member_types is NULL
-- when every member is a User (the common case), else the type of each
-- member, parallel to member_ids.
-- Random uuids do not compress: stored out of line without trying.
ALTER TABLE events
  ADD COLUMN member_ids   uuid[],
  ADD COLUMN member_types text[],
  ADD COLUMN member_count integer,
  ALTER COLUMN member_ids SET STORAGE EXTERNAL;

-- A consumer's position may now lie inside a membership row.
ALTER TABLE event_feed_positions ADD COLUMN after_pos integer NOT NULL DEFAULT 0;

-- As in the event-feed-consumers migration; the oldest unread event may be
-- the rest of the membership row the consumer is inside.
CREATE OR REPLACE FUNCTION scimgate_event_feed_lag() RETURNS TABLE (consumer text, lag_seconds double precision, last_read timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT p.consumer,
         coalesce(max(extract(epoch FROM now() - oldest.time)), 0)::double precision,
         max(p.read_at)
  FROM public.event_feed_positions p
  LEFT JOIN LATERAL (
    SELECT e.time FROM public.events e
    WHERE e.tenant_id = p.tenant_id AND e.seq >= p.after_seq
      AND (e.seq > p.after_seq OR e.member_count > p.after_pos)
    ORDER BY e.seq
    LIMIT 1
  ) oldest ON true
  GROUP BY p.consumer
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION scimgate_event_feed_lag() RETURNS TABLE (consumer text, lag_seconds double precision, last_read timestamptz)
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
ALTER TABLE event_feed_positions DROP COLUMN after_pos;
-- Membership rows stored since the Up keep their type and group but lose their members.
ALTER TABLE events DROP COLUMN member_count, DROP COLUMN member_types, DROP COLUMN member_ids;
