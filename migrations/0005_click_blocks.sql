-- #13: analytics in packed hourly blocks written by the ClickAggregator
-- Durable Object (docs/SCALE.md). Replaces the per-click `clicks` rows,
-- `click_visitors` and the per-value rollup tables; existing data is
-- converted here (shard -1: part 0 the raw clicks, part 1 the rollups).
-- Idempotent: re-running it (after 0001, which drops the `clicks` view
-- first) converts nothing twice.

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

INSERT OR IGNORE INTO click_hours (hour, shard, part, clicks, rollup)
SELECT ts - ts % 3600000 AS h, -1, 0,
  json_group_array(json_array(id, link_id, workspace_id, ts, country, device, os, browser, referrer, qr, visitor, 0, variant)),
  '{}'
FROM clicks GROUP BY h;

INSERT OR IGNORE INTO click_hours (hour, shard, part, clicks, rollup)
SELECT hour, -1, 1, '[]', json_group_object(ws, json(links)) FROM (
  SELECT hour, ws, json_group_object(link_id, json(dims)) AS links FROM (
    SELECT hour, ws, link_id, json_group_object(dim, json(vals)) AS dims FROM (
      SELECT hour, workspace_id AS ws, link_id, dim, json_group_object(value, clicks) AS vals
      FROM click_rollup_hour GROUP BY hour, workspace_id, link_id, dim)
    GROUP BY hour, ws, link_id)
  GROUP BY hour, ws)
GROUP BY hour;

-- Sorting links by clicks reads the workspace's links instead (rows read,
-- $0.001/M): the index doubled every click_count write of a flush.
DROP INDEX IF EXISTS links_workspace_clicks;

DROP TABLE IF EXISTS click_rollup_day;
DROP TABLE IF EXISTS click_rollup_hour;
DROP TABLE IF EXISTS click_visitors;
DROP TABLE IF EXISTS clicks;

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
