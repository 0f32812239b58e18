-- Every list pages by keyset (docs/http.md, "Paging parameters"): a page is the first rows after the
-- previous page's last key, in the list's order. These indexes hold each list in its order,
-- so a page reads its rows from an index and stops, instead of sorting the whole table (PostgreSQL).
--
-- invites: (created_at, id) for a system admin's list, and the same order within the rows of
-- one minter, one stored status, one workspace or one resource (the last three replace the
-- single-column indexes, which the other lookups use through the leading column).
CREATE INDEX invites_created ON invites (created_at, id);
DROP INDEX invites_status;
CREATE INDEX invites_status_created ON invites (status, created_at, id);
CREATE INDEX invites_created_by ON invites (created_by, created_at, id);
DROP INDEX invites_workspace;
CREATE INDEX invites_workspace_created ON invites (workspace_id, created_at, id);
DROP INDEX invites_resource;
CREATE INDEX invites_resource_created ON invites (resource_id, created_at, id);

-- children: sibling order (position, id) under a parent; replaces (parent_id, position).
DROP INDEX resources_children;
CREATE INDEX resources_siblings ON resources (parent_id, position, id);
-- roots: the same order among a workspace's resources without a parent.
CREATE INDEX resources_root_siblings ON resources (workspace_id, position, id) WHERE parent_id IS NULL;

-- accesses: access id order among one resource's direct accesses.
CREATE INDEX resource_accesses_resource ON resource_accesses (resource_id, id);
