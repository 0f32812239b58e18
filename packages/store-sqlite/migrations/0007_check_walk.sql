-- The permission check walks a resource's path one parent at a time (docs/performance.md,
-- "The check path"). Two things make each step cheaper (SQLite):
--
-- resources_walk holds every column a step reads beside the id it looks up, so a step reads
-- one index and not the table's row as well.
--
-- may_have_accesses is set when a direct access is written on the resource (the triggers below,
-- whatever writes it) and never cleared, so it may be 1 with no access left but never 0 with
-- one: a step probes resource_accesses only where it is 1, and most nodes of a deep path have no
-- direct access. It is set in the transaction that writes the access. Never cleared: a stale 1
-- costs one probe.
ALTER TABLE resources ADD COLUMN may_have_accesses INTEGER NOT NULL DEFAULT 0 CHECK (may_have_accesses IN (0, 1));
UPDATE resources SET may_have_accesses = 1 WHERE id IN (SELECT resource_id FROM resource_accesses);

CREATE TRIGGER resource_accesses_note AFTER INSERT ON resource_accesses
  BEGIN UPDATE resources SET may_have_accesses = 1 WHERE id = NEW.resource_id AND may_have_accesses = 0; END;
CREATE TRIGGER resource_accesses_note_moved AFTER UPDATE OF resource_id ON resource_accesses
  BEGIN UPDATE resources SET may_have_accesses = 1 WHERE id = NEW.resource_id AND may_have_accesses = 0; END;

CREATE INDEX resources_walk ON resources (id, parent_id, revoked_at, link_reach, link_role, workspace_id, may_have_accesses);
