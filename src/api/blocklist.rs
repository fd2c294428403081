//! `/api/v1/admin/blocklist` (operator token): the hosts no link may point
//! at. Adding one bans the links that do, in every workspace, through the
//! JOBS queue; removing one lifts exactly those bans (src/blocklist.rs).

use edgelink_core::blocklist::HostPattern;
use edgelink_core::ids::BlockId;
use edgelink_core::input::Fields;
use edgelink_core::jobs::Job;
use edgelink_core::time::format_rfc3339;
use edgelink_core::{ApiError, ApiResult};
use serde_json::{json, Value};
use worker::{Method, Request, Response};

use crate::blocklist::enqueue;
use crate::http::{created, json_body, no_content, paged, random_bytes, Ctx};
use crate::router::Route;
use crate::store::blocklist::{self as store, Block};
use crate::store::OnConstraint;

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    vec![
        Route::operator(Method::Get, "/api/v1/admin/blocklist", "listBlockedHosts", |x, r| Box::pin(list(x, &r.req))),
        Route::operator(Method::Post, "/api/v1/admin/blocklist", "blockHost", |x, r| Box::pin(create(x, &mut r.req))),
        Route::operator(Method::Delete, "/api/v1/admin/blocklist/{id}", "unblockHost", |x, r| Box::pin(delete(x, &r.params[0]))),
    ]
}

impl Block {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "host": self.host,
            "bannedLinks": self.banned_links,
            "createdAt": format_rfc3339(self.created_at),
        })
    }
}

async fn list(ctx: &Ctx, req: &Request) -> ApiResult<Response> {
    let db = ctx.db()?;
    paged(
        req,
        |limit, offset| store::list(&db, limit, offset),
        Block::to_json,
    )
    .await
}

/// 201 at once; the bans follow through the queue (`bannedLinks` counts
/// them as they land).
async fn create(ctx: &Ctx, req: &mut Request) -> ApiResult<Response> {
    let body = json_body(req).await?;
    let f = Fields::only(&body, &["host"])?;
    let host = HostPattern::parse(
        &f.required_string("host", edgelink_core::blocklist::MAX_PATTERN)?,
        "host",
    )?;
    let block = Block {
        id: BlockId::new(&random_bytes::<16>()),
        host,
        created_at: ctx.now,
        banned_links: 0,
    };
    let db = ctx.db()?;
    store::insert(&db, &block)
        .await
        .on_constraint(|c| c.default_error())?;
    let job = Job::BlockHost {
        block: block.id.clone(),
        cursor: None,
    };
    if let Err(e) = enqueue(ctx, &job).await {
        // Without its job the block would ban nothing: undo, let the
        // operator retry.
        let _ = store::delete(&db, &block.id).await;
        return Err(e);
    }
    Ok(created(block.to_json()))
}

/// `{id}` is the block's id or its host. 204; the bans it set are lifted
/// through the queue.
async fn delete(ctx: &Ctx, id_or_host: &str) -> ApiResult<Response> {
    let db = ctx.db()?;
    let key = id_or_host.trim().to_ascii_lowercase();
    let block = match store::get(&db, id_or_host).await? {
        Some(b) => b,
        None => store::get(&db, &key)
            .await?
            .ok_or_else(|| ApiError::not_found("Blocked host"))?,
    };
    // Row first: link writes are checked against the rows, and a block
    // job still running stops at its next chunk.
    store::delete(&db, &block.id).await?;
    enqueue(ctx, &Job::UnblockHost { block: block.id }).await?;
    Ok(no_content())
}
