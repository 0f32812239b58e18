-- The permission check walks a resource's path one parent at a time (docs/performance.md,
-- "The check path"). Two things make each step cheaper (PostgreSQL):
--
-- resources_walk holds every column a step reads beside the id it looks up, so a step is an
-- index-only scan of one index (on pages the visibility map shows all-visible, which vacuum keeps).
-- Its ids are ordered bytewise (COLLATE "C", which the walk names): ids are compared for
-- equality only, which every deterministic collation decides bytewise anyway, and a step's
-- descent then never calls the database's collation (a third of the walk at depth 32 under
-- an ICU en-US collation, a tenth under C.UTF-8).
--
-- may_have_accesses is set when a direct access is written on the resource (the trigger below,
-- whatever writes it) and never cleared, so it may be true with no access left but never false
-- with one: a step probes resource_accesses only where it is true, and most nodes of a deep path
-- have no direct access. It is set in the transaction that writes the access, so any snapshot
-- that sees the access sees it set. Never cleared: clearing it when the last access goes would
-- race with a concurrent first access, and a stale true costs one probe.
ALTER TABLE resources ADD COLUMN may_have_accesses BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE resources SET may_have_accesses = TRUE WHERE id IN (SELECT resource_id FROM resource_accesses);

-- (The migrator splits a file at each semicolon that ends a line, so inside the body none does.)
CREATE FUNCTION tessera_note_access() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN UPDATE resources SET may_have_accesses = TRUE WHERE id = NEW.resource_id AND NOT may_have_accesses; RETURN NULL
; END
$$;
CREATE TRIGGER resource_accesses_note AFTER INSERT OR UPDATE OF resource_id ON resource_accesses
  FOR EACH ROW EXECUTE FUNCTION tessera_note_access();

CREATE INDEX resources_walk ON resources (id COLLATE "C") INCLUDE (parent_id, revoked_at, link_reach, link_role, workspace_id, may_have_accesses);
