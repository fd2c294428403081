//! Operator endpoints under `/api/v1/admin/` (ADMIN_TOKEN).

use edgelink_core::ids::WorkspaceId;
use edgelink_core::input::Fields;
use edgelink_core::plan::{KeyScope, Plan};
use edgelink_core::{ApiError, ApiResult};
use serde_json::json;
use worker::{Method, Request, Response};

use crate::http::{created, json_body, ok, random_bytes, Ctx};
use crate::router::Route;
use crate::store::workspaces::{self, Workspace};
use crate::store::{links, records};

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    vec![
        Route::operator(Method::Post, "/api/v1/admin/workspaces", "createWorkspace", |x, r| Box::pin(create_workspace(x, &mut r.req))),
        Route::operator(Method::Patch, "/api/v1/admin/workspaces/{id}", "updateWorkspace", |x, r| Box::pin(update_workspace(x, &mut r.req, &r.params[0]))),
        Route::operator(Method::Patch, "/api/v1/admin/links/{id}", "moderateLink", |x, r| Box::pin(update_link(x, &mut r.req, &r.params[0]))),
    ]
}

fn plan_field(f: &Fields) -> ApiResult<Option<Plan>> {
    match f.string("plan", 20)? {
        None => Ok(None),
        Some(p) => Plan::parse(&p)
            .map(Some)
            .ok_or_else(|| ApiError::validation("plan", "must be free, pro or business")),
    }
}

/// Bootstrap: a workspace and its first (full) API key.
pub async fn create_workspace(ctx: &Ctx, req: &mut Request) -> ApiResult<Response> {
    let body = json_body(req).await?;
    let f = Fields::only(&body, &["name", "plan", "linkQuota"])?;
    let name = f.required_string("name", 100)?;
    let plan = plan_field(&f)?.unwrap_or(Plan::Free);
    let w = Workspace {
        id: WorkspaceId::new(&random_bytes::<16>()),
        name,
        plan,
        link_quota: f.int("linkQuota", 0, 100_000_000)?,
        created_at: ctx.now,
    };
    workspaces::insert(&ctx.db()?, &w).await?;
    let (key, plaintext) =
        crate::api::keys::issue(ctx, &w.id, "Default key", KeyScope::Full).await?;
    let mut api_key = key.to_json();
    api_key["key"] = json!(plaintext);
    Ok(created(
        json!({"workspace": w.to_json(), "apiKey": api_key}),
    ))
}

/// Change a workspace's plan, name or link quota.
pub async fn update_workspace(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult<Response> {
    let body = json_body(req).await?;
    let f = Fields::only(&body, &["name", "plan", "linkQuota"])?;
    let db = ctx.db()?;
    let mut w = workspaces::get(&db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Workspace"))?;
    if let Some(n) = f.string("name", 100)? {
        w.name = n;
    }
    if let Some(p) = plan_field(&f)? {
        w.plan = p;
    }
    if let Some(q) = f.nullable_int("linkQuota", 0, 100_000_000)? {
        w.link_quota = q;
    }
    workspaces::update(&db, &w).await?;
    Ok(ok(w.to_json()))
}

/// Ban or unban a link; the redirect answers 451 at once.
pub async fn update_link(ctx: &Ctx, req: &mut Request, id: &str) -> ApiResult<Response> {
    let body = json_body(req).await?;
    let f = Fields::only(&body, &["banned"])?;
    let banned = f
        .bool("banned")?
        .ok_or_else(|| ApiError::validation("banned", "is required"))?;
    let db = ctx.db()?;
    let mut link = links::get_any(&db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Link"))?;
    link.banned = banned;
    link.updated_at = ctx.now;
    // Also takes the ban off a block's account: an unblock never lifts an
    // operator's own ban.
    links::set_banned(&db, &link.id, banned, ctx.now).await?;
    records::put(&ctx.kv()?, &link).await?;
    let data = link.to_json(&ctx.scheme);
    crate::webhooks::emit(ctx, &link.workspace_id, "link.updated", data.clone()).await;
    Ok(ok(data))
}
