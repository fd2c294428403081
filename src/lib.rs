//! The worker: a route table, thin handlers, D1/KV stores and the queue
//! consumer. Domain rules live in `edgelink_core`.

use edgelink_core::{ApiError, ApiResult};
use worker::{event, Context, Env, Method, Request, Response};

mod api;
mod auth;
mod http;
pub mod redirect;
mod store;

use http::{error_response, set_headers, Ctx};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, wctx: Context) -> worker::Result<Response> {
    let path = req.path();
    if path.starts_with("/api/") || path.starts_with("/v2/") {
        let ctx = Ctx::new(env);
        return Ok(api_response(&ctx, req).await);
    }
    redirect::handle(req, env, wctx).await
}

/// Runs an API route and renders its error, if any, in the envelope.
async fn api_response(ctx: &Ctx, mut req: Request) -> Response {
    let path = req.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method();
    let (result, limit_headers) = route(ctx, &mut req, &method, &segments).await;
    let mut resp = result.unwrap_or_else(|e| error_response(&e));
    set_headers(&mut resp, &limit_headers);
    resp
}

type Routed = (ApiResult<Response>, Vec<(&'static str, String)>);

/// The route table. Authenticated routes get the caller (and its rate-limit
/// headers) first; anything unmatched is a 404 in the envelope.
async fn route(ctx: &Ctx, req: &mut Request, method: &Method, seg: &[&str]) -> Routed {
    use Method::*;
    match (method, seg) {
        (Post, ["api", "v1", "admin", "workspaces"]) => {
            return (
                admin(ctx, req, |c, r| {
                    Box::pin(api::admin::create_workspace(c, r))
                })
                .await,
                vec![],
            );
        }
        (Patch, ["api", "v1", "admin", "workspaces", id]) => {
            let id = id.to_string();
            return (
                admin(ctx, req, move |c, r| {
                    Box::pin(async move { api::admin::update_workspace(c, r, &id).await })
                })
                .await,
                vec![],
            );
        }
        (Patch, ["api", "v1", "admin", "links", id]) => {
            let id = id.to_string();
            return (
                admin(ctx, req, move |c, r| {
                    Box::pin(async move { api::admin::update_link(c, r, &id).await })
                })
                .await,
                vec![],
            );
        }
        _ => {}
    }
    if !matches!(seg, ["api", "v1", ..]) || seg.len() < 3 {
        return (Err(ApiError::NotFound("No such endpoint".into())), vec![]);
    }
    if !known_path(seg) {
        return (Err(ApiError::NotFound("No such endpoint".into())), vec![]);
    }
    let caller = match auth::caller(ctx, req).await {
        Ok(c) => c,
        Err(e) => return (Err(e), vec![]),
    };
    let headers = caller.limit_headers.clone();
    let c = &caller;
    let result = match (method, &seg[2..]) {
        (Get, ["links"]) => api::links::list(ctx, c, req).await,
        (Post, ["links"]) => api::links::create(ctx, c, req).await,
        (Get, ["links", id]) => api::links::get(ctx, c, id).await,
        (Patch, ["links", id]) => api::links::update(ctx, c, req, id).await,
        (Delete, ["links", id]) => api::links::delete(ctx, c, id).await,
        (Get, ["links", id, "stats"]) => api::links::stats(ctx, c, req, id).await,
        (Get, ["groups"]) => api::groups::list(ctx, c, req).await,
        (Post, ["groups"]) => api::groups::create(ctx, c, req).await,
        (Get, ["groups", id]) => api::groups::get(ctx, c, id).await,
        (Patch, ["groups", id]) => api::groups::update(ctx, c, req, id).await,
        (Delete, ["groups", id]) => api::groups::delete(ctx, c, id).await,
        (Get, ["keys"]) => api::keys::list(ctx, c).await,
        (Post, ["keys"]) => api::keys::create(ctx, c, req).await,
        (Get, ["keys", id]) => api::keys::get(ctx, c, id).await,
        (Delete, ["keys", id]) => api::keys::revoke(ctx, c, id).await,
        _ => Err(ApiError::MethodNotAllowed),
    };
    (result, headers)
}

/// Paths that exist under `/api/v1/` for some method (others are 404
/// before authentication; a wrong method on a real path is 405).
fn known_path(seg: &[&str]) -> bool {
    matches!(
        &seg[2..],
        ["links"]
            | ["links", _]
            | ["links", _, "stats"]
            | ["groups"]
            | ["groups", _]
            | ["keys"]
            | ["keys", _]
    )
}

type BoxFut<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<Response>> + 'a>>;

async fn admin<'a, F>(ctx: &'a Ctx, req: &'a mut Request, f: F) -> ApiResult<Response>
where
    F: FnOnce(&'a Ctx, &'a mut Request) -> BoxFut<'a>,
{
    auth::require_admin(ctx, req)?;
    f(ctx, req).await
}
