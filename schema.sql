-- The whole D1 schema, readable in one place. Times are ms since the epoch.
-- Databases get it through migrations/ (`wrangler d1 migrations apply DB`,
-- run by `npm run dev`, the tests and `npm run deploy`): a schema change is
-- a new migrations/NNNN_*.sql AND the same change here; tests/schema.test.mjs
-- checks that both give the same tables, columns and indexes.

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
  updated_at              INTEGER NOT NULL,
  test_variants           TEXT,          -- JSON array of {url, weight}; NULL = no A/B test
  preview                 TEXT,          -- JSON {title, description?, image?}; NULL = no card
  banned_by_block         TEXT           -- blocked_hosts.id whose job banned it; NULL otherwise
);
CREATE UNIQUE INDEX IF NOT EXISTS links_domain_slug ON links (domain, slug);
CREATE INDEX IF NOT EXISTS links_workspace_created ON links (workspace_id, created_at);
CREATE INDEX IF NOT EXISTS links_workspace_clicks ON links (workspace_id, click_count);
CREATE INDEX IF NOT EXISTS links_workspace_group ON links (workspace_id, group_id, created_at);
CREATE INDEX IF NOT EXISTS links_banned_by_block ON links (banned_by_block) WHERE banned_by_block IS NOT NULL;

-- The operator's blocklist (src/api/blocklist.rs): no link may point at
-- `host` or its subdomains; blocking bans the links that do (their
-- `banned_by_block`), unblocking lifts exactly those bans.
CREATE TABLE IF NOT EXISTS blocked_hosts (
  id          TEXT PRIMARY KEY,
  host        TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
);

-- Click analytics (src/analytics.rs). Raw clicks are kept for
-- CLICK_RETENTION_DAYS (default 90, at least 14 so that no Queue redelivery
-- can outlive its idempotency key); rollups are kept for ever.
-- `id` is the event id minted by the redirect: the idempotency key.
-- `batch_id` tags the rows one consumer transaction inserted, so its rollup
-- statements count exactly those rows; it is cleared before the commit.
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
  batch_id      TEXT,
  variant       INTEGER                     -- A/B variant index; NULL = no variant chose the target
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
-- (qr|link), variant (A/B letter; only clicks a variant chose), visitors
-- (first visits of the day, counted in their hour).
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
  updated_at    INTEGER NOT NULL,
  -- After a rotation the old secret also signs until this time (24 h).
  previous_secret            TEXT,
  previous_secret_expires_at INTEGER,
  -- Failed deliveries in a row, the time of the first, and why the
  -- platform switched the webhook off (NULL if its owner did, or never).
  failure_streak  INTEGER NOT NULL DEFAULT 0,
  failing_since   INTEGER,
  disabled_reason TEXT
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

-- KV redirect records a D1 write has changed but that may not be in KV
-- yet. Written in the same D1 transaction as the link rows; deleted once
-- the request has written KV. Rows left by a request that died in between
-- are re-derived from D1 by the cron (src/bulk.rs `repair`).
CREATE TABLE IF NOT EXISTS kv_pending (
  token       TEXT NOT NULL,
  domain      TEXT NOT NULL,
  slug        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (token, domain, slug)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_pending_created ON kv_pending (created_at);

-- An import's duplicate check looks links up by destination.
CREATE INDEX IF NOT EXISTS links_workspace_destination ON links (workspace_id, destination_url);

-- A CSV import: its rows wait in `import_chunks` (100 each, mapped to link
-- fields at upload) and are processed one chunk per JOBS message.
CREATE TABLE IF NOT EXISTS imports (
  id            TEXT PRIMARY KEY,
  workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
  status        TEXT NOT NULL DEFAULT 'queued',   -- queued | running | done | failed
  total_rows    INTEGER NOT NULL,
  chunks        INTEGER NOT NULL,
  next_chunk    INTEGER NOT NULL DEFAULT 0,
  created       INTEGER NOT NULL DEFAULT 0,
  skipped       INTEGER NOT NULL DEFAULT 0,
  failed        INTEGER NOT NULL DEFAULT 0,
  failures      INTEGER NOT NULL DEFAULT 0,       -- chunk runs failed in a row
  error         TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS imports_workspace ON imports (workspace_id, created_at);
CREATE INDEX IF NOT EXISTS imports_status ON imports (status, updated_at);

CREATE TABLE IF NOT EXISTS import_chunks (
  import_id  TEXT NOT NULL,
  chunk      INTEGER NOT NULL,
  rows       TEXT NOT NULL,                       -- JSON array of mapped rows
  PRIMARY KEY (import_id, chunk)
) WITHOUT ROWID;

-- The outcome of each processed row, committed in the same D1 transaction
-- as the link it created: a row found here is never processed again.
CREATE TABLE IF NOT EXISTS import_rows (
  import_id  TEXT NOT NULL,
  row        INTEGER NOT NULL,                    -- spreadsheet row (header = 1)
  outcome    TEXT NOT NULL,                       -- created | skipped | failed
  link_id    TEXT,
  slug       TEXT,
  url        TEXT,
  code       TEXT,
  message    TEXT,
  PRIMARY KEY (import_id, row)
) WITHOUT ROWID;
