//! Analytics reads: `GET /api/v1/links/{id}/stats` (JSON, or CSV with
//! `format=csv`), `GET /api/v1/links/{id}/clicks.csv` and the workspace
//! summary `GET /api/v1/stats`. Windows and shapes: `edgelink_core::stats`.

use std::collections::BTreeMap;

use edgelink_core::aggregate::{live_origin, live_rows, live_totals, LiveEntry};
use edgelink_core::stats::{
    csv_line, link_stats_json, summary_json, RollupRow, Window, WindowParams, CSV_HEADER,
};
use edgelink_core::{ApiError, ApiResult};
use serde_json::json;
use worker::{Method, Request, Response};

use crate::aggregator;
use crate::api::links::load;
use crate::auth::Caller;
use crate::http::{ok, paged_csv, Ctx, Query};
use crate::router::Route;
use crate::store::clicks::{self, Origin, Scope};
use crate::store::workspaces;

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    vec![
        Route::key(Method::Get, "/api/v1/links/{id}/stats", "getLinkStats", |x, c, r| Box::pin(link(x, c, &r.req, &r.params[0]))),
        Route::key(Method::Get, "/api/v1/links/{id}/clicks.csv", "exportLinkClicks", |x, c, r| Box::pin(clicks_csv(x, c, &r.req, &r.params[0]))),
        Route::key(Method::Get, "/api/v1/stats", "getWorkspaceStats", |x, c, r| Box::pin(workspace(x, c, &r.req))),
    ]
}

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

/// The aggregator's unflushed commits: per shard, its entries.
type Live = Vec<(u32, Vec<LiveEntry>)>;

/// `period=all` (also the default) starts at the origin: the creation of
/// the link or workspace, or its first counted day if that is earlier
/// (clicks imported or seeded with older times), in D1 or still live.
async fn origin(
    ctx: &Ctx,
    created_at: i64,
    q: &Query,
    of: Origin<'_>,
    live: &Live,
) -> ApiResult<i64> {
    let given = |n: &str| q.get(n).is_some_and(|v| !v.trim().is_empty());
    let all = q.get("period").map(str::trim) == Some("all")
        || !(given("period") || given("from") || given("to"));
    if !all {
        return Ok(created_at);
    }
    let min = clicks::origin(&ctx.db()?, of).await?;
    let live_min = live.iter().filter_map(|(_, e)| live_origin(e, 0)).min();
    Ok([min, live_min, Some(created_at)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(created_at))
}

/// The live rows D1 does not hold yet (each shard's entries after its
/// watermark in the same D1 read), in the window.
fn live_part(live: &Live, marks: &BTreeMap<u32, u64>, w: &Window) -> Vec<RollupRow> {
    let s = w.split();
    live.iter()
        .flat_map(|(shard, e)| {
            live_rows(
                e,
                marks.get(shard).copied().unwrap_or(0),
                s.from,
                s.to,
                w.interval.ms(),
            )
        })
        .collect()
}

pub async fn link(ctx: &Ctx, caller: &Caller, req: &Request, id: &str) -> ApiResult<Response> {
    let q = Query::of(req);
    match q.get("format") {
        None | Some("") | Some("json") => {}
        Some("csv") => return clicks_csv(ctx, caller, req, id).await,
        Some(_) => return Err(ApiError::validation("format", "must be json or csv")),
    }
    // The link first: another workspace's id is a 404 whatever the query.
    let link = load(ctx, caller, id).await?;
    // The object first, then D1: a flush in between shows up as a higher
    // watermark, and the live entries it covers are dropped.
    let live =
        aggregator::live(&ctx.env, ctx.config.analytics_shards, Some(&link.id), None).await?;
    let start = origin(
        ctx,
        link.created_at,
        &q,
        Origin::LinkRollups(&link.id),
        &live,
    )
    .await?;
    let w = window(&q, ctx.now, start)?;
    let (mut rows, marks) = clicks::rollups(
        &ctx.db()?,
        Scope::Link(&link.id),
        &w.split(),
        w.interval.ms(),
    )
    .await?;
    rows.extend(live_part(&live, &marks, &w));
    Ok(ok(link_stats_json(&link.id, &w, &rows)))
}

pub async fn workspace(ctx: &Ctx, caller: &Caller, req: &Request) -> ApiResult<Response> {
    let q = Query::of(req);
    let limit = edgelink_core::input::query_int(q.get("limit"), "limit", 10, 1, 100)?;
    let db = ctx.db()?;
    let created = workspaces::get(&db, &caller.workspace_id)
        .await?
        .map(|w| w.created_at)
        .unwrap_or(ctx.now);
    let live = aggregator::live(
        &ctx.env,
        ctx.config.analytics_shards,
        None,
        Some(&caller.workspace_id),
    )
    .await?;
    let start = origin(
        ctx,
        created,
        &q,
        Origin::WorkspaceRollups(&caller.workspace_id),
        &live,
    )
    .await?;
    let w = window(&q, ctx.now, start)?;
    let s = w.split();
    let live_links: Vec<&str> = live
        .iter()
        .flat_map(|(_, e)| e.iter().flat_map(|e| e.links.keys().map(String::as_str)))
        .collect();
    let mut summary =
        clicks::workspace_summary(&db, &caller.workspace_id, &s, w.interval.ms(), &live_links)
            .await?;
    summary
        .rows
        .extend(live_part(&live, &summary.watermarks, &w));
    let mut extra: BTreeMap<String, i64> = BTreeMap::new();
    for (shard, e) in &live {
        let mark = summary.watermarks.get(shard).copied().unwrap_or(0);
        for (id, n) in live_totals(e, mark, s.from, s.to) {
            *extra.entry(id).or_default() += n;
        }
    }
    for l in &mut summary.links {
        l.clicks += extra.get(&l.id).copied().unwrap_or(0);
    }
    summary.links.retain(|l| l.clicks > 0);
    summary
        .links
        .sort_by(|a, b| b.clicks.cmp(&a.clicks).then_with(|| a.id.cmp(&b.id)));
    summary.links.truncate(limit.max(0) as usize);
    let top = summary
        .links
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
    Ok(ok(summary_json(&w, &summary.rows, top, limit as usize)))
}

const PAGE: i64 = 1000;

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
    // The export lists the clicks D1 holds (flushed every
    // ANALYTICS_FLUSH_SECONDS).
    let start = origin(
        ctx,
        link.created_at,
        &q,
        Origin::LinkClicks(&link.id),
        &Vec::new(),
    )
    .await?;
    let w = window(&q, ctx.now, start)?;
    let (db, link_id, to) = (std::rc::Rc::new(ctx.db()?), link.id.to_string(), w.to);
    paged_csv(
        &format!("{}-clicks.csv", link.id),
        CSV_HEADER,
        PAGE,
        (w.from, String::new()),
        move |(ts, id): (i64, String)| {
            let (db, link_id) = (db.clone(), link_id.clone());
            async move { clicks::raw_page(&db, &link_id, ts, &id, to, PAGE).await }
        },
        |r| (r.ts, r.id.clone()),
        csv_line,
    )
}
