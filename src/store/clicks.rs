//! Analytics SQL: the packed hourly blocks (`click_hours`, migration 0005,
//! docs/SCALE.md) that the `ClickAggregator` Durable Object loads and
//! flushes (src/aggregator.rs), and the stats reads of `src/api/stats.rs`.
//! A block's `rollup` is `{workspace: {link: {dim: {value: clicks}}}}`,
//! so the reads below are data-driven: every dimension stored is read.

use std::collections::BTreeMap;

use edgelink_core::aggregate::FlushPlan;
use edgelink_core::stats::{ClickRow, RollupRow, Split};
use edgelink_core::time::HOUR_MS;
use edgelink_core::{ApiError, ApiResult};
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{all, first, int, stmt, text};
use crate::http::internal;

// ---------------------------------------------------------------------------
// The aggregator's reads and its flush
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct LinkRow {
    pub id: String,
    pub workspace_id: String,
    pub click_count: i64,
    pub click_limit: Option<i64>,
}

/// The links named in `ids_json` (a JSON array) that exist.
pub async fn links_of(db: &D1Database, ids_json: &str) -> ApiResult<Vec<LinkRow>> {
    all(
        db,
        "SELECT id, workspace_id, counted AS click_count, click_limit FROM links_counted \
         WHERE id IN (SELECT value FROM json_each(?1))",
        &[text(ids_json)],
    )
    .await
}

#[derive(Deserialize)]
struct PartRow {
    part: i64,
    clicks: String,
    rollup: String,
}

/// Every part of the given hours: `shard`'s own parts with their index,
/// the other shards' (and imported, shard -1) parts as index -1, which
/// the aggregator reads for their ids and visitors only. One statement
/// per hour, one round trip.
pub async fn hours(
    db: &D1Database,
    shard: u32,
    hours: &[i64],
) -> ApiResult<Vec<(i64, Vec<(i64, String, String)>)>> {
    if hours.is_empty() {
        return Ok(Vec::new());
    }
    let sql = "SELECT CASE WHEN shard = ?2 THEN part ELSE -1 END AS part, clicks, \
        CASE WHEN shard = ?2 THEN rollup ELSE '{}' END AS rollup \
        FROM click_hours WHERE hour = ?1 ORDER BY shard, part";
    let stmts = hours
        .iter()
        .map(|h| stmt(db, sql, &[int(*h), int(shard as i64)]))
        .collect::<ApiResult<Vec<_>>>()?;
    let results = db.batch(stmts).await.map_err(internal("load hours"))?;
    let mut out = Vec::with_capacity(hours.len());
    for (h, r) in hours.iter().zip(results) {
        let rows: Vec<PartRow> = r.results().map_err(internal("load hours"))?;
        out.push((
            *h,
            rows.into_iter()
                .map(|p| (p.part, p.clicks, p.rollup))
                .collect(),
        ));
    }
    Ok(out)
}

/// The (link, visitor) pairs of each UTC day stored in D1 (one scan of
/// the day's blocks each).
pub async fn day_visitors(db: &D1Database, days: &[i64]) -> ApiResult<Vec<Vec<(String, String)>>> {
    if days.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(Deserialize)]
    struct V {
        link_id: String,
        visitor: String,
    }
    let sql = "SELECT DISTINCT link_id, visitor FROM clicks \
        WHERE hour >= ?1 AND hour < ?1 + 86400000 AND visitor <> ''";
    let stmts = days
        .iter()
        .map(|d| stmt(db, sql, &[int(*d)]))
        .collect::<ApiResult<Vec<_>>>()?;
    let results = db.batch(stmts).await.map_err(internal("load visitors"))?;
    results
        .into_iter()
        .map(|r| {
            let v: Vec<V> = r.results().map_err(internal("load visitors"))?;
            Ok(v.into_iter().map(|v| (v.link_id, v.visitor)).collect())
        })
        .collect()
}

/// The last commit of `shard` that D1 holds.
pub async fn watermark(db: &D1Database, shard: u32) -> ApiResult<u64> {
    #[derive(Deserialize)]
    struct W {
        seq: i64,
    }
    let w: Option<W> = first(
        db,
        "SELECT seq FROM analytics_flush WHERE shard = ?1",
        &[int(shard as i64)],
    )
    .await?;
    Ok(w.map_or(0, |w| w.seq.max(0) as u64))
}

/// One flush as one D1 transaction: the dirty parts written whole, the
/// links' absolute counts (packed per bucket, migration 0006), the watermark, and a retention pass that empties
/// the raw clicks of blocks older than `cutoff` (rollups stay). Replaying
/// it changes nothing.
pub fn flush_stmts(
    db: &D1Database,
    shard: u32,
    plan: &FlushPlan,
    cutoff: i64,
) -> ApiResult<Vec<D1PreparedStatement>> {
    let mut out = Vec::with_capacity(plan.parts.len() + 3);
    for (hour, part, clicks, rollup) in &plan.parts {
        out.push(stmt(
            db,
            "INSERT INTO click_hours (hour, shard, part, clicks, rollup) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (hour, shard, part) DO UPDATE SET clicks = excluded.clicks, rollup = excluded.rollup",
            &[int(*hour), int(shard as i64), int(*part), text(clicks), text(rollup)],
        )?);
    }
    if !plan.counts.is_empty() {
        let counts = serde_json::to_string(&plan.counts).unwrap_or_default();
        // One row per bucket touched, merged (absolute values: a replay
        // writes the same); links deleted meanwhile drop out in the join.
        out.push(stmt(
            db,
            "INSERT INTO link_totals (bucket, shard, totals) \
             SELECT b.bucket, ?1, json_group_object(j.key, j.value) \
             FROM json_each(?2) j JOIN link_buckets b ON b.id = j.key WHERE true GROUP BY b.bucket \
             ON CONFLICT (bucket, shard) DO UPDATE SET totals = json_patch(totals, excluded.totals)",
            &[int(shard as i64), text(&counts)],
        )?);
    }
    out.push(stmt(
        db,
        "INSERT INTO analytics_flush (shard, seq) VALUES (?1, ?2) \
         ON CONFLICT (shard) DO UPDATE SET seq = max(seq, excluded.seq)",
        &[int(shard as i64), int(plan.seq as i64)],
    )?);
    out.push(stmt(
        db,
        "UPDATE click_hours SET clicks = '[]' WHERE hour < ?1 AND clicks <> '[]'",
        &[int(cutoff - cutoff.rem_euclid(HOUR_MS))],
    )?);
    Ok(out)
}

/// A statement that fails at run time, rolling a flush back (the
/// analytics fault-injection hook of test builds).
#[cfg(feature = "test-hooks")]
pub fn fail_stmt(db: &D1Database) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "SELECT json('fault injected by ANALYTICS_FAIL_ONCE_EVENT_ID')",
        &[],
    )
}

pub async fn run(db: &D1Database, stmts: Vec<D1PreparedStatement>) -> ApiResult<()> {
    db.batch(stmts).await.map(|_| ()).map_err(|e| {
        worker::console_error!("analytics: D1 flush rolled back: {e:?}");
        ApiError::Internal
    })
}

// ---------------------------------------------------------------------------
// Stats reads
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
            "SELECT MIN(h.hour - h.hour % 86400000) AS n FROM click_hours h, json_each(h.rollup) w \
             WHERE json_type(w.value, '$.\"' || ?1 || '\"') IS NOT NULL",
            id,
        ),
        Origin::WorkspaceRollups(id) => (
            "SELECT MIN(hour - hour % 86400000) AS n FROM click_hours \
             WHERE json_type(rollup, '$.\"' || ?1 || '\"') IS NOT NULL",
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

/// Whose rollups a stats read sums: one link's, or those of every link of
/// a workspace (blocks file links under their workspace, so another
/// workspace's clicks never match).
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    Link(&'a str),
    Workspace(&'a str),
}

/// The stats of a [`Scope`] (`?1` the link or workspace id) over the hour
/// blocks in `[?2, ?3)`: breakdowns summed over the window, `total` per
/// bucket of the interval (`?4`).
fn stats_sql(scope: Scope) -> &'static str {
    match scope {
        Scope::Link(_) => {
            "SELECT d.key AS dim, v.key AS value, \
               CASE WHEN d.key = 'total' THEN h.hour - h.hour % ?4 ELSE 0 END AS bucket, \
               SUM(v.value) AS clicks \
             FROM click_hours h, json_each(h.rollup) w, json_each(w.value, '$.\"' || ?1 || '\"') d, \
               json_each(d.value) v \
             WHERE h.hour >= ?2 AND h.hour < ?3 GROUP BY 1, 2, 3"
        }
        Scope::Workspace(_) => {
            "SELECT d.key AS dim, v.key AS value, \
               CASE WHEN d.key = 'total' THEN h.hour - h.hour % ?4 ELSE 0 END AS bucket, \
               SUM(v.value) AS clicks \
             FROM click_hours h, json_each(h.rollup, '$.\"' || ?1 || '\"') l, json_each(l.value) d, \
               json_each(d.value) v \
             WHERE h.hour >= ?2 AND h.hour < ?3 GROUP BY 1, 2, 3"
        }
    }
}

const WATERMARKS: &str = "SELECT shard, seq FROM analytics_flush";

#[derive(Deserialize)]
struct Mark {
    shard: i64,
    seq: i64,
}

fn marks(rows: Vec<Mark>) -> BTreeMap<u32, u64> {
    rows.into_iter()
        .map(|m| (m.shard.max(0) as u32, m.seq.max(0) as u64))
        .collect()
}

/// The rollup rows of a link (or of a workspace's links) in a window, and
/// every shard's watermark, from one D1 snapshot.
pub async fn rollups(
    db: &D1Database,
    scope: Scope<'_>,
    s: &Split,
    interval_ms: i64,
) -> ApiResult<(Vec<RollupRow>, BTreeMap<u32, u64>)> {
    let (Scope::Link(key) | Scope::Workspace(key)) = scope;
    let results = db
        .batch(vec![
            stmt(
                db,
                stats_sql(scope),
                &[text(key), int(s.from), int(s.to), int(interval_ms)],
            )?,
            stmt(db, WATERMARKS, &[])?,
        ])
        .await
        .map_err(internal("stats"))?;
    let get = |i: usize| results.get(i).ok_or(ApiError::Internal);
    Ok((
        get(0)?.results().map_err(internal("stats rows"))?,
        marks(get(1)?.results().map_err(internal("stats rows"))?),
    ))
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
    /// Every link of the workspace with clicks in the window, or named in
    /// `also` (links with live clicks only); not yet ranked.
    pub links: Vec<TopLink>,
    pub watermarks: BTreeMap<u32, u64>,
}

/// A workspace's rollup rows (as a link's, summed over its links), its
/// links' clicks and the watermarks, in one D1 round trip.
pub async fn workspace_summary(
    db: &D1Database,
    workspace_id: &str,
    s: &Split,
    interval_ms: i64,
    also: &[&str],
) -> ApiResult<Summary> {
    // Deleted links drop out of the top list (their clicks stay in totals).
    let links_sql = "SELECT l.id, l.slug, l.domain, l.title, COALESCE(t.clicks, 0) AS clicks \
        FROM links l LEFT JOIN (SELECT lk.key AS id, SUM(v.value) AS clicks \
          FROM click_hours h, json_each(h.rollup, '$.\"' || ?1 || '\"') lk, json_each(lk.value, '$.total') v \
          WHERE h.hour >= ?2 AND h.hour < ?3 GROUP BY lk.key) t ON t.id = l.id \
        WHERE l.workspace_id = ?1 AND (t.clicks IS NOT NULL OR l.id IN (SELECT value FROM json_each(?4)))";
    let also = serde_json::to_string(also).unwrap_or_else(|_| "[]".into());
    let results = db
        .batch(vec![
            stmt(
                db,
                stats_sql(Scope::Workspace(workspace_id)),
                &[text(workspace_id), int(s.from), int(s.to), int(interval_ms)],
            )?,
            stmt(
                db,
                links_sql,
                &[text(workspace_id), int(s.from), int(s.to), text(&also)],
            )?,
            stmt(db, WATERMARKS, &[])?,
        ])
        .await
        .map_err(internal("workspace stats"))?;
    let get = |i: usize| results.get(i).ok_or(ApiError::Internal);
    Ok(Summary {
        rows: get(0)?.results().map_err(internal("stats rows"))?,
        links: get(1)?.results().map_err(internal("stats rows"))?,
        watermarks: marks(get(2)?.results().map_err(internal("stats rows"))?),
    })
}

/// Keyset pagination over `(ts, id)` within the link's hour blocks: each
/// page starts at the last row's time.
const CSV_PAGE: &str =
    "SELECT id, ts, country, device, os, browser, referrer, qr, visitor, variant \
    FROM clicks WHERE hour >= ?6 AND hour < ?3 AND link_id = ?1 AND ts >= ?2 AND ts < ?3 \
    AND (ts > ?2 OR id > ?4) ORDER BY ts, id LIMIT ?5";

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
            int(after_ts - after_ts.rem_euclid(HOUR_MS)),
        ],
    )
    .await
}
