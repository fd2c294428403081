-- The one truth of the D1 schema. Idempotent: applied on every `npm run dev`
-- and at the start of every integration test. Times are ms since the epoch.

CREATE TABLE IF NOT EXISTS workspaces (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  plan        TEXT NOT NULL CHECK (plan IN ('free', 'pro', 'business')),
  link_quota  INTEGER,            -- operator override of the plan's quota
  created_at  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS api_keys (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
  name          TEXT NOT NULL,
  key_hash      TEXT NOT NULL UNIQUE,   -- sha256 of the key; the key itself is never stored
  prefix        TEXT NOT NULL,          -- first characters, to recognise a key in a list
  scope         TEXT NOT NULL CHECK (scope IN ('full', 'read-only')),
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER,
  revoked_at    INTEGER
);
CREATE INDEX IF NOT EXISTS api_keys_workspace ON api_keys (workspace_id);

-- Fixed-window counters shared by every isolate (API keys, QR by IP,
-- password attempts).
CREATE TABLE IF NOT EXISTS rate_limits (
  bucket        TEXT NOT NULL,
  window_start  INTEGER NOT NULL,
  count         INTEGER NOT NULL,
  PRIMARY KEY (bucket, window_start)
);

CREATE TABLE IF NOT EXISTS groups (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
  name          TEXT NOT NULL,
  description   TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS groups_workspace ON groups (workspace_id, created_at);

CREATE TABLE IF NOT EXISTS domains (
  id                  TEXT PRIMARY KEY,
  workspace_id        TEXT NOT NULL REFERENCES workspaces(id),
  domain              TEXT NOT NULL UNIQUE,
  verification_token  TEXT NOT NULL,
  verified            INTEGER NOT NULL DEFAULT 0,
  created_at          INTEGER NOT NULL,
  verified_at         INTEGER
);

CREATE TABLE IF NOT EXISTS links (
  id                      TEXT PRIMARY KEY,
  workspace_id            TEXT NOT NULL REFERENCES workspaces(id),
  domain                  TEXT NOT NULL,
  slug                    TEXT NOT NULL,
  destination_url         TEXT NOT NULL,
  title                   TEXT,
  description             TEXT,
  tags                    TEXT NOT NULL DEFAULT '[]',   -- JSON array
  password_hash           TEXT,
  expires_at              INTEGER,
  click_limit             INTEGER,
  geo_targets             TEXT NOT NULL DEFAULT '{}',   -- JSON object
  device_targets          TEXT NOT NULL DEFAULT '{}',   -- JSON object
  ios_url                 TEXT,
  android_url             TEXT,
  utm_source              TEXT,
  utm_medium              TEXT,
  utm_campaign            TEXT,
  utm_term                TEXT,
  utm_content             TEXT,
  group_id                TEXT,
  archived                INTEGER NOT NULL DEFAULT 0,
  escape_from_wechat      INTEGER NOT NULL DEFAULT 0,
  advanced_bot_detection  INTEGER NOT NULL DEFAULT 0,
  webhook                 INTEGER NOT NULL DEFAULT 0,
  webhook_scene           TEXT NOT NULL DEFAULT '',
  suspended               INTEGER NOT NULL DEFAULT 0,
  banned                  INTEGER NOT NULL DEFAULT 0,
  click_count             INTEGER NOT NULL DEFAULT 0,
  created_at              INTEGER NOT NULL,
  updated_at              INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS links_domain_slug ON links (domain, slug);
CREATE INDEX IF NOT EXISTS links_workspace_created ON links (workspace_id, created_at);
CREATE INDEX IF NOT EXISTS links_workspace_clicks ON links (workspace_id, click_count);
CREATE INDEX IF NOT EXISTS links_workspace_group ON links (workspace_id, group_id, created_at);
