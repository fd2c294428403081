//! The worker: a route table (`router`), thin handlers, D1/KV stores and the queue
//! consumer. Domain rules live in `edgelink_core`.

use worker::worker_sys::web_sys;
use worker::{
    event, Context, Env, MessageBatch, Request, Response, ScheduleContext, ScheduledEvent,
};

mod aggregator;
mod analytics;
mod api;
mod auth;
mod blocklist;
mod clock;
mod config;
#[cfg(feature = "test-hooks")]
mod faults;
mod http;
mod imports;
mod jobs;
mod kvsync;
mod redirect;
pub mod router;
// Native only (build time): the wasm never carries the document.
#[cfg(not(target_arch = "wasm32"))]
pub mod openapi;
mod store;
mod views;
mod webhooks;

pub use aggregator::ClickAggregator;
use http::Ctx;

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Takes the runtime's request as it is: `worker::Request::from` would
/// read its method, URL, headers and `cf` object up front (the `cf` getter
/// alone was the largest item of the workers-rs floor's extra time in the
/// profile, see README "Performance"); the redirect reads the URL once and
/// `cf` only when it needs the country.
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, wctx: Context) -> worker::Result<Response> {
    // Three prefix checks, then the redirect: the route table costs a
    // short link nothing.
    let url = req.url();
    let path = edgelink_core::url::RequestUrl::split(&url).path;
    if ["/api/", "/v2/", "/bio/"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        let req = Request::from(req);
        let ctx = Ctx::new(env, &req);
        return Ok(router::answer(&ctx, req).await);
    }
    redirect::handle(req, &url, env, wctx).await
}

/// Three Queues, told apart by their exact configured names
/// (`EVENTS_QUEUE`, `WEBHOOKS_QUEUE`, `JOBS_QUEUE`): click events
/// (src/analytics.rs), webhook deliveries (src/webhooks.rs) and background
/// jobs (src/jobs.rs).
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
        Some(config::QueueKind::Jobs) => jobs::consume(batch, env, &cfg).await,
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
/// Queue message was lost (src/webhooks.rs) and repairs KV records a
/// multi-link write left behind (src/kvsync.rs) and re-sends the due chunk
/// of imports whose message was lost (src/imports.rs).
#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    webhooks::sweep(&env).await;
    let now = worker::Date::now().as_millis() as i64;
    kvsync::sweep(&env, now).await;
    imports::sweep(&env, now).await;
}
