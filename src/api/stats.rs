//! Analytics reads: `GET /api/v1/links/{id}/stats` (JSON, or CSV with
//! `format=csv`), `GET /api/v1/links/{id}/clicks.csv` and the workspace
//! summary `GET /api/v1/stats`. Windows and shapes: `edgelink_core::stats`.

use edgelink_core::stats::{
    csv_line, link_stats_json, summary_json, BucketRow, ClickRow, RollupRow, ValueRow, Window,
    WindowParams, CSV_HEADER,
};
use edgelink_core::{ApiError, ApiResult};
use serde_json::json;
use worker::{D1Database, Request, Response};

use crate::api::links::load;
use crate::auth::Caller;
use crate::http::{internal, ok, Ctx, Query};
use crate::store::{all, first, int, stmt, text, workspaces};

fn window(q: &Query, now: i64, origin: i64) -> ApiResult<Window> {
    Window::parse(
        &WindowParams {
            period: q.get("period"),
            from: q.get("from"),
            to: q.get("to"),
            interval: q.get("interval"),
        },
        now,
        origin,
    )
}

/// `period=all` (also the default) starts at the origin: the creation of
/// the link or workspace, or its first counted day if that is earlier
/// (clicks imported or seeded with older times).
async fn origin(ctx: &Ctx, created_at: i64, q: &Query, sql: &str, key: &str) -> ApiResult<i64> {
    let given = |n: &str| q.get(n).is_some_and(|v| !v.trim().is_empty());
    let all = q.get("period").map(str::trim) == Some("all")
        || !(given("period") || given("from") || given("to"));
    if !all {
        return Ok(created_at);
    }
    #[derive(serde::Deserialize)]
    struct Min {
        n: Option<i64>,
    }
    let min: Option<Min> = first(&ctx.db()?, sql, &[text(key)]).await?;
    Ok(min
        .and_then(|m| m.n)
        .map_or(created_at, |d| d.min(created_at)))
}

/// Whole days `[?4, ?5)` from the day table, the ragged hours `[?2, ?4)`
/// and `[?5, ?3)` from the hour table, each an index range (D1 allows at
/// most 5 compound terms); breakdowns summed over the window, `total` per
/// bucket of the interval.
const LINK_STATS: &str =
    "SELECT dim, value, CASE WHEN dim = 'total' THEN b - b % ?6 ELSE 0 END AS bucket, \
    SUM(clicks) AS clicks FROM ( \
      SELECT dim, value, day AS b, clicks FROM click_rollup_day \
        WHERE link_id = ?1 AND day >= ?4 AND day < ?5 \
      UNION ALL \
      SELECT dim, value, hour AS b, clicks FROM click_rollup_hour \
        WHERE link_id = ?1 AND hour >= ?2 AND hour < ?4 \
      UNION ALL \
      SELECT dim, value, hour AS b, clicks FROM click_rollup_hour \
        WHERE link_id = ?1 AND hour >= ?5 AND hour < ?3 \
    ) GROUP BY dim, value, bucket";

pub async fn link(ctx: &Ctx, caller: &Caller, req: &Request, id: &str) -> ApiResult<Response> {
    let q = Query::of(req);
    match q.get("format") {
        None | Some("") | Some("json") => {}
        Some("csv") => return clicks_csv(ctx, caller, req, id).await,
        Some(_) => return Err(ApiError::validation("format", "must be json or csv")),
    }
    // The link first: another workspace's id is a 404 whatever the query.
    let link = load(ctx, caller, id).await?;
    let start = origin(
        ctx,
        link.created_at,
        &q,
        "SELECT MIN(day) AS n FROM click_rollup_day WHERE link_id = ?1",
        &link.id,
    )
    .await?;
    let w = window(&q, ctx.now, start)?;
    let s = w.split();
    let rows: Vec<RollupRow> = all(
        &ctx.db()?,
        LINK_STATS,
        &[
            text(&link.id),
            int(s.from),
            int(s.to),
            int(s.day_from),
            int(s.day_to),
            int(w.interval.ms()),
        ],
    )
    .await?;
    Ok(ok(link_stats_json(&link.id, &w, &rows)))
}

/// The rollup rows of a workspace in a window (`?1` workspace, `?2..?5` as
/// in `LINK_STATS`), restricted to one dimension (`?6`).
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

#[derive(serde::Deserialize)]
struct TopLink {
    id: String,
    slug: String,
    domain: String,
    title: Option<String>,
    clicks: i64,
}

pub async fn workspace(ctx: &Ctx, caller: &Caller, req: &Request) -> ApiResult<Response> {
    let q = Query::of(req);
    let limit = edgelink_core::input::query_int(q.get("limit"), "limit", 10, 1, 100)?;
    let db = ctx.db()?;
    let created = workspaces::get(&db, &caller.workspace_id)
        .await?
        .map(|w| w.created_at)
        .unwrap_or(ctx.now);
    let start = origin(
        ctx,
        created,
        &q,
        "SELECT MIN(day) AS n FROM click_rollup_day WHERE workspace_id = ?1 AND dim = 'total'",
        &caller.workspace_id,
    )
    .await?;
    let w = window(&q, ctx.now, start)?;
    let s = w.split();
    let args = |dim: &str| {
        vec![
            text(&caller.workspace_id),
            int(s.from),
            int(s.to),
            int(s.day_from),
            int(s.day_to),
            text(dim),
        ]
    };
    let with_limit = |dim: &str| {
        let mut a = args(dim);
        a.push(int(limit));
        a
    };
    let totals_sql = ws_rows(
        &format!(
            "b - b % {} AS bucket, SUM(clicks) AS clicks",
            w.interval.ms()
        ),
        "GROUP BY bucket",
    );
    let countries_sql = ws_rows(
        "value, SUM(clicks) AS clicks",
        "GROUP BY value ORDER BY clicks DESC, value LIMIT ?7",
    );
    // Deleted links drop out of the top list (their clicks stay in totals).
    let links_sql = ws_rows(
        "r.link_id AS id, l.slug, l.domain, l.title, SUM(r.clicks) AS clicks",
        "JOIN links l ON l.id = r.link_id AND l.workspace_id = ?1 \
         GROUP BY r.link_id ORDER BY clicks DESC, r.link_id LIMIT ?7",
    );
    let results = db
        .batch(vec![
            stmt(&db, &totals_sql, &args("total"))?,
            stmt(&db, &countries_sql, &with_limit("country"))?,
            stmt(&db, &links_sql, &with_limit("total"))?,
        ])
        .await
        .map_err(internal("workspace stats"))?;
    let get = |i: usize| results.get(i).ok_or(ApiError::Internal);
    let totals: Vec<BucketRow> = get(0)?.results().map_err(internal("stats rows"))?;
    let countries: Vec<ValueRow> = get(1)?.results().map_err(internal("stats rows"))?;
    let top: Vec<TopLink> = get(2)?.results().map_err(internal("stats rows"))?;
    let top = top
        .into_iter()
        .map(|l| {
            json!({
                "id": l.id,
                "shortUrl": format!("{}://{}/{}", ctx.scheme, l.domain, l.slug),
                "slug": l.slug,
                "domain": l.domain,
                "title": l.title,
                "clicks": l.clicks,
            })
        })
        .collect();
    Ok(ok(summary_json(&w, &totals, &countries, top)))
}

const PAGE: i64 = 1000;

/// Keyset pagination over `(link_id, ts, id)`: each page starts at the
/// last row's time, so every page is an index range, never an OFFSET.
const CSV_PAGE: &str = "SELECT id, ts, country, device, os, browser, referrer, qr, visitor \
    FROM clicks WHERE link_id = ?1 AND ts >= ?2 AND ts < ?3 AND (ts > ?2 OR id > ?4) \
    ORDER BY ts, id LIMIT ?5";

struct CsvCursor {
    db: D1Database,
    link_id: String,
    to: i64,
    ts: i64,
    id: String,
    started: bool,
    done: bool,
}

async fn next_page(mut c: CsvCursor) -> Option<(worker::Result<Vec<u8>>, CsvCursor)> {
    if c.done {
        return None;
    }
    if !c.started {
        c.started = true;
        return Some((Ok(CSV_HEADER.as_bytes().to_vec()), c));
    }
    let rows: ApiResult<Vec<ClickRow>> = all(
        &c.db,
        CSV_PAGE,
        &[
            text(&c.link_id),
            int(c.ts),
            int(c.to),
            text(&c.id),
            int(PAGE),
        ],
    )
    .await;
    match rows {
        Err(e) => {
            // The client sees a truncated body; the cause is in the log.
            c.done = true;
            Some((Err(worker::Error::RustError(e.to_string())), c))
        }
        Ok(rows) if rows.is_empty() => None,
        Ok(rows) => {
            c.done = (rows.len() as i64) < PAGE;
            let last = rows.last().expect("non-empty");
            c.ts = last.ts;
            c.id = last.id.clone();
            let body: String = rows.iter().map(csv_line).collect();
            Some((Ok(body.into_bytes()), c))
        }
    }
}

/// Raw clicks of a link in a window (default: everything still retained),
/// streamed page by page as CSV. No IP column exists to leak.
pub async fn clicks_csv(
    ctx: &Ctx,
    caller: &Caller,
    req: &Request,
    id: &str,
) -> ApiResult<Response> {
    let q = Query::of(req);
    let link = load(ctx, caller, id).await?;
    let start = origin(
        ctx,
        link.created_at,
        &q,
        "SELECT MIN(ts) AS n FROM clicks WHERE link_id = ?1",
        &link.id,
    )
    .await?;
    let w = window(&q, ctx.now, start)?;
    let cursor = CsvCursor {
        db: ctx.db()?,
        link_id: link.id.clone(),
        to: w.to,
        ts: w.from,
        id: String::new(),
        started: false,
        done: false,
    };
    let stream = futures_util::stream::unfold(cursor, next_page);
    let mut resp = Response::from_stream(stream).map_err(internal("CSV stream"))?;
    let h = resp.headers_mut();
    let _ = h.set("Content-Type", "text/csv; charset=utf-8");
    let _ = h.set(
        "Content-Disposition",
        &format!("attachment; filename=\"{}-clicks.csv\"", link.id),
    );
    let _ = h.set("Cache-Control", "no-store");
    Ok(resp)
}
