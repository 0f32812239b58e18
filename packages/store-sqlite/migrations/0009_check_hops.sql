-- The permission check's walk skips the nodes that cannot change a role (docs/performance.md,
-- "Hops"). hop_id is a strict ancestor such that every node strictly between the two is plain:
-- not a root, not revoked, not shared with the workspace, without may_have_accesses and not a
-- waypoint. NULL means the parent. Every write that makes a node not plain (an access, a
-- revocation, a workspace share, a move) rewrites the hops that skipped it, in its own transaction
-- (store-sql resources.ts); the doctor proves the rule (hop_skips_a_node, docs/doctor.md).
--
-- waypoint is set on a node the first time it moves, and never cleared: hops stop at it, so a
-- later move of it rewrites its own hop only, never its subtree's.
ALTER TABLE resources ADD COLUMN hop_id TEXT;
ALTER TABLE resources ADD COLUMN waypoint INTEGER NOT NULL DEFAULT 0 CHECK (waypoint IN (0, 1));

-- Each node's hop from its roots down: its parent when the parent is not plain, else the parent's own hop.
WITH RECURSIVE h (id, hop, next) AS (
  SELECT id, CAST(NULL AS TEXT), id FROM resources WHERE parent_id IS NULL
  UNION ALL
  SELECT r.id, h.next,
         CASE WHEN r.revoked_at IS NOT NULL OR r.may_have_accesses OR r.link_reach = 'workspace' OR r.waypoint THEN r.id ELSE h.next END
  FROM resources r JOIN h ON r.parent_id = h.id
)
UPDATE resources SET hop_id = h.hop FROM h WHERE resources.id = h.id AND h.hop IS NOT NULL;

DROP INDEX resources_walk;
CREATE INDEX resources_walk ON resources (id, parent_id, hop_id, revoked_at, link_reach, link_role, workspace_id, may_have_accesses);

-- An access written on a plain node makes it not plain. The store flags the node and rewrites the
-- hops that skipped it before it writes the access; an access written any other way (by hand, or
-- by a path that forgets) finds the node unflagged, and then every hop in its workspace is cleared
-- (NULL: the walk steps to each parent), so the check still sees the access. SQLite runs no
-- recursive query in a trigger, hence the whole workspace; RECOMPUTE_HOPS (docs/doctor.md) brings
-- the hops back.
DROP TRIGGER resource_accesses_note;
DROP TRIGGER resource_accesses_note_moved;
CREATE TRIGGER resource_accesses_note AFTER INSERT ON resource_accesses
  BEGIN
    UPDATE resources SET hop_id = NULL
      WHERE workspace_id = (SELECT n.workspace_id FROM resources n WHERE n.id = NEW.resource_id AND NOT n.may_have_accesses
                              AND n.parent_id IS NOT NULL AND n.revoked_at IS NULL AND n.link_reach <> 'workspace' AND NOT n.waypoint)
        AND hop_id IS NOT NULL
    ; UPDATE resources SET may_have_accesses = 1 WHERE id = NEW.resource_id AND may_have_accesses = 0
    ; END;
CREATE TRIGGER resource_accesses_note_moved AFTER UPDATE OF resource_id ON resource_accesses
  BEGIN
    UPDATE resources SET hop_id = NULL
      WHERE workspace_id = (SELECT n.workspace_id FROM resources n WHERE n.id = NEW.resource_id AND NOT n.may_have_accesses
                              AND n.parent_id IS NOT NULL AND n.revoked_at IS NULL AND n.link_reach <> 'workspace' AND NOT n.waypoint)
        AND hop_id IS NOT NULL
    ; UPDATE resources SET may_have_accesses = 1 WHERE id = NEW.resource_id AND may_have_accesses = 0
    ; END;
