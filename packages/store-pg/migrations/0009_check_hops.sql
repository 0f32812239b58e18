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
ALTER TABLE resources ADD COLUMN waypoint BOOLEAN NOT NULL DEFAULT FALSE;

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
CREATE INDEX resources_walk ON resources (id COLLATE "C") INCLUDE (parent_id, hop_id, revoked_at, link_reach, link_role, workspace_id, may_have_accesses);

-- An access written on a plain node makes it not plain. The store flags the node and rewrites the
-- hops that skipped it before it writes the access; an access written any other way (by hand, or
-- by a path that forgets) finds the node unflagged, and the trigger rewrites those hops itself, as
-- the store does (the nodes reached from it down through plain nodes now stop at it).
CREATE OR REPLACE FUNCTION tessera_note_access() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM resources n WHERE n.id = NEW.resource_id AND NOT n.may_have_accesses
               AND n.parent_id IS NOT NULL AND n.revoked_at IS NULL AND n.link_reach <> 'workspace' AND NOT n.waypoint) THEN
    WITH RECURSIVE region (id, open, depth) AS (
      SELECT c.id, NOT (c.revoked_at IS NOT NULL OR c.may_have_accesses OR c.link_reach = 'workspace' OR c.waypoint), 1
      FROM resources c WHERE c.parent_id = NEW.resource_id
      UNION ALL
      SELECT c.id, NOT (c.revoked_at IS NOT NULL OR c.may_have_accesses OR c.link_reach = 'workspace' OR c.waypoint), g.depth + 1
      FROM resources c JOIN region g ON c.parent_id = g.id WHERE g.open AND g.depth < 10000
    )
    UPDATE resources SET hop_id = NEW.resource_id WHERE id IN (SELECT id FROM region) AND hop_id IS DISTINCT FROM NEW.resource_id
  ; END IF
  ; UPDATE resources SET may_have_accesses = TRUE WHERE id = NEW.resource_id AND NOT may_have_accesses
  ; RETURN NULL
; END
$$;
