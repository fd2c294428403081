//! The worker: a route table (`router`), thin handlers, D1/KV stores and the queue
//! consumer. Domain rules live in `edgelink_core`.

use std::future::Future;

use wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::wasm_bindgen_futures;
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

/// The fetch export, written out rather than `#[event(fetch)]` (which makes
/// every answer an `async` export): a hot-link-cache hit is answered
/// synchronously with the `Response` itself, skipping the Promise and
/// microtask glue of an async export (the largest part of the workers-rs
/// floor's extra cost in the profile, see README "Performance"); anything
/// that awaits returns a Promise. A JS `fetch` handler may return either,
/// and worker-build's shim passes the value through.
///
/// Takes the runtime's request as it is: `worker::Request::from` would
/// read its method, URL, headers and `cf` object up front (the `cf` getter
/// was the next largest item); the redirect reads the URL once and `cf`
/// only when it needs the country.
#[wasm_bindgen]
pub fn fetch(req: web_sys::Request, env: Env, ctx: worker::worker_sys::Context) -> JsValue {
    let wctx = Context::new(ctx);
    // Three prefix checks, then the redirect: the route table costs a
    // short link nothing.
    let url = req.url();
    let path = edgelink_core::url::RequestUrl::split(&url).path;
    if ["/api/", "/v2/", "/bio/"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        return promise(async move {
            let req = Request::from(req);
            let ctx = Ctx::new(env, &req);
            Ok(router::answer(&ctx, req).await)
        });
    }
    if let Some(answer) = redirect::answer_now(&req, &url, &env, &wctx) {
        return respond(answer);
    }
    promise(async move { redirect::handle(req, &url, env, wctx).await })
}

/// The async half of [`fetch`], as `#[event(fetch)]` drove it.
fn promise(
    answer: impl Future<Output = worker::Result<impl Into<web_sys::Response>>> + 'static,
) -> JsValue {
    wasm_bindgen_futures::future_to_promise(async move { Ok(respond(answer.await)) }).into()
}

/// A handler's result as the runtime's `Response`, an error logged and
/// answered 500 as `#[event(fetch)]` does.
fn respond(answer: worker::Result<impl Into<web_sys::Response>>) -> JsValue {
    let answer = answer.map(Into::into).or_else(|e| {
        worker::console_error!("{e}");
        Response::error("INTERNAL SERVER ERROR", 500).map(Into::into)
    });
    // Building that 500 cannot fail in practice (the macro unwraps it);
    // `undefined` would still make the runtime answer 500.
    answer.map_or(JsValue::UNDEFINED, JsValue::from)
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
