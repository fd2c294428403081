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

-- Click analytics (src/aggregator.rs, docs/SCALE.md): packed hourly blocks
-- written by the ClickAggregator Durable Object.
-- One row per hour, shard and part: the part's raw clicks and their
-- rollup. Written whole by the aggregator's flush (INSERT OR REPLACE of
-- the part), so a replayed flush is harmless.
-- clicks: JSON [[id, link, workspace, ts, country, device, os, browser,
--   referrer, qr, visitor, first_visit, variant], ...] (variant: the A/B
--   variant's index, or null); emptied after
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

-- Per-link click totals, packed: the aggregator's flush upserts one row per
-- bucket it touched (at most 16 per shard and flush), not one per link.
-- `links.click_count` keeps the count from before the aggregator (0005's
-- converted data) and is read only for a link with no entry yet.
CREATE TABLE IF NOT EXISTS link_totals (
  bucket  INTEGER NOT NULL,   -- link_buckets.bucket
  shard   INTEGER NOT NULL,   -- the aggregator shard that wrote it
  totals  TEXT NOT NULL,      -- JSON {link_id: clicks, absolute}
  PRIMARY KEY (bucket, shard)
) WITHOUT ROWID;

-- A link's bucket (16, by the id's last character): the one definition,
-- used by the flush that writes `link_totals` and the reads below (with
-- `rowid`, which breaks ties in the link lists' order).
CREATE VIEW IF NOT EXISTS link_buckets AS
SELECT l.rowid AS rowid, l.*, unicode(substr(l.id, -1)) % 16 AS bucket FROM links l;

-- Every link's packed total as rows (read whole, once per statement).
CREATE VIEW IF NOT EXISTS link_counts AS
SELECT j.key AS link_id, j.value AS clicks FROM link_totals t, json_each(t.totals) j;

-- Links with their click count (`counted`), looked up in their own bucket:
-- what the link API reads.
CREATE VIEW IF NOT EXISTS links_counted AS
SELECT b.*, COALESCE((SELECT MAX(json_extract(t.totals, '$."' || b.id || '"'))
  FROM link_totals t WHERE t.bucket = b.bucket), b.click_count) AS counted
FROM link_buckets b;

-- The same, with every total parsed once for the whole statement: sorting a
-- workspace's links by clicks (a lookup per link would parse its bucket per link).
CREATE VIEW IF NOT EXISTS links_by_clicks AS
SELECT b.*, COALESCE(c.clicks, b.click_count) AS counted
FROM link_buckets b LEFT JOIN link_counts c ON c.link_id = b.id;

-- The raw clicks as rows again (CSV export, checks, imports).
CREATE VIEW IF NOT EXISTS clicks AS
SELECT json_extract(r.value, '$[0]') AS id, json_extract(r.value, '$[1]') AS link_id,
  json_extract(r.value, '$[2]') AS workspace_id, json_extract(r.value, '$[3]') AS ts,
  json_extract(r.value, '$[4]') AS country, json_extract(r.value, '$[5]') AS device,
  json_extract(r.value, '$[6]') AS os, json_extract(r.value, '$[7]') AS browser,
  json_extract(r.value, '$[8]') AS referrer, json_extract(r.value, '$[9]') AS qr,
  json_extract(r.value, '$[10]') AS visitor, json_extract(r.value, '$[11]') AS first_visit,
  json_extract(r.value, '$[12]') AS variant,
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
      COALESCE(NEW.visitor, ''), 0, NEW.variant)),
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
