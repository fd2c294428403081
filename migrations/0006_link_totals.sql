-- Per-link click totals, packed (docs/SCALE.md §8, issue #13). The
-- aggregator's flush wrote `links.click_count` for every link counted since
-- the last flush: one D1 row each, the one analytics cost that grew with the
-- number of links. It now upserts one `link_totals` row per bucket it touched
-- (at most 16 per shard and flush). `links.click_count` keeps the count from
-- before the aggregator (0005's converted data) and is read only for a link
-- with no entry yet.
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
