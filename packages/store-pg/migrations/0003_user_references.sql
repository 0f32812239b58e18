-- Every column that makes a user a member, owner or grantee refers to users (id), and at
-- most one registration invite per handle is pending (PostgreSQL).
--
-- workspace_members.user_id, workspaces.owner_user_id and resource_accesses.user_id get
-- a FOREIGN KEY to users (id) with the default ON DELETE NO ACTION, not CASCADE:
-- deleting a user already removes their memberships, accesses and personal workspace
-- explicitly (with its guards and events), so a code path that forgets one is a constraint
-- error that rolls its transaction back, not rows silently lost behind the domain's back.
-- api_keys.user_id has referred to users since 0001. The audit columns invites.created_by,
-- invites.redeemed_by and resources.created_by get no reference: they record history and
-- keep the id of a user who has since been deleted.
--
-- Rows written before this step may already refer to deleted users. They are removed first,
-- as deleting those users should have done: a personal workspace whose owner is gone goes
-- with its resources' accesses, its resources and its members, and memberships and direct
-- accesses of missing users go. A team workspace never has an owner, so a dangling
-- owner_user_id on one is cleared. Duplicate pending registration invites for one handle
-- keep the newest (latest created_at, then greatest id) and the others become canceled.
-- Then the constraints are added in place and validated against what is left.

UPDATE invites
SET status = 'canceled', canceled_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
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

ALTER TABLE workspaces ADD CONSTRAINT workspaces_owner_user_id_fkey
  FOREIGN KEY (owner_user_id) REFERENCES users (id);
ALTER TABLE workspace_members ADD CONSTRAINT workspace_members_user_id_fkey
  FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE resource_accesses ADD CONSTRAINT resource_accesses_user_id_fkey
  FOREIGN KEY (user_id) REFERENCES users (id);

CREATE UNIQUE INDEX invites_one_pending_registration ON invites (handle)
WHERE kind = 'registration' AND status = 'pending';
