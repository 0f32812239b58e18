-- Identity, personal workspaces and the event log (PostgreSQL).
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  handle TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  sign_pub TEXT UNIQUE,
  kex_pub TEXT UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  digest TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE invites (
  id TEXT PRIMARY KEY,
  digest TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('registration', 'grant')),
  status TEXT NOT NULL CHECK (status IN ('pending', 'redeemed', 'canceled', 'expired')),
  handle TEXT,
  role TEXT CHECK (role IN ('admin', 'member')),
  workspace_id TEXT,
  workspace_role TEXT CHECK (workspace_role IN ('admin', 'member')),
  resource_id TEXT,
  resource_role TEXT CHECK (resource_role IN ('reader', 'commenter', 'editor', 'administrator', 'owner')),
  expires_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT,
  redeemed_at TEXT,
  redeemed_by TEXT,
  redeemed_sign_pub TEXT,
  redeemed_kex_pub TEXT,
  canceled_at TEXT
);
CREATE INDEX invites_status ON invites (status);
CREATE INDEX invites_handle ON invites (handle);
CREATE INDEX invites_workspace ON invites (workspace_id);
CREATE INDEX invites_resource ON invites (resource_id);

CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  about TEXT NOT NULL DEFAULT '',
  custom_instructions TEXT NOT NULL DEFAULT '',
  bundles TEXT NOT NULL DEFAULT '[]',
  is_personal INTEGER NOT NULL CHECK (is_personal IN (0, 1)),
  owner_user_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
-- Only personal workspaces have an owner, so this is one personal workspace per user.
CREATE UNIQUE INDEX workspaces_one_personal ON workspaces (owner_user_id);

CREATE TABLE workspace_members (
  workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members (user_id);

CREATE TABLE events (
  seq BIGINT PRIMARY KEY,
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  workspace_id TEXT,
  resource_id TEXT,
  data TEXT NOT NULL
);
CREATE INDEX events_workspace ON events (workspace_id, seq);

CREATE TABLE event_counter (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq BIGINT NOT NULL
);
INSERT INTO event_counter (id, last_seq) VALUES (1, 0);
