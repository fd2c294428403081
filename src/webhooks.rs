//! Webhook delivery: events become `webhook_deliveries` rows (one per
//! subscribed webhook), their ids go on the `WEBHOOKS` Queue, and the
//! consumer here POSTs each signed body, logs the attempt and reschedules
//! failures through the Queue (5 s, 30 s, 2 min, 10 min, then failed).
//!
//! Every attempt is claimed in D1 first (`store::webhooks::claim`), so a
//! Queue message delivered twice sends once. Targets are checked again at
//! send time: a private address is refused even if it was stored while the
//! deployment allowed them.

use edgelink_core::ids::{DeliveryId, EventId};
use edgelink_core::webhooks::{
    self as core_webhooks, resume_attempt, retry_delay, AttemptResult, DeliveryMessage, WebhookUrl,
    OVERDUE_MS, TIMEOUT_MS,
};
use futures_util::future::join_all;
use serde_json::Value;
use worker::{
    console_error, console_log, D1Database, Env, Headers, MessageBatch, MessageBuilder, MessageExt,
    Method, QueueRetryOptionsBuilder, Request, RequestInit, RequestRedirect,
};

use crate::config::Config;
use crate::http::{random_bytes, Ctx};
use crate::store::webhooks::{self as store, Claimed, Webhook};

const USER_AGENT: &str = "edgelink-webhooks/1";
/// A claimed attempt older than this (twice the send timeout) was
/// abandoned by a run that died; its message may take it again.
const STALE_CLAIM_MS: u32 = 2 * TIMEOUT_MS;

/// Raises `event` for the workspace: queues a delivery to each subscribed
/// webhook. Failures are logged, never returned: the write that raised the
/// event has already happened.
pub async fn emit(ctx: &Ctx, workspace_id: &str, event: &str, data: Value) {
    let event_id = EventId::new(&random_bytes::<16>());
    let body = core_webhooks::payload(&event_id, event, ctx.now, data);
    let result = async {
        let db = ctx.db()?;
        store::queue_event(&db, workspace_id, event, &event_id, &body, ctx.now).await
    }
    .await;
    match result {
        Ok(ids) => enqueue(&ctx.env, &ids).await,
        Err(e) => console_error!("webhooks: could not queue {event} for {workspace_id}: {e:?}"),
    }
}

/// Puts first attempts of `ids` on the webhooks Queue.
pub async fn enqueue(env: &Env, ids: &[DeliveryId]) {
    let messages = ids
        .iter()
        .map(|id| DeliveryMessage {
            delivery: id.clone(),
            attempt: 1,
        })
        .collect();
    send_messages(env, messages).await;
}

/// The cron sweeper: pending deliveries whose next attempt is overdue by
/// [`OVERDUE_MS`] lost their Queue message (a send that failed after their
/// row was written, or a run that died mid-attempt); they are queued again
/// at the attempt they were at. A message that was only slow and arrives
/// as well is dropped by the claim, so this never sends twice.
pub async fn sweep(env: &Env) {
    let rows = match env.d1("DB") {
        Ok(db) => store::overdue(&db, now_ms() - OVERDUE_MS, 100).await,
        Err(e) => {
            console_error!("webhooks: sweep: D1 binding: {e:?}");
            return;
        }
    };
    let rows = match rows {
        Ok(r) => r,
        Err(e) => {
            console_error!("webhooks: sweep failed: {e:?}");
            return;
        }
    };
    if rows.is_empty() {
        return;
    }
    console_log!(
        "webhooks: sweep re-queues {} overdue deliveries",
        rows.len()
    );
    let messages = rows
        .iter()
        .map(|r| DeliveryMessage {
            delivery: r.id.clone(),
            attempt: resume_attempt(r.attempts, r.last_attempt_at, r.next_attempt_at),
        })
        .collect();
    send_messages(env, messages).await;
}

async fn send_messages(env: &Env, messages: Vec<DeliveryMessage>) {
    if messages.is_empty() {
        return;
    }
    let queue = match env.queue("WEBHOOKS") {
        Ok(q) => q,
        Err(e) => {
            console_error!(
                "webhooks: no WEBHOOKS queue binding, {} deliveries stay pending: {e:?}",
                messages.len()
            );
            return;
        }
    };
    // sendBatch takes at most 100 messages.
    for chunk in messages.chunks(100) {
        if let Err(e) = queue.send_batch(chunk.to_vec()).await {
            console_error!(
                "webhooks: enqueue of {} deliveries failed: {e:?}",
                chunk.len()
            );
        }
    }
}

/// The webhooks Queue consumer: every message is one attempt.
pub async fn consume(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    cfg: &Config,
) -> worker::Result<()> {
    let db = match env.d1("DB") {
        Ok(db) => db,
        Err(e) => {
            console_error!("webhooks: D1 binding: {e:?}");
            batch.retry_all();
            return Ok(());
        }
    };
    let schedule = &cfg.webhook_retry_schedule;
    let allow_private = cfg.webhook_allow_private_targets;
    let queue = env.queue("WEBHOOKS").ok();
    let jobs = batch.raw_iter().map(|msg| {
        let db = &db;
        let queue = &queue;
        async move {
            let parsed = serde_json::from_value::<DeliveryMessage>(
                crate::http::js_json(&msg.body())
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or(Value::Null),
            );
            let Ok(m) = parsed else {
                console_error!("webhooks: unreadable message {} dropped", msg.id());
                msg.ack();
                return;
            };
            match run_attempt(db, &m, schedule, allow_private).await {
                Ok(Some(delay)) => {
                    // The next attempt is a new message (a retried one would
                    // carry this attempt's number). If it cannot be sent,
                    // this message comes back once the claim is stale and
                    // repeats this attempt instead.
                    let next = DeliveryMessage {
                        delivery: m.delivery.clone(),
                        attempt: m.attempt + 1,
                    };
                    let sent = match queue {
                        Some(q) => q
                            .send(MessageBuilder::new(next).delay_seconds(delay).build())
                            .await
                            .is_ok(),
                        None => false,
                    };
                    if sent {
                        msg.ack();
                    } else {
                        console_error!(
                            "webhooks: could not schedule attempt {} of {}",
                            m.attempt + 1,
                            m.delivery
                        );
                        msg.retry_with_options(
                            &QueueRetryOptionsBuilder::new()
                                .with_delay_seconds(delay.max(STALE_CLAIM_MS / 1000 + 1))
                                .build(),
                        );
                    }
                }
                Ok(None) => msg.ack(),
                Err(e) => {
                    // D1 trouble: let the Queue try the same attempt again.
                    console_error!(
                        "webhooks: delivery {} attempt {}: {e:?}",
                        m.delivery,
                        m.attempt
                    );
                    msg.retry();
                }
            }
        }
    });
    join_all(jobs).await;
    Ok(())
}

/// One attempt of one delivery. `Some(delay)`: retry the message after
/// `delay` seconds (the next attempt); `None`: done with it.
async fn run_attempt(
    db: &D1Database,
    m: &DeliveryMessage,
    schedule: &[u32],
    allow_private: bool,
) -> edgelink_core::ApiResult<Option<u32>> {
    let now = now_ms();
    let stale = now - STALE_CLAIM_MS as i64;
    let Some(job) = store::claim(db, &m.delivery, m.attempt, now, stale).await? else {
        // Already attempted (a duplicate message) or finished.
        return Ok(None);
    };
    let hook = store::get_any(db, &job.webhook_id).await?;
    // Refusals are final: retrying cannot change them.
    let (result, retryable) = match &hook {
        None => (refused("the webhook was deleted"), false),
        Some(h) if h.is_active == 0 => (refused("the webhook is disabled"), false),
        Some(h) => attempt(h, &job, allow_private).await,
    };
    let attempts = job.attempts as u32;
    let done_at = now_ms();
    let (status, next) = if result.ok() {
        ("success", None)
    } else {
        match retry_delay(attempts, schedule).filter(|_| retryable) {
            Some(delay) => ("pending", Some(delay)),
            None => ("failed", None),
        }
    };
    store::record(
        db,
        &job.id,
        &result,
        status,
        next.map(|d| done_at + d as i64 * 1000),
        done_at,
    )
    .await?;
    // A finished delivery counts for or against its webhook (not while
    // it is off: `count_outcome` only counts active ones).
    if status != "pending" {
        if let Some(h) = &hook {
            count_outcome(db, h, status == "success", done_at).await?;
        }
    }
    console_log!(
        "webhooks: {} {} attempt {attempts} → {status} ({:?} {:?})",
        job.id,
        job.event,
        result.status,
        result.error
    );
    Ok(next)
}

/// Extends or ends the webhook's run of failures; past 50 in a row or 3
/// days, switches it off with the reason.
async fn count_outcome(
    db: &D1Database,
    hook: &Webhook,
    success: bool,
    now: i64,
) -> edgelink_core::ApiResult<()> {
    let Some(streak) = store::count_outcome(db, &hook.id, success, now).await? else {
        return Ok(());
    };
    if let Some(reason) =
        core_webhooks::disable_reason(streak.failure_streak, streak.failing_since, now)
    {
        console_log!("webhooks: {} disabled: {}", hook.id, reason.as_str());
        store::disable(db, &hook.id, reason.as_str(), now).await?;
    }
    Ok(())
}

/// One attempt at a live webhook: the target is checked against the
/// private-address rule first. The flag says whether a failure may be
/// retried (a refused target cannot change by retrying).
pub async fn attempt(hook: &Webhook, job: &Claimed, allow_private: bool) -> (AttemptResult, bool) {
    match WebhookUrl::parse(&hook.url, allow_private) {
        Err(_) => (refused("the target address is not allowed"), false),
        Ok(_) => (send(hook, job).await, true),
    }
}

fn refused(why: &str) -> AttemptResult {
    AttemptResult {
        status: None,
        error: Some(why.to_string()),
        duration_ms: 0,
        response: None,
    }
}

fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// POSTs the stored body, signed, with a timeout; redirects are not
/// followed (a 3xx is a failure, and cannot bounce to a private address).
async fn send(hook: &Webhook, job: &Claimed) -> AttemptResult {
    let started = now_ms();
    let fail = |e: String| AttemptResult {
        status: None,
        error: Some(e),
        duration_ms: now_ms() - started,
        response: None,
    };
    let headers = Headers::new();
    let signature = core_webhooks::signature(&hook.secret, job.payload.as_bytes());
    let timestamp = started / 1000;
    // Standard Webhooks: the delivery id is the message id (the same on
    // every attempt); the timestamp is this attempt's.
    let secrets = core_webhooks::signing_secrets(
        &hook.secret,
        hook.previous_secret.as_deref(),
        hook.previous_secret_expires_at,
        started,
    );
    let standard =
        core_webhooks::standard_signatures(&secrets, &job.id, timestamp, job.payload.as_bytes());
    for (k, v) in [
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
        ("X-Webhook-Signature", signature.as_str()),
        ("X-Webhook-Event", job.event.as_str()),
        ("X-Webhook-Delivery", job.id.as_str()),
        ("X-Webhook-Timestamp", &timestamp.to_string()),
        ("X-Webhook-Attempt", &job.attempts.to_string()),
        ("webhook-id", job.id.as_str()),
        ("webhook-timestamp", &timestamp.to_string()),
        ("webhook-signature", standard.as_str()),
    ] {
        if headers.set(k, v).is_err() {
            return fail(format!("could not set header {k}"));
        }
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(job.payload.clone().into()));
    let req = match Request::new_with_init(&hook.url, &init) {
        Ok(r) => r,
        Err(e) => return fail(format!("bad request: {e}")),
    };
    let outcome = crate::http::fetch_with_timeout(req, TIMEOUT_MS as u64).await;
    match outcome {
        Ok(mut resp) => {
            let status = resp.status_code();
            let text = resp.text().await.unwrap_or_default();
            AttemptResult {
                status: Some(status),
                error: (!(200..300).contains(&status)).then(|| format!("HTTP {status}")),
                duration_ms: now_ms() - started,
                response: Some(core_webhooks::truncate_response(&text)),
            }
        }
        Err(e) => fail(e),
    }
}
