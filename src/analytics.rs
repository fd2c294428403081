//! The events Queue consumer: the fallback path of clicks to the click
//! aggregator (src/aggregator.rs, docs/SCALE.md).
//!
//! The redirect hands clicks to the `ClickAggregator` object directly; a
//! click reaches this Queue only when that call failed (or on a deployment
//! without the object binding). The consumer decodes and cleans each
//! message, acknowledges poison and bots (never counted), and forwards the
//! rest to their shards' objects, acknowledging after every object
//! answered. The object dedupes by event id, so a click that reached it by
//! both paths, or a redelivered message, is counted once; if a call
//! fails the messages are retried (then dead-lettered).

use edgelink_core::events::{ClickEvent, QueueMessage};
use edgelink_core::stats::{clean_click, decode_queue_body};
use worker::{console_error, console_log, Env, MessageBatch, MessageExt, RawMessage};

use crate::config::Config;

/// The queue handler. Messages of other kinds would be dispatched here.
pub async fn consume(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    cfg: &Config,
) -> worker::Result<()> {
    let mut clicks: Vec<ClickEvent> = Vec::new();
    let mut pending: Vec<RawMessage> = Vec::new();
    let (mut received, mut bots, mut poison) = (0, 0, 0);
    for msg in batch.raw_iter() {
        received += 1;
        let body = crate::http::js_json(&msg.body());
        let decoded = match body.as_deref() {
            Some(text) => decode_queue_body(text),
            None => Err("body is not JSON-serialisable".into()),
        };
        match decoded.and_then(|QueueMessage::Click(c)| clean_click(c)) {
            Ok(c) if c.bot => {
                bots += 1;
                msg.ack();
            }
            Ok(c) => {
                clicks.push(c);
                pending.push(msg);
            }
            Err(e) => {
                poison += 1;
                console_error!(
                    "analytics: poison message {} acknowledged and dropped: {e}",
                    msg.id()
                );
                msg.ack();
            }
        }
    }
    if !clicks.is_empty() {
        if let Err(e) =
            crate::aggregator::record(&env, crate::aggregator::Client::new(cfg), &clicks).await
        {
            // Not an `Err`: workers-rs 0.8 turns that into a panic, which
            // resets the wasm instance.
            console_error!(
                "analytics: {} clicks not recorded, will retry: {e}",
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
        "analytics: {received} messages, {} forwarded, {bots} bots, {poison} poison",
        clicks.len()
    );
    Ok(())
}
