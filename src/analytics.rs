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
use edgelink_core::stats::{clean_click, decode_queue_body, retention_days};
use edgelink_core::time::{DAY_MS, HOUR_MS};
use edgelink_core::ApiResult;
use worker::{
    console_error, console_log, D1Database, D1PreparedStatement, Env, MessageBatch, MessageExt,
    RawMessage,
};

use crate::http::random_bytes;
use crate::store::{int, links, records, stmt, text, webhooks};
use serde_json::Value;

/// Test-only fault injection (unset in production, inert when unset):
/// a batch holding this event id fails inside its D1 transaction the first
/// time it is seen (a statement between the rollups and the link counters
/// errors, so D1 rolls the whole batch back), then is retried.
const FAIL_IN_TX_VAR: &str = "ANALYTICS_FAIL_ONCE_EVENT_ID";
/// Test-only: a batch holding this event id commits, then the consumer
/// fails before acknowledging (the first time only), so the Queue
/// redelivers an already counted batch.
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
    pub webhooks: Vec<String>,
    /// Wall time of the one D1 batch, ms.
    pub d1_ms: i64,
}

/// The queue handler. Messages of other kinds would be dispatched here.
pub async fn consume(batch: MessageBatch<serde_json::Value>, env: Env) -> worker::Result<()> {
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
        if let Err(e) = record_clicks(&env, &clicks, &mut out).await {
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

#[derive(serde::Deserialize)]
struct IdRow {
    id: String,
}

/// Every click of the batch in one statement: `?1` is a JSON array of
/// clicks (one bound parameter, so neither D1's 100-parameter cap nor its
/// per-invocation query cap grows with the batch). A click for a link that
/// no longer exists (or not in that workspace) matches nothing.
const INSERT_CLICKS: &str = "INSERT OR IGNORE INTO clicks \
    (id, link_id, workspace_id, ts, country, device, os, browser, referrer, qr, visitor, batch_id) \
    SELECT json_extract(e.value, '$.id'), l.id, l.workspace_id, json_extract(e.value, '$.ts'), \
      json_extract(e.value, '$.country'), json_extract(e.value, '$.device'), \
      json_extract(e.value, '$.os'), json_extract(e.value, '$.browser'), \
      json_extract(e.value, '$.referrer'), json_extract(e.value, '$.qr'), \
      json_extract(e.value, '$.visitor'), ?2 \
    FROM json_each(?1) e JOIN links l ON l.id = json_extract(e.value, '$.link_id') \
      AND l.workspace_id = json_extract(e.value, '$.workspace_id')";

/// Rollups of the rows tagged `?1`, into the hour (`?2` = 1 h) or day
/// (`?2` = 1 day) table. `visitors` counts first visits of the UTC day
/// (a visitor hash not yet in `click_visitors` for that day), in the
/// bucket of that visitor's first click in this batch.
fn rollup_sql(table: &str, bucket_col: &str) -> String {
    // D1 caps compound SELECTs at a few terms: the dimensions come from a
    // json_each row source instead of one UNION term each.
    format!(
        "WITH b AS (SELECT link_id, workspace_id, ts, ts - ts % ?2 AS bucket, country, device, os, \
           browser, referrer, qr, visitor FROM clicks WHERE batch_id = ?1), \
         v AS (SELECT link_id, workspace_id, visitor, MIN(ts) AS fts FROM b WHERE visitor <> '' \
           GROUP BY link_id, workspace_id, visitor, ts - ts % 86400000) \
         INSERT INTO {table} (link_id, {bucket_col}, dim, value, workspace_id, clicks) \
         SELECT r_link, r_bucket, r_dim, r_value, r_ws, r_n FROM ( \
           SELECT b.link_id AS r_link, b.bucket AS r_bucket, d.value AS r_dim, \
             CASE d.value WHEN 'country' THEN b.country WHEN 'device' THEN b.device \
               WHEN 'browser' THEN b.browser WHEN 'os' THEN b.os WHEN 'referrer' THEN b.referrer \
               WHEN 'source' THEN (CASE WHEN b.qr <> 0 THEN 'qr' ELSE 'link' END) ELSE '' END AS r_value, \
             b.workspace_id AS r_ws, COUNT(*) AS r_n \
           FROM b, json_each('[\"total\",\"country\",\"device\",\"browser\",\"os\",\"referrer\",\"source\"]') d \
           GROUP BY 1, 2, 3, 4, 5 \
           UNION ALL \
           SELECT link_id, fts - fts % ?2, 'visitors', '', workspace_id, COUNT(*) FROM v \
             WHERE NOT EXISTS (SELECT 1 FROM click_visitors cv WHERE cv.day = v.fts - v.fts % 86400000 \
               AND cv.link_id = v.link_id AND cv.visitor = v.visitor) \
             GROUP BY 1, 2, 3, 4, 5 \
         ) WHERE true \
         ON CONFLICT (link_id, {bucket_col}, dim, value) DO UPDATE SET clicks = clicks + excluded.clicks"
    )
}

const INSERT_VISITORS: &str = "INSERT OR IGNORE INTO click_visitors (day, link_id, visitor) \
    SELECT DISTINCT ts - ts % 86400000, link_id, visitor FROM clicks WHERE batch_id = ?1 AND visitor <> ''";

const COUNT_LINKS: &str = "UPDATE links SET click_count = click_count + \
    (SELECT COUNT(*) FROM clicks c WHERE c.batch_id = ?1 AND c.link_id = links.id) \
    WHERE id IN (SELECT link_id FROM clicks WHERE batch_id = ?1)";

const COUNTED: &str = "SELECT id FROM clicks WHERE batch_id = ?1";

const UNTAG: &str = "UPDATE clicks SET batch_id = NULL WHERE batch_id = ?1";

/// Links named by the batch that are at or over their limit.
const REACHED: &str = "SELECT id FROM links WHERE id IN (SELECT value FROM json_each(?1)) \
    AND click_limit IS NOT NULL AND click_count >= click_limit";

/// Retention, a bounded slice per batch so the transaction stays short.
const PRUNE_CLICKS: &str =
    "DELETE FROM clicks WHERE rowid IN (SELECT rowid FROM clicks WHERE ts < ?1 LIMIT 500)";
const PRUNE_VISITORS: &str = "DELETE FROM click_visitors WHERE (day, link_id, visitor) IN \
    (SELECT day, link_id, visitor FROM click_visitors WHERE day < ?1 LIMIT 500)";

async fn record_clicks(env: &Env, clicks: &[ClickEvent], out: &mut Outcome) -> ApiResult<()> {
    let db = env.d1("DB").map_err(crate::http::internal("D1 binding"))?;
    let kv = env
        .kv("LINKS")
        .map_err(crate::http::internal("KV binding"))?;
    let now = worker::Date::now().as_millis() as i64;
    let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
    let retention = retention_days(var("CLICK_RETENTION_DAYS").as_deref());
    let cutoff = now - retention * DAY_MS;
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
        }));
    }
    let mut stmts: Vec<D1PreparedStatement> = Vec::with_capacity(12);
    stmts.push(stmt(
        &db,
        INSERT_CLICKS,
        &[
            text(&serde_json::Value::Array(rows).to_string()),
            text(&tag),
        ],
    )?);
    let t = || text(&tag);
    stmts.push(stmt(
        &db,
        &rollup_sql("click_rollup_hour", "hour"),
        &[t(), int(HOUR_MS)],
    )?);
    stmts.push(stmt(
        &db,
        &rollup_sql("click_rollup_day", "day"),
        &[t(), int(DAY_MS)],
    )?);
    stmts.push(stmt(&db, INSERT_VISITORS, &[t()])?);
    if fault(&kv, var(FAIL_IN_TX_VAR), clicks, "in-tx").await {
        // Fails at run time, after the inserts and rollups above ran.
        stmts.push(stmt(
            &db,
            "SELECT json('fault injected by ANALYTICS_FAIL_ONCE_EVENT_ID')",
            &[],
        )?);
    }
    stmts.push(stmt(&db, COUNT_LINKS, &[t()])?);
    let counted_at = stmts.len();
    stmts.push(stmt(&db, COUNTED, &[t()])?);
    // Webhook deliveries for the clicks this transaction counts, created in
    // the same transaction (so exactly once per click and webhook).
    let hook_events = webhook_events(clicks);
    let unsent_at = if hook_events.is_empty() {
        None
    } else {
        let scheme = var("SHORT_SCHEME").unwrap_or_else(|| "https".into());
        stmts.push(webhooks::queue_click_events_stmt(
            &db,
            &Value::Array(hook_events.clone()).to_string(),
            &tag,
            &scheme,
            now,
        )?);
        let ids: Vec<&Value> = hook_events.iter().map(|e| &e["id"]).collect();
        stmts.push(webhooks::unsent_stmt(
            &db,
            &serde_json::to_string(&ids).unwrap_or_default(),
        )?);
        Some(stmts.len() - 1)
    };
    stmts.push(stmt(&db, UNTAG, &[t()])?);
    let mut link_ids: Vec<&str> = clicks.iter().map(|c| c.link_id.as_str()).collect();
    link_ids.sort_unstable();
    link_ids.dedup();
    let reached_at = stmts.len();
    stmts.push(stmt(
        &db,
        REACHED,
        &[text(&serde_json::to_string(&link_ids).unwrap_or_default())],
    )?);
    stmts.push(stmt(&db, PRUNE_CLICKS, &[int(cutoff)])?);
    stmts.push(stmt(
        &db,
        PRUNE_VISITORS,
        &[int(cutoff - cutoff.rem_euclid(DAY_MS))],
    )?);

    let started = worker::Date::now().as_millis() as i64;
    let results = db.batch(stmts).await.map_err(|e| {
        console_error!("analytics: D1 batch rolled back: {e:?}");
        edgelink_core::ApiError::Internal
    })?;
    out.d1_ms = worker::Date::now().as_millis() as i64 - started;
    let ids = |i: usize| -> Vec<String> {
        results
            .get(i)
            .and_then(|r| r.results::<IdRow>().ok())
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    out.counted = ids(counted_at);
    if let Some(i) = unsent_at {
        out.webhooks = ids(i);
        crate::webhooks::enqueue(env, &out.webhooks).await;
    }
    for id in ids(reached_at) {
        close_link(&db, &kv, &id).await?;
        out.limited.push(id);
    }
    if fault(&kv, var(FAIL_AFTER_COMMIT_VAR), clicks, "after-commit").await {
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
        if !link.record().done {
            return Ok(());
        }
        records::put(kv, &link).await?;
    }
    Ok(())
}

/// True the first time a batch holding the configured event id is seen
/// (remembered in KV). Always false when the variable is unset.
async fn fault(
    kv: &worker::KvStore,
    id: Option<String>,
    clicks: &[ClickEvent],
    mode: &str,
) -> bool {
    let Some(id) = id.filter(|s| !s.is_empty()) else {
        return false;
    };
    if !clicks.iter().any(|c| c.id == id) {
        return false;
    }
    let key = format!("test:fault:{mode}:{id}");
    if matches!(kv.get(&key).text().await, Ok(Some(_))) {
        return false;
    }
    match kv.put(&key, "1") {
        Ok(put) => put.execute().await.is_ok(),
        Err(_) => false,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
