-- Migration 0001: the initial schema. Every statement is IF NOT EXISTS, so
-- a database created earlier from schema.sql takes it as a no-op and is
-- recorded as migrated. Times are ms since the epoch.

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

-- Click analytics (src/analytics.rs). Raw clicks are kept for
-- CLICK_RETENTION_DAYS (default 90, at least 14 so that no Queue redelivery
-- can outlive its idempotency key); rollups are kept for ever.
-- `id` is the event id minted by the redirect: the idempotency key.
-- `batch_id` tags the rows one consumer transaction inserted, so its rollup
-- statements count exactly those rows; it is cleared before the commit.
-- 0005 turns `clicks` into a view; re-applying this file to such a
-- database (tests/schema.test.mjs) recreates the old table, which 0005
-- converts and drops again.
DROP VIEW IF EXISTS clicks;
CREATE TABLE IF NOT EXISTS clicks (
  id            TEXT PRIMARY KEY,
  link_id       TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  ts            INTEGER NOT NULL,
  country       TEXT NOT NULL DEFAULT '',   -- ISO code, '' = unknown
  device        TEXT NOT NULL,
  os            TEXT NOT NULL,
  browser       TEXT NOT NULL,
  referrer      TEXT NOT NULL DEFAULT '',   -- host, '' = direct
  qr            INTEGER NOT NULL DEFAULT 0,
  visitor       TEXT NOT NULL DEFAULT '',   -- daily-rotating keyed hash, never the IP
  batch_id      TEXT
);
CREATE INDEX IF NOT EXISTS clicks_link_ts ON clicks (link_id, ts, id);
CREATE INDEX IF NOT EXISTS clicks_ts ON clicks (ts);
CREATE INDEX IF NOT EXISTS clicks_batch ON clicks (batch_id) WHERE batch_id IS NOT NULL;

-- One row per (UTC day, link, visitor hash): tells a first visit of the day
-- from a repeat one. Pruned with the raw clicks.
CREATE TABLE IF NOT EXISTS click_visitors (
  day      INTEGER NOT NULL,
  link_id  TEXT NOT NULL,
  visitor  TEXT NOT NULL,
  PRIMARY KEY (day, link_id, visitor)
) WITHOUT ROWID;

-- Rollups: clicks per link per hour (and per UTC day) per dimension value.
-- dim: total ('' value), country, device, browser, os, referrer, source
-- (qr|link), visitors (first visits of the day, counted in their hour).
CREATE TABLE IF NOT EXISTS click_rollup_hour (
  link_id       TEXT NOT NULL,
  hour          INTEGER NOT NULL,
  dim           TEXT NOT NULL,
  value         TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  clicks        INTEGER NOT NULL,
  PRIMARY KEY (link_id, hour, dim, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS click_rollup_hour_ws ON click_rollup_hour (workspace_id, dim, hour);

CREATE TABLE IF NOT EXISTS click_rollup_day (
  link_id       TEXT NOT NULL,
  day           INTEGER NOT NULL,
  dim           TEXT NOT NULL,
  value         TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  clicks        INTEGER NOT NULL,
  PRIMARY KEY (link_id, day, dim, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS click_rollup_day_ws ON click_rollup_day (workspace_id, dim, day);

-- Saved QR code configurations (src/api/qr.rs). A QR tied to a link
-- (`link_id`) encodes that link's current short URL with the `qr=1` scan
-- marker; `link_url` keeps it as of the last save, and `url` (the data the
-- user gave, required without a link) is encoded instead once the link is
-- deleted (`link_url` if there is no `url`). `style` is the JSON of size,
-- colours, cornerRadius, errorCorrection and format.
CREATE TABLE IF NOT EXISTS qr_codes (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
  name          TEXT NOT NULL,
  url           TEXT,
  link_id       TEXT,
  link_url      TEXT,
  style         TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS qr_codes_workspace ON qr_codes (workspace_id, created_at);
CREATE INDEX IF NOT EXISTS qr_codes_workspace_link ON qr_codes (workspace_id, link_id);

-- Webhook subscriptions. `secret` signs deliveries (HMAC-SHA256), so it is
-- kept as written and shown only once, in the create response.
CREATE TABLE IF NOT EXISTS webhooks (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
  name          TEXT NOT NULL,
  url           TEXT NOT NULL,
  events        TEXT NOT NULL,                -- JSON array of event names
  secret        TEXT NOT NULL,
  is_active     INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhooks_workspace ON webhooks (workspace_id, created_at);

-- One event to one webhook, and its delivery log. `event_id` names the
-- event (click deliveries derive it from the click id), so the same event
-- is never queued twice for one webhook.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id                TEXT PRIMARY KEY,
  webhook_id        TEXT NOT NULL,
  workspace_id      TEXT NOT NULL,
  event             TEXT NOT NULL,
  event_id          TEXT NOT NULL,
  payload           TEXT NOT NULL,
  status            TEXT NOT NULL DEFAULT 'pending',  -- pending | success | failed
  attempts          INTEGER NOT NULL DEFAULT 0,
  last_status_code  INTEGER,
  last_error        TEXT,
  last_response     TEXT,
  last_duration_ms  INTEGER,
  last_attempt_at   INTEGER,
  next_attempt_at   INTEGER,
  delivered_at      INTEGER,
  created_at        INTEGER NOT NULL,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE INDEX IF NOT EXISTS domains_workspace ON domains (workspace_id, created_at);

-- Link-in-bio galleries, served at /bio/{slug} once published.
CREATE TABLE IF NOT EXISTS galleries (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
  slug          TEXT NOT NULL UNIQUE,               -- lower-case
  title         TEXT NOT NULL,
  bio           TEXT,
  avatar_url    TEXT,
  theme         TEXT NOT NULL DEFAULT 'default',
  custom_css    TEXT,
  is_published  INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS galleries_workspace ON galleries (workspace_id, created_at);

CREATE TABLE IF NOT EXISTS gallery_items (
  id            TEXT PRIMARY KEY,
  gallery_id    TEXT NOT NULL,
  workspace_id  TEXT NOT NULL,
  type          TEXT NOT NULL,                      -- link | header | divider | embed | image
  title         TEXT,
  url           TEXT,
  image_url     TEXT,
  embed_type    TEXT,
  embed_data    TEXT,                               -- JSON object
  position      INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS gallery_items_order ON gallery_items (gallery_id, position);
