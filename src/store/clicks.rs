//! `clicks`, `click_visitors` and the hourly/daily rollups: the analytics
//! consumer's one transaction (statements built here, batched by
//! `src/analytics.rs`) and the stats reads of `src/api/stats.rs`.

use edgelink_core::stats::{ClickRow, RollupRow, Split, BREAKDOWNS};
use edgelink_core::time::{DAY_MS, HOUR_MS};
use edgelink_core::{ApiError, ApiResult};
use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use super::{all, first, int, stmt, text};
use crate::http::internal;

/// Every click of the batch in one statement: `?1` is a JSON array of
/// clicks (one bound parameter, so neither D1's 100-parameter cap nor its
/// per-invocation query cap grows with the batch). A click for a link that
/// no longer exists (or not in that workspace) matches nothing.
const INSERT_CLICKS: &str = "INSERT OR IGNORE INTO clicks \
    (id, link_id, workspace_id, ts, country, device, os, browser, referrer, qr, visitor, batch_id, variant) \
    SELECT json_extract(e.value, '$.id'), l.id, l.workspace_id, json_extract(e.value, '$.ts'), \
      json_extract(e.value, '$.country'), json_extract(e.value, '$.device'), \
      json_extract(e.value, '$.os'), json_extract(e.value, '$.browser'), \
      json_extract(e.value, '$.referrer'), json_extract(e.value, '$.qr'), \
      json_extract(e.value, '$.visitor'), ?2, json_extract(e.value, '$.variant') \
    FROM json_each(?1) e JOIN links l ON l.id = json_extract(e.value, '$.link_id') \
      AND l.workspace_id = json_extract(e.value, '$.workspace_id')";

/// Rollups of the rows tagged `?1`, into the hour (`?2` = 1 h) or day
/// (`?2` = 1 day) table. `visitors` counts first visits of the UTC day
/// (a visitor hash not yet in `click_visitors` for that day), in the
/// bucket of that visitor's first click in this batch.
fn rollup_sql(table: &str, bucket_col: &str) -> String {
    // D1 caps compound SELECTs at a few terms: the dimensions come from a
    // json_each row source instead of one UNION term each: `total` and
    // every row of BREAKDOWNS (each needs its arm in the CASE below).
    // `variant` rows exist only for clicks a variant chose, so links
    // without an A/B test write no more rows than before.
    let dims = serde_json::to_string(
        &std::iter::once("total")
            .chain(BREAKDOWNS.iter().map(|b| b.0))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    format!(
        "WITH b AS (SELECT link_id, workspace_id, ts, ts - ts % ?2 AS bucket, country, device, os, \
           browser, referrer, qr, visitor, variant FROM clicks WHERE batch_id = ?1), \
         v AS (SELECT link_id, workspace_id, visitor, MIN(ts) AS fts FROM b WHERE visitor <> '' \
           GROUP BY link_id, workspace_id, visitor, ts - ts % 86400000) \
         INSERT INTO {table} (link_id, {bucket_col}, dim, value, workspace_id, clicks) \
         SELECT r_link, r_bucket, r_dim, r_value, r_ws, r_n FROM ( \
           SELECT b.link_id AS r_link, b.bucket AS r_bucket, d.value AS r_dim, \
             CASE d.value WHEN 'country' THEN b.country WHEN 'device' THEN b.device \
               WHEN 'browser' THEN b.browser WHEN 'os' THEN b.os WHEN 'referrer' THEN b.referrer \
               WHEN 'source' THEN (CASE WHEN b.qr <> 0 THEN 'qr' ELSE 'link' END) \
               WHEN 'variant' THEN char(65 + b.variant) ELSE '' END AS r_value, \
             b.workspace_id AS r_ws, COUNT(*) AS r_n \
           FROM b, json_each('{dims}') d \
           WHERE d.value <> 'variant' OR b.variant IS NOT NULL \
           GROUP BY 1, 2, 3, 4, 5 \
           UNION ALL \
           SELECT link_id, fts - fts % ?2, 'visitors', '', workspace_id, COUNT(*) FROM v \
             WHERE NOT EXISTS (SELECT 1 FROM click_visitors cv WHERE cv.day = v.fts - v.fts % 86400000 \
               AND cv.link_id = v.link_id AND cv.visitor = v.visitor) \
             GROUP BY 1, 2, 3, 4, 5 \
         ) WHERE true \
         ON CONFLICT (link_id, {bucket_col}, dim, value) DO UPDATE SET clicks = clicks + excluded.clicks"
    )
}

const INSERT_VISITORS: &str = "INSERT OR IGNORE INTO click_visitors (day, link_id, visitor) \
    SELECT DISTINCT ts - ts % 86400000, link_id, visitor FROM clicks WHERE batch_id = ?1 AND visitor <> ''";

const COUNT_LINKS: &str = "UPDATE links SET click_count = click_count + \
    (SELECT COUNT(*) FROM clicks c WHERE c.batch_id = ?1 AND c.link_id = links.id) \
    WHERE id IN (SELECT link_id FROM clicks WHERE batch_id = ?1)";

const COUNTED: &str = "SELECT id FROM clicks WHERE batch_id = ?1";

const UNTAG: &str = "UPDATE clicks SET batch_id = NULL WHERE batch_id = ?1";

/// Links named by the batch that are at or over their limit.
const REACHED: &str = "SELECT id FROM links WHERE id IN (SELECT value FROM json_each(?1)) \
    AND click_limit IS NOT NULL AND click_count >= click_limit";

/// Retention, a bounded slice per batch so the transaction stays short.
const PRUNE_CLICKS: &str =
    "DELETE FROM clicks WHERE rowid IN (SELECT rowid FROM clicks WHERE ts < ?1 LIMIT 500)";
const PRUNE_VISITORS: &str = "DELETE FROM click_visitors WHERE (day, link_id, visitor) IN \
    (SELECT day, link_id, visitor FROM click_visitors WHERE day < ?1 LIMIT 500)";

/// The statements of one analytics transaction, in order, remembering
/// where the rows the consumer reads back come from.
pub struct Batch<'a> {
    db: &'a D1Database,
    tag: String,
    pub stmts: Vec<D1PreparedStatement>,
}

/// A statement whose `id` rows the consumer reads after the commit.
#[derive(Clone, Copy)]
pub struct IdsAt(usize);

impl<'a> Batch<'a> {
    pub fn new(db: &'a D1Database, tag: &str) -> Batch<'a> {
        Batch {
            db,
            tag: tag.to_string(),
            stmts: Vec::with_capacity(12),
        }
    }

    fn push(&mut self, sql: &str, args: &[JsValue]) -> ApiResult<IdsAt> {
        self.stmts.push(stmt(self.db, sql, args)?);
        Ok(IdsAt(self.stmts.len() - 1))
    }

    pub fn push_stmt(&mut self, s: D1PreparedStatement) -> IdsAt {
        self.stmts.push(s);
        IdsAt(self.stmts.len() - 1)
    }

    /// Inserts `rows_json` (the clicks as the JSON array INSERT_CLICKS
    /// reads), tagged, and rolls up and counts exactly the rows inserted.
    pub fn insert_and_roll_up(&mut self, rows_json: &str) -> ApiResult<()> {
        let tag = text(&self.tag);
        self.push(INSERT_CLICKS, &[text(rows_json), tag.clone()])?;
        self.push(
            &rollup_sql("click_rollup_hour", "hour"),
            &[tag.clone(), int(HOUR_MS)],
        )?;
        self.push(
            &rollup_sql("click_rollup_day", "day"),
            &[tag.clone(), int(DAY_MS)],
        )?;
        self.push(INSERT_VISITORS, &[tag])?;
        Ok(())
    }

    /// Adds to `links.click_count`; the ids of the clicks counted.
    pub fn count_links(&mut self) -> ApiResult<IdsAt> {
        self.push(COUNT_LINKS, &[text(&self.tag)])?;
        self.push(COUNTED, &[text(&self.tag)])
    }

    pub fn untag(&mut self) -> ApiResult<()> {
        self.push(UNTAG, &[text(&self.tag)]).map(|_| ())
    }

    /// The ids of `link_ids` (a JSON array) at or over their click limit.
    pub fn reached(&mut self, link_ids_json: &str) -> ApiResult<IdsAt> {
        self.push(REACHED, &[text(link_ids_json)])
    }

    /// Drops a bounded slice of raw rows older than `cutoff`.
    pub fn prune(&mut self, cutoff: i64) -> ApiResult<()> {
        self.push(PRUNE_CLICKS, &[int(cutoff)])?;
        self.push(PRUNE_VISITORS, &[int(cutoff - cutoff.rem_euclid(DAY_MS))])
            .map(|_| ())
    }

    /// A statement that fails at run time, rolling the batch back (the
    /// analytics fault-injection hook of test builds).
    #[cfg(feature = "test-hooks")]
    pub fn fail(&mut self) -> ApiResult<()> {
        self.push(
            "SELECT json('fault injected by ANALYTICS_FAIL_ONCE_EVENT_ID')",
            &[],
        )
        .map(|_| ())
    }

    /// Runs it all as one D1 transaction.
    pub async fn run(self) -> ApiResult<Committed> {
        let results = self.db.batch(self.stmts).await.map_err(|e| {
            worker::console_error!("analytics: D1 batch rolled back: {e:?}");
            ApiError::Internal
        })?;
        Ok(Committed(results))
    }
}

pub struct Committed(Vec<D1Result>);

impl Committed {
    pub fn ids(&self, at: IdsAt) -> Vec<String> {
        #[derive(Deserialize)]
        struct IdRow {
            id: String,
        }
        self.0
            .get(at.0)
            .and_then(|r| r.results::<IdRow>().ok())
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.id)
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

/// Where `period=all` starts: the first counted day or raw click.
pub enum Origin<'a> {
    LinkRollups(&'a str),
    WorkspaceRollups(&'a str),
    LinkClicks(&'a str),
}

pub async fn origin(db: &D1Database, of: Origin<'_>) -> ApiResult<Option<i64>> {
    let (sql, key) = match of {
        Origin::LinkRollups(id) => (
            "SELECT MIN(day) AS n FROM click_rollup_day WHERE link_id = ?1",
            id,
        ),
        Origin::WorkspaceRollups(id) => (
            "SELECT MIN(day) AS n FROM click_rollup_day WHERE workspace_id = ?1 AND dim = 'total'",
            id,
        ),
        Origin::LinkClicks(id) => ("SELECT MIN(ts) AS n FROM clicks WHERE link_id = ?1", id),
    };
    #[derive(Deserialize)]
    struct Min {
        n: Option<i64>,
    }
    let min: Option<Min> = first(db, sql, &[text(key)]).await?;
    Ok(min.and_then(|m| m.n))
}

/// Whose rollup rows a stats read sums: one link's, or those of every
/// link of a workspace (rows carry their link's workspace, so another
/// workspace's clicks never match).
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    Link(&'a str),
    Workspace(&'a str),
}

/// The stats of a [`Scope`] (`?1` the link or workspace id): whole days
/// `[?4, ?5)` from the day table, the ragged hours `[?2, ?4)` and
/// `[?5, ?3)` from the hour table, each an index range (D1 allows at most
/// 5 compound terms); breakdowns summed over the window, `total` per
/// bucket of the interval (`?6`).
/// A workspace's rows are read through the `(workspace_id, dim, hour|day)`
/// indexes, so its `dim`s are listed: one index range each.
fn stats_sql(scope: Scope) -> String {
    let of = match scope {
        Scope::Link(_) => "link_id = ?1".to_string(),
        Scope::Workspace(_) => {
            let dims: Vec<String> = ["total", "visitors"]
                .into_iter()
                .chain(BREAKDOWNS.iter().map(|b| b.0))
                .map(|d| format!("'{d}'"))
                .collect();
            format!("workspace_id = ?1 AND dim IN ({})", dims.join(", "))
        }
    };
    format!(
        "SELECT dim, value, CASE WHEN dim = 'total' THEN b - b % ?6 ELSE 0 END AS bucket, \
         SUM(clicks) AS clicks FROM ( \
           SELECT dim, value, day AS b, clicks FROM click_rollup_day \
             WHERE {of} AND day >= ?4 AND day < ?5 \
           UNION ALL \
           SELECT dim, value, hour AS b, clicks FROM click_rollup_hour \
             WHERE {of} AND hour >= ?2 AND hour < ?4 \
           UNION ALL \
           SELECT dim, value, hour AS b, clicks FROM click_rollup_hour \
             WHERE {of} AND hour >= ?5 AND hour < ?3 \
         ) GROUP BY dim, value, bucket"
    )
}

fn window_args(key: &str, s: &Split) -> Vec<JsValue> {
    vec![
        text(key),
        int(s.from),
        int(s.to),
        int(s.day_from),
        int(s.day_to),
    ]
}

/// [`stats_sql`] and its arguments.
fn rollups_query(scope: Scope, s: &Split, interval_ms: i64) -> (String, Vec<JsValue>) {
    let (Scope::Link(key) | Scope::Workspace(key)) = scope;
    let mut args = window_args(key, s);
    args.push(int(interval_ms));
    (stats_sql(scope), args)
}

/// The rollup rows of a link (or of a workspace's links) in a window.
pub async fn rollups(
    db: &D1Database,
    scope: Scope<'_>,
    s: &Split,
    interval_ms: i64,
) -> ApiResult<Vec<RollupRow>> {
    let (sql, args) = rollups_query(scope, s, interval_ms);
    all(db, &sql, &args).await
}

/// The rollup rows of a workspace in a window (`?1` workspace, `?2..?5` as
/// in [`stats_sql`]), restricted to one dimension (`?6`).
fn ws_rows(select: &str, rest: &str) -> String {
    format!(
        "SELECT {select} FROM ( \
           SELECT link_id, value, day AS b, clicks FROM click_rollup_day \
             WHERE workspace_id = ?1 AND dim = ?6 AND day >= ?4 AND day < ?5 \
           UNION ALL \
           SELECT link_id, value, hour AS b, clicks FROM click_rollup_hour \
             WHERE workspace_id = ?1 AND dim = ?6 AND hour >= ?2 AND hour < ?4 \
           UNION ALL \
           SELECT link_id, value, hour AS b, clicks FROM click_rollup_hour \
             WHERE workspace_id = ?1 AND dim = ?6 AND hour >= ?5 AND hour < ?3 \
         ) r {rest}"
    )
}

#[derive(Deserialize)]
pub struct TopLink {
    pub id: String,
    pub slug: String,
    pub domain: String,
    pub title: Option<String>,
    pub clicks: i64,
}

pub struct Summary {
    pub rows: Vec<RollupRow>,
    pub top: Vec<TopLink>,
}

/// A workspace's rollup rows (as a link's, summed over its links) and top
/// links, in one D1 round trip.
pub async fn workspace_summary(
    db: &D1Database,
    workspace_id: &str,
    s: &Split,
    interval_ms: i64,
    limit: i64,
) -> ApiResult<Summary> {
    let mut args = window_args(workspace_id, s);
    args.extend([text("total"), int(limit)]);
    let (rollups_sql, rollups_args) = rollups_query(Scope::Workspace(workspace_id), s, interval_ms);
    // Deleted links drop out of the top list (their clicks stay in totals).
    let links_sql = ws_rows(
        "r.link_id AS id, l.slug, l.domain, l.title, SUM(r.clicks) AS clicks",
        "JOIN links l ON l.id = r.link_id AND l.workspace_id = ?1 \
         GROUP BY r.link_id ORDER BY clicks DESC, r.link_id LIMIT ?7",
    );
    let results = db
        .batch(vec![
            stmt(db, &rollups_sql, &rollups_args)?,
            stmt(db, &links_sql, &args)?,
        ])
        .await
        .map_err(internal("workspace stats"))?;
    let get = |i: usize| results.get(i).ok_or(ApiError::Internal);
    Ok(Summary {
        rows: get(0)?.results().map_err(internal("stats rows"))?,
        top: get(1)?.results().map_err(internal("stats rows"))?,
    })
}

/// Keyset pagination over `(link_id, ts, id)`: each page starts at the
/// last row's time, so every page is an index range, never an OFFSET.
const CSV_PAGE: &str =
    "SELECT id, ts, country, device, os, browser, referrer, qr, visitor, variant \
    FROM clicks WHERE link_id = ?1 AND ts >= ?2 AND ts < ?3 AND (ts > ?2 OR id > ?4) \
    ORDER BY ts, id LIMIT ?5";

/// Up to `limit` raw clicks of a link in `[after_ts, to)` that come after
/// `(after_ts, after_id)`, in time order.
pub async fn raw_page(
    db: &D1Database,
    link_id: &str,
    after_ts: i64,
    after_id: &str,
    to: i64,
    limit: i64,
) -> ApiResult<Vec<ClickRow>> {
    all(
        db,
        CSV_PAGE,
        &[
            text(link_id),
            int(after_ts),
            int(to),
            text(after_id),
            int(limit),
        ],
    )
    .await
}
