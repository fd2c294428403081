-- Migration 0002 (issue #11): A/B destinations, social preview cards and
-- the operator's destination blocklist.

-- JSON array of {url, weight} (NULL: no A/B test).
ALTER TABLE links ADD COLUMN test_variants TEXT;
-- JSON object {title, description?, image?} (NULL: no card).
ALTER TABLE links ADD COLUMN preview TEXT;
-- The blocked_hosts row whose job banned this link (NULL: not banned by a
-- block; an operator's own ban clears it), so an unblock lifts only those.
ALTER TABLE links ADD COLUMN banned_by_block TEXT;
CREATE INDEX IF NOT EXISTS links_banned_by_block ON links (banned_by_block) WHERE banned_by_block IS NOT NULL;

-- The A/B variant (index into testVariants) that chose a click's target.
ALTER TABLE clicks ADD COLUMN variant INTEGER;

-- Hosts no link may point at (src/api/blocklist.rs); `host` blocks itself
-- and its subdomains.
CREATE TABLE IF NOT EXISTS blocked_hosts (
  id          TEXT PRIMARY KEY,
  host        TEXT NOT NULL UNIQUE,
  created_at  INTEGER NOT NULL
);
