-- Every column that makes a user a member, owner or grantee refers to users (id), and at
-- most one registration invite per handle is pending (SQLite).
--
-- workspace_members.user_id, workspaces.owner_user_id and resource_accesses.user_id get
-- REFERENCES users (id) with the default ON DELETE NO ACTION, not CASCADE: deleting a user
-- already removes their memberships, accesses and personal workspace explicitly (with its
-- guards and events), so a code path that forgets one is a constraint error that rolls its
-- transaction back, not rows silently lost behind the domain's back. api_keys.user_id has
-- referred to users since 0001. The audit columns invites.created_by, invites.redeemed_by and
-- resources.created_by get no reference: they record history and keep the id of a user who
-- has since been deleted.
--
-- Rows written before this step may already refer to deleted users. They are removed first,
-- as deleting those users should have done: a personal workspace whose owner is gone goes
-- with its resources' accesses, its resources and its members, and memberships and direct
-- accesses of missing users go. A team workspace never has an owner, so a dangling
-- owner_user_id on one is cleared. Duplicate pending registration invites for one handle
-- keep the newest (latest created_at, then greatest id) and the others become canceled.
--
-- SQLite adds a constraint only by rebuilding the table: create the new table, copy, drop
-- the old one, rename the new one, recreate its indexes under their old names. The runner
-- turns foreign keys off around this step (dropping workspaces with them on would cascade to
-- every member) and runs PRAGMA foreign_key_check before commit. With foreign keys off no ON
-- DELETE action fires, so every child row is deleted explicitly below, children first.

UPDATE invites
SET status = 'canceled', canceled_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE kind = 'registration' AND status = 'pending' AND handle IS NOT NULL
  AND EXISTS (
    SELECT 1 FROM invites AS newer
    WHERE newer.kind = 'registration' AND newer.status = 'pending' AND newer.handle = invites.handle
      AND (newer.created_at > invites.created_at OR (newer.created_at = invites.created_at AND newer.id > invites.id))
  );

DELETE FROM resource_accesses
WHERE resource_id IN (
  SELECT resources.id FROM resources JOIN workspaces ON workspaces.id = resources.workspace_id
  WHERE workspaces.is_personal = 1 AND workspaces.owner_user_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = workspaces.owner_user_id)
);

DELETE FROM resources
WHERE workspace_id IN (
  SELECT id FROM workspaces
  WHERE is_personal = 1 AND owner_user_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = workspaces.owner_user_id)
);

DELETE FROM workspace_members
WHERE workspace_id IN (
  SELECT id FROM workspaces
  WHERE is_personal = 1 AND owner_user_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = workspaces.owner_user_id)
);

DELETE FROM workspaces
WHERE is_personal = 1 AND owner_user_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = workspaces.owner_user_id);

UPDATE workspaces SET owner_user_id = NULL
WHERE is_personal = 0 AND owner_user_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = workspaces.owner_user_id);

DELETE FROM workspace_members
WHERE NOT EXISTS (SELECT 1 FROM users WHERE users.id = workspace_members.user_id);

DELETE FROM resource_accesses
WHERE NOT EXISTS (SELECT 1 FROM users WHERE users.id = resource_accesses.user_id);

CREATE TABLE workspaces_new (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  about TEXT NOT NULL DEFAULT '',
  custom_instructions TEXT NOT NULL DEFAULT '',
  bundles TEXT NOT NULL DEFAULT '[]',
  is_personal INTEGER NOT NULL CHECK (is_personal IN (0, 1)),
  owner_user_id TEXT REFERENCES users (id),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO workspaces_new (id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at)
SELECT id, name, about, custom_instructions, bundles, is_personal, owner_user_id, created_at, updated_at FROM workspaces;
DROP TABLE workspaces;
ALTER TABLE workspaces_new RENAME TO workspaces;
-- Only personal workspaces have an owner, so this is one personal workspace per user.
CREATE UNIQUE INDEX workspaces_one_personal ON workspaces (owner_user_id);

CREATE TABLE workspace_members_new (
  workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id),
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  PRIMARY KEY (workspace_id, user_id)
);
INSERT INTO workspace_members_new (workspace_id, user_id, role)
SELECT workspace_id, user_id, role FROM workspace_members;
DROP TABLE workspace_members;
ALTER TABLE workspace_members_new RENAME TO workspace_members;
CREATE INDEX workspace_members_user ON workspace_members (user_id);

CREATE TABLE resource_accesses_new (
  id TEXT PRIMARY KEY,
  resource_id TEXT NOT NULL REFERENCES resources (id),
  user_id TEXT NOT NULL REFERENCES users (id),
  role TEXT NOT NULL CHECK (role IN ('reader', 'commenter', 'editor', 'administrator', 'owner')),
  UNIQUE (resource_id, user_id)
);
INSERT INTO resource_accesses_new (id, resource_id, user_id, role)
SELECT id, resource_id, user_id, role FROM resource_accesses;
DROP TABLE resource_accesses;
ALTER TABLE resource_accesses_new RENAME TO resource_accesses;
CREATE INDEX resource_accesses_user ON resource_accesses (user_id);

CREATE UNIQUE INDEX invites_one_pending_registration ON invites (handle)
WHERE kind = 'registration' AND status = 'pending';
