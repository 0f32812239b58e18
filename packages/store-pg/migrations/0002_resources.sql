-- Resources in ordered trees (parent pointers, sibling `position`), and direct accesses (PostgreSQL).
CREATE TABLE resources (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  parent_id TEXT REFERENCES resources (id),
  position INTEGER NOT NULL,
  link_reach TEXT NOT NULL CHECK (link_reach IN ('restricted', 'workspace')),
  link_role TEXT NOT NULL CHECK (link_role IN ('reader', 'editor')),
  created_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX resources_children ON resources (parent_id, position);
CREATE INDEX resources_roots ON resources (workspace_id, parent_id, position);

CREATE TABLE resource_accesses (
  id TEXT PRIMARY KEY,
  resource_id TEXT NOT NULL REFERENCES resources (id),
  user_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('reader', 'commenter', 'editor', 'administrator', 'owner')),
  UNIQUE (resource_id, user_id)
);
CREATE INDEX resource_accesses_user ON resource_accesses (user_id);
