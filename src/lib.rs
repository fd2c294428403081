//! The worker: a route table, thin handlers, D1/KV stores and the queue
//! consumer. Domain rules live in `edgelink_core`.

use edgelink_core::{ApiError, ApiResult};
use worker::{
    event, Context, Env, MessageBatch, Method, Request, Response, ScheduleContext, ScheduledEvent,
};

mod analytics;
mod api;
mod auth;
mod clock;
mod config;
mod http;
mod redirect;
mod store;
mod views;
mod webhooks;

use http::{error_response, set_headers, Ctx};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, wctx: Context) -> worker::Result<Response> {
    let path = req.path();
    if path.starts_with("/api/") || path.starts_with("/v2/") {
        let ctx = Ctx::new(env, &req);
        return Ok(api_response(&ctx, req).await);
    }
    if let Some(slug) = path.strip_prefix("/bio/") {
        if matches!(req.method(), Method::Get | Method::Head) {
            let ctx = Ctx::new(env, &req);
            return Ok(api::galleries::page(&ctx, slug)
                .await
                .unwrap_or_else(|e| error_response(&e)));
        }
    }
    redirect::handle(req, env, wctx).await
}

/// Two Queues, told apart by their exact configured names
/// (`EVENTS_QUEUE`, `WEBHOOKS_QUEUE`): click events (src/analytics.rs) and
/// webhook deliveries (src/webhooks.rs).
#[event(queue)]
pub async fn queue(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    _ctx: Context,
) -> worker::Result<()> {
    let cfg = config::get(&env);
    match cfg.queue_kind(&batch.queue()) {
        Some(config::QueueKind::Events) => analytics::consume(batch, env, &cfg).await,
        Some(config::QueueKind::Webhooks) => webhooks::consume(batch, env, &cfg).await,
        None => {
            // A consumer binding this worker has no handler for: keep the
            // messages (retried, then dead-lettered) rather than drop them.
            worker::console_error!("no consumer for queue {}", batch.queue());
            batch.retry_all();
            Ok(())
        }
    }
}

/// The cron trigger (every minute): re-queues webhook deliveries whose
/// Queue message was lost (src/webhooks.rs).
#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    webhooks::sweep(&env).await;
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
    if let ["v2", ..] = seg {
        return api::xiaomark::route(ctx, req, method, seg).await;
    }
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
        // A known operator path with another method (before any auth, as
        // for the other routes: the method is wrong whoever asks).
        (_, ["api", "v1", "admin", "workspaces"])
        | (_, ["api", "v1", "admin", "workspaces", _])
        | (_, ["api", "v1", "admin", "links", _]) => {
            return (Err(ApiError::MethodNotAllowed), vec![]);
        }
        // Public: this API's own description.
        (Get, ["api", "v1", "openapi.json"]) => return (Ok(api::openapi()), vec![]),
        (_, ["api", "v1", "openapi.json"]) => return (Err(ApiError::MethodNotAllowed), vec![]),
        // Public, no key: limited per client IP instead (src/api/qr.rs).
        (Post, ["api", "v1", "qr", "generate"]) => return api::qr::generate(ctx, req).await,
        (_, ["api", "v1", "qr", "generate"]) => return (Err(ApiError::MethodNotAllowed), vec![]),
        _ => {}
    }
    if !matches!(seg, ["api", "v1", ..]) || seg.len() < 3 {
        return (Err(ApiError::NotFound("No such endpoint".into())), vec![]);
    }
    if !known_path(seg) {
        return (Err(ApiError::NotFound("No such endpoint".into())), vec![]);
    }
    let caller = match auth::caller_with_limits(ctx, req).await {
        Ok(c) => c,
        Err((e, limit_headers)) => return (Err(e), limit_headers),
    };
    let headers = caller.limit_headers.clone();
    let c = &caller;
    let result = match (method, &seg[2..]) {
        (Get, ["links"]) => api::links::list(ctx, c, req).await,
        (Post, ["links"]) => api::links::create(ctx, c, req).await,
        (Get, ["links", id]) => api::links::get(ctx, c, id).await,
        (Patch, ["links", id]) => api::links::update(ctx, c, req, id).await,
        (Delete, ["links", id]) => api::links::delete(ctx, c, id).await,
        (Get, ["links", id, "stats"]) => api::stats::link(ctx, c, req, id).await,
        (Get, ["links", id, "clicks.csv"]) => api::stats::clicks_csv(ctx, c, req, id).await,
        (Get, ["stats"]) => api::stats::workspace(ctx, c, req).await,
        (Get, ["groups"]) => api::groups::list(ctx, c, req).await,
        (Post, ["groups"]) => api::groups::create(ctx, c, req).await,
        (Get, ["groups", id]) => api::groups::get(ctx, c, id).await,
        (Patch, ["groups", id]) => api::groups::update(ctx, c, req, id).await,
        (Delete, ["groups", id]) => api::groups::delete(ctx, c, id).await,
        (Get, ["keys"]) => api::keys::list(ctx, c, req).await,
        (Post, ["keys"]) => api::keys::create(ctx, c, req).await,
        (Get, ["keys", id]) => api::keys::get(ctx, c, id).await,
        (Delete, ["keys", id]) => api::keys::revoke(ctx, c, id).await,
        (Get, ["qr"]) => api::qr::list(ctx, c, req).await,
        (Post, ["qr"]) => api::qr::create(ctx, c, req).await,
        (Get, ["qr", id]) => api::qr::get(ctx, c, id).await,
        (Patch, ["qr", id]) => api::qr::update(ctx, c, req, id).await,
        (Delete, ["qr", id]) => api::qr::delete(ctx, c, id).await,
        (Get, ["qr", id, "download"]) => api::qr::download(ctx, c, req, id).await,
        (Get, ["galleries"]) => api::galleries::list(ctx, c, req).await,
        (Post, ["galleries"]) => api::galleries::create(ctx, c, req).await,
        (Get, ["galleries", id]) => api::galleries::get(ctx, c, id).await,
        (Patch, ["galleries", id]) => api::galleries::update(ctx, c, req, id).await,
        (Delete, ["galleries", id]) => api::galleries::delete(ctx, c, id).await,
        (Post, ["galleries", id, "publish"]) => api::galleries::publish(ctx, c, req, id).await,
        (Get, ["galleries", id, "items"]) => api::galleries::list_items(ctx, c, id).await,
        (Post, ["galleries", id, "items"]) => api::galleries::create_item(ctx, c, req, id).await,
        (Patch, ["galleries", id, "items", "reorder"]) => {
            api::galleries::reorder(ctx, c, req, id).await
        }
        (Patch, ["galleries", id, "items", item]) => {
            api::galleries::update_item(ctx, c, req, id, item).await
        }
        (Delete, ["galleries", id, "items", item]) => {
            api::galleries::delete_item(ctx, c, id, item).await
        }
        (Get, ["domains"]) => api::domains::list(ctx, c, req).await,
        (Post, ["domains"]) => api::domains::create(ctx, c, req).await,
        (Get, ["domains", id]) => api::domains::get(ctx, c, id).await,
        (Delete, ["domains", id]) => api::domains::delete(ctx, c, id).await,
        (Post, ["domains", id, "verify"]) => api::domains::verify(ctx, c, id).await,
        (Get, ["webhooks"]) => api::webhooks::list(ctx, c, req).await,
        (Post, ["webhooks"]) => api::webhooks::create(ctx, c, req).await,
        (Get, ["webhooks", id]) => api::webhooks::get(ctx, c, id).await,
        (Patch, ["webhooks", id]) => api::webhooks::update(ctx, c, req, id).await,
        (Delete, ["webhooks", id]) => api::webhooks::delete(ctx, c, id).await,
        (Post, ["webhooks", id, "test"]) => api::webhooks::test(ctx, c, id).await,
        (Get, ["webhooks", id, "deliveries"]) => api::webhooks::deliveries(ctx, c, req, id).await,
        (Get, ["webhooks", id, "deliveries", d]) => api::webhooks::delivery(ctx, c, id, d).await,
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
            | ["links", _, "clicks.csv"]
            | ["stats"]
            | ["groups"]
            | ["groups", _]
            | ["keys"]
            | ["keys", _]
            | ["qr"]
            | ["qr", _]
            | ["qr", _, "download"]
            | ["galleries"]
            | ["galleries", _]
            | ["galleries", _, "publish"]
            | ["galleries", _, "items"]
            | ["galleries", _, "items", _]
            | ["domains"]
            | ["domains", _]
            | ["domains", _, "verify"]
            | ["webhooks"]
            | ["webhooks", _]
            | ["webhooks", _, "test"]
            | ["webhooks", _, "deliveries"]
            | ["webhooks", _, "deliveries", _]
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
