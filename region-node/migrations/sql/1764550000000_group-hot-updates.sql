-- Up Migration

-- A membership change bumps the group's version and last_modified (its ETag and
-- meta.lastModified). With last_modified indexed, every such bump was a non-HOT
-- update: a new index entry in every index of the table and a dead row per PATCH.
-- Without that index no indexed column changes, and PostgreSQL updates the row
-- in place on its page (HOT); free room on each page lets that happen.
-- A Groups filter on meta.lastModified is still served by the tenant's range of
-- the primary key (tenant_id leads it): a scan of one tenant's groups, never
-- the whole table.
DROP INDEX groups_tenant_last_modified_idx;
ALTER TABLE groups SET (fillfactor = 70);

-- Down Migration
ALTER TABLE groups RESET (fillfactor);
CREATE INDEX groups_tenant_last_modified_idx ON groups (tenant_id, last_modified);
