//! Analytics reads: `GET /api/v1/links/{id}/stats` (JSON, or CSV with
//! `format=csv`), `GET /api/v1/links/{id}/clicks.csv` and the workspace
//! summary `GET /api/v1/stats`. Windows and shapes: `edgelink_core::stats`.

use edgelink_core::stats::{
    csv_line, link_stats_json, summary_json, Window, WindowParams, CSV_HEADER,
};
use edgelink_core::{ApiError, ApiResult};
use serde_json::json;
use worker::{Method, Request, Response};

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

/// `period=all` (also the default) starts at the origin: the creation of
/// the link or workspace, or its first counted day if that is earlier
/// (clicks imported or seeded with older times).
async fn origin(ctx: &Ctx, created_at: i64, q: &Query, of: Origin<'_>) -> ApiResult<i64> {
    let given = |n: &str| q.get(n).is_some_and(|v| !v.trim().is_empty());
    let all = q.get("period").map(str::trim) == Some("all")
        || !(given("period") || given("from") || given("to"));
    if !all {
        return Ok(created_at);
    }
    let min = clicks::origin(&ctx.db()?, of).await?;
    Ok(min.map_or(created_at, |d| d.min(created_at)))
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
    let start = origin(ctx, link.created_at, &q, Origin::LinkRollups(&link.id)).await?;
    let w = window(&q, ctx.now, start)?;
    let rows = clicks::rollups(
        &ctx.db()?,
        Scope::Link(&link.id),
        &w.split(),
        w.interval.ms(),
    )
    .await?;
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
    let start = origin(
        ctx,
        created,
        &q,
        Origin::WorkspaceRollups(&caller.workspace_id),
    )
    .await?;
    let w = window(&q, ctx.now, start)?;
    let summary = clicks::workspace_summary(
        &db,
        &caller.workspace_id,
        &w.split(),
        w.interval.ms(),
        limit,
    )
    .await?;
    let top = summary
        .top
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
    let start = origin(ctx, link.created_at, &q, Origin::LinkClicks(&link.id)).await?;
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
