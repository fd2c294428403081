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
  updated_at              INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS links_domain_slug ON links (domain, slug);
CREATE INDEX IF NOT EXISTS links_workspace_created ON links (workspace_id, created_at);
CREATE INDEX IF NOT EXISTS links_workspace_group ON links (workspace_id, group_id, created_at);

-- Click analytics (src/aggregator.rs, docs/SCALE.md): packed hourly blocks
-- written by the ClickAggregator Durable Object.
-- One row per hour, shard and part: the part's raw clicks and their
-- rollup. Written whole by the aggregator's flush (INSERT OR REPLACE of
-- the part), so a replayed flush is harmless.
-- clicks: JSON [[id, link, workspace, ts, country, device, os, browser,
--   referrer, qr, visitor, first_visit], ...]; emptied after
--   CLICK_RETENTION_DAYS (the rollup stays).
-- rollup: JSON {workspace: {link: {dim: {value: clicks}}}}; dims: total
--   ("" value), visitors (first visits of the UTC day, counted in their
--   hour) and every BREAKDOWNS dimension (core/src/stats.rs).
CREATE TABLE IF NOT EXISTS click_hours (
  hour    INTEGER NOT NULL,   -- ms, start of the UTC hour
  shard   INTEGER NOT NULL,
  part    INTEGER NOT NULL,
  clicks  TEXT NOT NULL,
  rollup  TEXT NOT NULL,
  PRIMARY KEY (hour, shard, part)
) WITHOUT ROWID;

-- The last group commit of each shard that D1 holds (written in the same
-- transaction as its blocks): restart and stats consistency.
CREATE TABLE IF NOT EXISTS analytics_flush (
  shard  INTEGER PRIMARY KEY,
  seq    INTEGER NOT NULL
);

-- The raw clicks as rows again (CSV export, checks, imports).
CREATE VIEW IF NOT EXISTS clicks AS
SELECT json_extract(r.value, '$[0]') AS id, json_extract(r.value, '$[1]') AS link_id,
  json_extract(r.value, '$[2]') AS workspace_id, json_extract(r.value, '$[3]') AS ts,
  json_extract(r.value, '$[4]') AS country, json_extract(r.value, '$[5]') AS device,
  json_extract(r.value, '$[6]') AS os, json_extract(r.value, '$[7]') AS browser,
  json_extract(r.value, '$[8]') AS referrer, json_extract(r.value, '$[9]') AS qr,
  json_extract(r.value, '$[10]') AS visitor, json_extract(r.value, '$[11]') AS first_visit,
  h.hour AS hour, h.shard AS shard
FROM click_hours h, json_each(h.clicks) r;

-- A raw row inserted into the view (an import) lands in its hour's
-- shard -1 part 0 (raw rows only: rollups are the aggregator's).
CREATE TRIGGER IF NOT EXISTS clicks_import INSTEAD OF INSERT ON clicks
BEGIN
  INSERT INTO click_hours (hour, shard, part, clicks, rollup)
  VALUES (NEW.ts - NEW.ts % 3600000, -1, 0,
    json_array(json_array(NEW.id, NEW.link_id, NEW.workspace_id, NEW.ts, COALESCE(NEW.country, ''),
      NEW.device, NEW.os, NEW.browser, COALESCE(NEW.referrer, ''), COALESCE(NEW.qr, 0),
      COALESCE(NEW.visitor, ''), 0)),
    '{}')
  ON CONFLICT (hour, shard, part) DO UPDATE SET clicks = json_insert(clicks, '$[#]', json(excluded.clicks) -> '$[0]');
END;

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
