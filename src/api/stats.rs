//! Analytics reads: `GET /api/v1/links/{id}/stats` (JSON, or CSV with
//! `format=csv`), `GET /api/v1/links/{id}/clicks.csv` and the workspace
//! summary `GET /api/v1/stats`. Windows and shapes: `edgelink_core::stats`.

use edgelink_core::stats::{
    csv_line, link_stats_json, summary_json, Window, WindowParams, CSV_HEADER,
};
use edgelink_core::{ApiError, ApiResult};
use serde_json::json;
use worker::{D1Database, Method, Request, Response};

use crate::api::links::load;
use crate::auth::Caller;
use crate::http::{internal, ok, Ctx, Query};
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
    let rows = clicks::raw_page(&c.db, &c.link_id, c.ts, &c.id, c.to, PAGE).await;
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
    let start = origin(ctx, link.created_at, &q, Origin::LinkClicks(&link.id)).await?;
    let w = window(&q, ctx.now, start)?;
    let cursor = CsvCursor {
        db: ctx.db()?,
        link_id: link.id.to_string(),
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
