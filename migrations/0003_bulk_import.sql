-- Migration 0003: bulk link writes and CSV imports (issue #12).

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
