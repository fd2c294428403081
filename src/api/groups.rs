//! `/api/v1/groups`: link groups (xiaomark's `group_id`).

use edgelink_core::ids::GroupId;
use edgelink_core::input::Fields;
use edgelink_core::{ApiError, ApiResult};
use worker::{Request, Response};

use crate::auth::Caller;
use crate::http::{created, found, no_content, ok, paged, random_bytes, Ctx};
use crate::router::{Call, Route};
use crate::store::groups::{self, Group};
use crate::store::links;

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    crate::crud!("/api/v1/groups", "Group", "Groups": list create get update delete)
}

pub async fn create(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    let body = caller.write_body(req).await?;
    let f = Fields::only(&body, &["name", "description"])?;
    let g = Group {
        id: GroupId::new(&random_bytes::<16>()),
        workspace_id: caller.workspace_id.clone(),
        name: f.required_string("name", 100)?,
        description: f.nullable_string("description", 1000)?.flatten(),
        created_at: ctx.now,
        updated_at: ctx.now,
        link_count: 0,
    };
    groups::insert(&ctx.db()?, &g).await?;
    Ok(created(g.to_json()))
}

async fn load(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Group> {
    found(
        groups::get(&ctx.db()?, &caller.workspace_id, id).await?,
        "Group",
    )
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    Ok(ok(load(ctx, caller, id).await?.to_json()))
}

pub async fn list(ctx: &Ctx, caller: &Caller, req: &Request) -> ApiResult<Response> {
    let db = ctx.db()?;
    let fetch = |n, skip| groups::list(&db, &caller.workspace_id, n, skip);
    paged(req, fetch, Group::to_json).await
}

pub async fn update(ctx: &Ctx, caller: &Caller, call: &mut Call) -> ApiResult<Response> {
    let (req, id) = call.split();
    let body = caller.write_body(req).await?;
    let f = Fields::new(&body);
    f.deny_unknown(
        &["name", "description"],
        &["id", "linkCount", "createdAt", "updatedAt"],
    )?;
    let mut g = load(ctx, caller, id).await?;
    if let Some(n) = f.string("name", 100)? {
        if n.trim().is_empty() {
            return Err(ApiError::validation("name", "must not be empty"));
        }
        g.name = n;
    }
    if let Some(d) = f.nullable_string("description", 1000)? {
        g.description = d;
    }
    g.updated_at = ctx.now;
    groups::update(&ctx.db()?, &g).await?;
    Ok(ok(g.to_json()))
}

/// Deleting a group keeps its links, ungrouped.
pub async fn delete(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require_write()?;
    let db = ctx.db()?;
    if !groups::delete(&db, &caller.workspace_id, id).await? {
        return Err(ApiError::not_found("Group"));
    }
    links::clear_group(&db, &caller.workspace_id, id, ctx.now).await?;
    Ok(no_content())
}
