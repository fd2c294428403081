//! The events Queue consumer: click events → D1 analytics.
//!
//! Exactly-once in effect, with one `db.batch` (a D1 transaction) per
//! Queue batch:
//! 1. every click is `INSERT OR IGNORE`d into `clicks` (one statement for
//!    the whole batch, the clicks passed as one JSON parameter), keyed by its
//!    event id and tagged with a fresh `batch_id` for this attempt. A click
//!    already stored (a redelivery, or the same id twice in one batch) is
//!    ignored, so it is not tagged;
//! 2. rollups (hour and day), first-visit-of-the-day counts and
//!    `links.click_count` are computed from the rows carrying this attempt's
//!    tag, i.e. exactly the rows this transaction inserted;
//! 3. the tag is cleared, and old raw rows are pruned (bounded).
//!
//! All of it commits or none of it does: a batch that fails part-way leaves
//! no trace, and its retry inserts (and counts) each click once. A batch
//! that committed but was not acknowledged is redelivered, finds every id
//! stored, and counts nothing. Poison messages are logged and acknowledged;
//! bots are acknowledged without being stored or counted.
//!
//! After the commit, links of the batch that have reached `clickLimit` get
//! their KV redirect record rewritten (`done: true` → 410). This reads the
//! links named by the messages, not only the freshly counted ones, so a
//! retry after a failed KV write still flips the record.

use edgelink_core::events::{ClickEvent, QueueMessage};
use edgelink_core::ids::DeliveryId;
use edgelink_core::stats::{clean_click, decode_queue_body};
use edgelink_core::time::DAY_MS;
use edgelink_core::ApiResult;
use serde_json::Value;
use worker::{console_error, console_log, D1Database, Env, MessageBatch, MessageExt, RawMessage};

use crate::config::Config;
use crate::http::random_bytes;
use crate::store::clicks::Batch;
use crate::store::{links, records, webhooks};

/// Test builds only (`test-hooks`): a batch holding this event id fails
/// inside its D1 transaction the first time it is seen (a statement
/// between the rollups and the link counters errors, so D1 rolls the whole
/// batch back), then is retried.
#[cfg(feature = "test-hooks")]
const FAIL_IN_TX_VAR: &str = "ANALYTICS_FAIL_ONCE_EVENT_ID";
/// Test builds only: a batch holding this event id commits, then the
/// consumer fails before acknowledging (the first time only), so the Queue
/// redelivers an already counted batch.
#[cfg(feature = "test-hooks")]
const FAIL_AFTER_COMMIT_VAR: &str = "ANALYTICS_FAIL_AFTER_COMMIT_EVENT_ID";

/// What one consumer run did, for logs (and for later consumers, e.g.
/// click webhooks, that must act once per newly counted click).
#[derive(Debug, Default)]
pub struct Outcome {
    pub received: usize,
    pub poison: usize,
    pub bots: usize,
    /// Event ids counted by this run (new to the database).
    pub counted: Vec<String>,
    /// Links whose KV record was rewritten because they reached their limit.
    pub limited: Vec<String>,
    /// Webhook deliveries queued for counted clicks (`click`, `qr.scanned`).
    pub webhooks: Vec<DeliveryId>,
    /// Wall time of the one D1 batch, ms.
    pub d1_ms: i64,
}

/// The queue handler. Messages of other kinds would be dispatched here.
pub async fn consume(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    cfg: &Config,
) -> worker::Result<()> {
    let mut clicks: Vec<ClickEvent> = Vec::new();
    let mut pending: Vec<RawMessage> = Vec::new();
    let mut out = Outcome::default();
    for msg in batch.raw_iter() {
        out.received += 1;
        let body = crate::http::js_json(&msg.body());
        let decoded = match body.as_deref() {
            Some(text) => decode_queue_body(text),
            None => Err("body is not JSON-serialisable".into()),
        };
        match decoded.and_then(|QueueMessage::Click(c)| clean_click(c)) {
            Ok(c) if c.bot => {
                out.bots += 1;
                msg.ack();
            }
            Ok(c) => {
                clicks.push(c);
                pending.push(msg);
            }
            Err(e) => {
                out.poison += 1;
                console_error!(
                    "analytics: poison message {} acknowledged and dropped: {e}",
                    msg.id()
                );
                msg.ack();
            }
        }
    }
    if !clicks.is_empty() {
        if let Err(e) = record_clicks(&env, cfg, &clicks, &mut out).await {
            // Poison and bots are acknowledged already; the clicks go back
            // to the Queue (dead-lettered after max_retries). Not an `Err`:
            // workers-rs 0.8 turns that into a panic, which resets the
            // wasm instance.
            console_error!(
                "analytics: batch of {} failed, will retry: {e}",
                clicks.len()
            );
            for msg in &pending {
                msg.retry();
            }
            return Ok(());
        }
    }
    for msg in &pending {
        msg.ack();
    }
    console_log!(
        "analytics: {} messages, {} counted, {} not new (duplicates or unknown links), {} bots, {} poison, {} limits reached, {} webhook deliveries, D1 batch {} ms",
        out.received,
        out.counted.len(),
        clicks.len() - out.counted.len(),
        out.bots,
        out.poison,
        out.limited.len(),
        out.webhooks.len(),
        out.d1_ms
    );
    Ok(())
}

async fn record_clicks(
    env: &Env,
    cfg: &Config,
    clicks: &[ClickEvent],
    out: &mut Outcome,
) -> ApiResult<()> {
    let db = env.d1("DB").map_err(crate::http::internal("D1 binding"))?;
    let kv = env
        .kv("LINKS")
        .map_err(crate::http::internal("KV binding"))?;
    let now = worker::Date::now().as_millis() as i64;
    let cutoff = now - cfg.click_retention_days * DAY_MS;
    let tag = hex(&random_bytes::<12>());

    let mut rows = Vec::with_capacity(clicks.len());
    for c in clicks {
        if c.ts < cutoff {
            // Older than its own idempotency key would live: cannot happen
            // with Queue retention (≤ 14 days) below the minimum retention.
            console_error!("analytics: click {} older than retention dropped", c.id);
            continue;
        }
        rows.push(serde_json::json!({
            "id": c.id,
            "link_id": c.link_id,
            "workspace_id": c.workspace_id,
            "ts": c.ts,
            "country": c.country.as_deref().unwrap_or(""),
            "device": c.device,
            "os": c.os,
            "browser": c.browser,
            "referrer": c.referrer.as_deref().unwrap_or(""),
            "qr": c.qr as i64,
            "visitor": c.visitor,
            "variant": c.variant,
        }));
    }
    let mut tx = Batch::new(&db, &tag);
    tx.insert_and_roll_up(&Value::Array(rows).to_string())?;
    #[cfg(feature = "test-hooks")]
    if faults::fire(env, &kv, FAIL_IN_TX_VAR, clicks, "in-tx").await {
        // Fails at run time, after the inserts and rollups above ran.
        tx.fail()?;
    }
    let counted_at = tx.count_links()?;
    // Webhook deliveries for the clicks this transaction counts, created in
    // the same transaction (so exactly once per click and webhook).
    let hook_events = webhook_events(clicks);
    let unsent_at = if hook_events.is_empty() {
        None
    } else {
        tx.push_stmt(webhooks::queue_click_events_stmt(
            &db,
            &Value::Array(hook_events.clone()).to_string(),
            &tag,
            &cfg.short_scheme,
            now,
        )?);
        let ids: Vec<&Value> = hook_events.iter().map(|e| &e["id"]).collect();
        Some(tx.push_stmt(webhooks::unsent_stmt(
            &db,
            &serde_json::to_string(&ids).unwrap_or_default(),
        )?))
    };
    tx.untag()?;
    let mut link_ids: Vec<&str> = clicks.iter().map(|c| c.link_id.as_str()).collect();
    link_ids.sort_unstable();
    link_ids.dedup();
    let reached_at = tx.reached(&serde_json::to_string(&link_ids).unwrap_or_default())?;
    tx.prune(cutoff)?;

    let started = worker::Date::now().as_millis() as i64;
    let results = tx.run().await?;
    out.d1_ms = worker::Date::now().as_millis() as i64 - started;
    out.counted = results.ids(counted_at);
    if let Some(at) = unsent_at {
        out.webhooks = results.ids(at).into_iter().map(DeliveryId::from).collect();
        crate::webhooks::enqueue(env, &out.webhooks).await;
    }
    for id in results.ids(reached_at) {
        close_link(&db, &kv, &id).await?;
        out.limited.push(id);
    }
    #[cfg(feature = "test-hooks")]
    if faults::fire(env, &kv, FAIL_AFTER_COMMIT_VAR, clicks, "after-commit").await {
        console_error!("analytics: fault injected after commit; the batch will be redelivered");
        return Err(edgelink_core::ApiError::Internal);
    }
    Ok(())
}

/// The webhook events of the batch's clicks, as the JSON rows
/// `queue_click_events_stmt` reads: `{"id", "click", "event", "payload"}`.
fn webhook_events(clicks: &[ClickEvent]) -> Vec<Value> {
    use edgelink_core::webhooks::{click_data, click_events, payload_value};
    clicks
        .iter()
        .flat_map(|c| {
            click_events(c).into_iter().map(move |(id, event)| {
                serde_json::json!({
                    "id": id,
                    "click": c.id,
                    "event": event,
                    "payload": payload_value(&id, event, c.ts, click_data(c)),
                })
            })
        })
        .collect()
}

/// Rewrites the KV record of a link that reached its click limit, so the
/// next redirect answers 410.
async fn close_link(db: &D1Database, kv: &worker::KvStore, id: &str) -> ApiResult<()> {
    if let Some(link) = links::get_any(db, id).await? {
        if !link.record().limit_reached {
            return Ok(());
        }
        records::put(kv, &link).await?;
    }
    Ok(())
}

/// Fault injection, compiled into test builds only.
#[cfg(feature = "test-hooks")]
mod faults {
    use crate::store::kv::{self, Faults};
    use edgelink_core::events::ClickEvent;

    /// True the first time a batch holding the event id in `var` is seen
    /// (remembered in KV). Always false when the variable is unset.
    pub async fn fire(
        env: &worker::Env,
        store: &worker::KvStore,
        var: &str,
        clicks: &[ClickEvent],
        mode: &str,
    ) -> bool {
        let Some(id) = env
            .var(var)
            .ok()
            .map(|v| v.to_string())
            .filter(|s| !s.is_empty())
        else {
            return false;
        };
        if !clicks.iter().any(|c| c.id == id) {
            return false;
        }
        if matches!(kv::get::<Faults>(store, (mode, &id)).await, Ok(Some(_))) {
            return false;
        }
        kv::put::<Faults>(store, (mode, &id), &1).await.is_ok()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
