-- Up Migration

-- Row-level security is the second wall between tenants (the first is the
-- tenant_id every store query names). Superusers bypass RLS, so the node
-- switches every connection to this unprivileged role. Roles are cluster-wide:
-- several region databases on one server share it, and may race to create it.
DO $$
BEGIN
  CREATE ROLE scimgate_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
DO $$
BEGIN
  EXECUTE format('GRANT scimgate_app TO %I', current_user);
EXCEPTION WHEN duplicate_object OR unique_violation OR invalid_grant_operation THEN
  NULL;
END
$$;

CREATE TABLE users (
  tenant_id     text        NOT NULL,
  id            uuid        NOT NULL,
  -- insertion order: the stable default order for paging and the keyset tie-breaker
  seq           bigint      GENERATED ALWAYS AS IDENTITY,
  user_name     text        NOT NULL,
  -- lower() is not LEAKPROOF, so under row-level security PostgreSQL will not
  -- use an index on the expression lower(user_name); a stored column it will.
  user_name_lower text      GENERATED ALWAYS AS (lower(user_name)) STORED,
  external_id   text,
  display_name  text,
  active        boolean     NOT NULL DEFAULT true,
  -- every other attribute, in SCIM wire shape (extensions under their URN)
  attributes    jsonb       NOT NULL,
  version       integer     NOT NULL DEFAULT 1,
  created       timestamptz NOT NULL DEFAULT now(),
  last_modified timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- RFC 7643 §4.1.1: userName is unique per tenant, case-insensitively
CREATE UNIQUE INDEX users_tenant_user_name_key ON users (tenant_id, user_name_lower);
CREATE INDEX users_tenant_external_id_idx ON users (tenant_id, external_id);
CREATE UNIQUE INDEX users_tenant_seq_idx ON users (tenant_id, seq);
CREATE INDEX users_tenant_last_modified_idx ON users (tenant_id, last_modified);

CREATE TABLE groups (
  tenant_id     text        NOT NULL,
  id            uuid        NOT NULL,
  seq           bigint      GENERATED ALWAYS AS IDENTITY,
  display_name  text        NOT NULL,
  display_name_lower text   GENERATED ALWAYS AS (lower(display_name)) STORED,
  external_id   text,
  attributes    jsonb       NOT NULL,
  version       integer     NOT NULL DEFAULT 1,
  created       timestamptz NOT NULL DEFAULT now(),
  last_modified timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX groups_tenant_display_name_idx ON groups (tenant_id, display_name_lower);
CREATE INDEX groups_tenant_external_id_idx ON groups (tenant_id, external_id);
CREATE UNIQUE INDEX groups_tenant_seq_idx ON groups (tenant_id, seq);
CREATE INDEX groups_tenant_last_modified_idx ON groups (tenant_id, last_modified);

-- Membership as rows, indexed both ways, so adding or removing one member
-- costs the same in a group of ten as in a group of a hundred thousand.
CREATE TABLE group_members (
  tenant_id   text NOT NULL,
  group_id    uuid NOT NULL,
  member_id   uuid NOT NULL,
  member_type text NOT NULL CHECK (member_type IN ('User', 'Group')),
  PRIMARY KEY (tenant_id, group_id, member_id),
  FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_tenant_member_idx ON group_members (tenant_id, member_id);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE groups FORCE ROW LEVEL SECURITY;
ALTER TABLE group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE group_members FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON users
  USING (tenant_id = current_setting('scimgate.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('scimgate.tenant_id', true));
CREATE POLICY tenant_isolation ON groups
  USING (tenant_id = current_setting('scimgate.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('scimgate.tenant_id', true));
CREATE POLICY tenant_isolation ON group_members
  USING (tenant_id = current_setting('scimgate.tenant_id', true))
  WITH CHECK (tenant_id = current_setting('scimgate.tenant_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON users, groups, group_members TO scimgate_app;

-- Down Migration
DROP TABLE group_members;
DROP TABLE groups;
DROP TABLE users;
