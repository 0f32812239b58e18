-- Share links: a bearer secret (only its SHA-256 digest is kept) granting one role on a
-- resource and its subtree. At most one link per resource is active, held by a partial
-- unique index rather than a check in code, so two concurrent creations cannot both win.
-- A disabled or rotated link keeps its row (disabled_at set) as history; created_by is an
-- audit column like invites.created_by and keeps the id of a user who has since gone.
CREATE TABLE share_links (
  id TEXT PRIMARY KEY,
  resource_id TEXT NOT NULL REFERENCES resources (id),
  digest TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('reader', 'editor')),
  created_at TEXT NOT NULL,
  created_by TEXT,
  disabled_at TEXT
);
CREATE UNIQUE INDEX share_links_one_active ON share_links (resource_id) WHERE disabled_at IS NULL;
CREATE INDEX share_links_resource ON share_links (resource_id);

-- The revocation cascade and the doctor find pending invites by resource.
CREATE INDEX invites_pending_resource ON invites (resource_id) WHERE status = 'pending';
