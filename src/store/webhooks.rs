//! `webhooks` and `webhook_deliveries`: subscriptions of a workspace and
//! the log of every event sent (or being sent) to them.

use super::row_args;
use super::{
    all, delete_with_children, first, int, opt_int, opt_text, page, run, stmt, text, Owned,
};
use edgelink_core::ids::{DeliveryId, EventId, WebhookId, WorkspaceId};
use edgelink_core::webhooks::AttemptResult;
use edgelink_core::ApiResult;
use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Webhook {
    pub id: WebhookId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub url: String,
    /// JSON array text.
    pub events: String,
    pub secret: String,
    pub is_active: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The rotated-out secret, signing too until `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    /// Set when the platform switched the webhook off after failures.
    pub disabled_reason: Option<String>,
}

impl Webhook {
    pub fn event_list(&self) -> Vec<String> {
        serde_json::from_str(&self.events).unwrap_or_default()
    }
}

const COLUMNS: &str = "id, workspace_id, name, url, events, secret, is_active, created_at, \
    updated_at, previous_secret, previous_secret_expires_at, disabled_reason";

impl Owned for Webhook {
    const TABLE: &'static str = "webhooks";
    const COLUMNS: &'static str = COLUMNS;
}

owned_fns!(Webhook: get, list);

/// Inserts unless the workspace already has `max` webhooks; false then.
pub async fn insert(db: &D1Database, w: &Webhook, max: i64) -> ApiResult<bool> {
    let mut args = row_args(w, COLUMNS);
    args.push(int(max));
    let sql = format!(
        "INSERT INTO webhooks ({COLUMNS}) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 \
         WHERE (SELECT COUNT(*) FROM webhooks WHERE workspace_id = ?2) < ?13"
    );
    Ok(run(db, &sql, &args).await? > 0)
}

/// Writes the editable fields. Switching a webhook back on clears its
/// failure record, so it gets a fresh 50 deliveries / 3 days.
pub async fn update(db: &D1Database, w: &Webhook) -> ApiResult<bool> {
    let sql = "UPDATE webhooks SET name = ?3, url = ?4, events = ?5, is_active = ?7, \
           updated_at = ?9, disabled_reason = ?12, \
           failure_streak = CASE WHEN ?7 = 1 AND is_active = 0 THEN 0 ELSE failure_streak END, \
           failing_since = CASE WHEN ?7 = 1 AND is_active = 0 THEN NULL ELSE failing_since END \
         WHERE id = ?1 AND workspace_id = ?2";
    Ok(run(db, sql, &row_args(w, COLUMNS)).await? > 0)
}

/// Replaces the secret; the old one keeps signing until `overlap_until`.
pub async fn rotate_secret(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
    secret: &str,
    overlap_until: i64,
    now: i64,
) -> ApiResult<Option<Webhook>> {
    first(
        db,
        &format!(
            "UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = ?4, \
               secret = ?3, updated_at = ?5 \
             WHERE id = ?1 AND workspace_id = ?2 RETURNING {COLUMNS}"
        ),
        &[
            text(id),
            text(workspace_id),
            text(secret),
            int(overlap_until),
            int(now),
        ],
    )
    .await
}

/// A webhook's run of failed deliveries, after one more failure.
#[derive(Deserialize)]
pub struct FailureStreak {
    pub failure_streak: i64,
    pub failing_since: i64,
}

/// Counts a finished delivery against the webhook: a success ends the
/// run of failures; a failure extends it (`None` if the webhook is gone
/// or already off).
pub async fn count_outcome(
    db: &D1Database,
    id: &WebhookId,
    success: bool,
    now: i64,
) -> ApiResult<Option<FailureStreak>> {
    if success {
        run(
            db,
            "UPDATE webhooks SET failure_streak = 0, failing_since = NULL \
             WHERE id = ?1 AND failure_streak <> 0",
            &[text(id)],
        )
        .await?;
        return Ok(None);
    }
    first(
        db,
        "UPDATE webhooks SET failure_streak = failure_streak + 1, \
           failing_since = COALESCE(failing_since, ?2) \
         WHERE id = ?1 AND is_active = 1 RETURNING failure_streak, failing_since",
        &[text(id), int(now)],
    )
    .await
}

/// Switches a failing webhook off, saying why.
pub async fn disable(db: &D1Database, id: &WebhookId, reason: &str, now: i64) -> ApiResult<()> {
    run(
        db,
        "UPDATE webhooks SET is_active = 0, disabled_reason = ?2, updated_at = ?3 \
         WHERE id = ?1 AND is_active = 1",
        &[text(id), text(reason), int(now)],
    )
    .await
    .map(|_| ())
}

/// Deletes the webhook and its delivery log in one transaction.
pub async fn delete(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<bool> {
    delete_with_children(
        db,
        "DELETE FROM webhook_deliveries WHERE webhook_id = ?1 AND workspace_id = ?2",
        "DELETE FROM webhooks WHERE id = ?1 AND workspace_id = ?2",
        &[text(id), text(workspace_id)],
    )
    .await
}

// ---------------------------------------------------------------------------
// Deliveries
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct IdRow {
    pub id: DeliveryId,
}

/// One delivery row per active webhook of `?1` subscribed to `?2` (or
/// `*`), for the event `?3` with body `?4`; returns the new delivery ids.
/// An event already queued for a webhook is not queued again.
pub async fn queue_event(
    db: &D1Database,
    workspace_id: &str,
    event: &str,
    event_id: &EventId,
    payload: &str,
    now: i64,
) -> ApiResult<Vec<DeliveryId>> {
    let rows: Vec<IdRow> = all(
        db,
        "INSERT OR IGNORE INTO webhook_deliveries \
           (id, webhook_id, workspace_id, event, event_id, payload, status, attempts, next_attempt_at, created_at) \
         SELECT 'whd_' || lower(hex(randomblob(12))), w.id, w.workspace_id, ?2, ?3, ?4, 'pending', 0, ?5, ?5 \
         FROM webhooks w WHERE w.workspace_id = ?1 AND w.is_active = 1 \
           AND EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value IN (?2, '*')) \
         RETURNING id",
        &[
            text(workspace_id),
            text(event),
            text(event_id),
            text(payload),
            int(now),
        ],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// For the click aggregator's commit: deliveries for the click events of
/// the clicks it just counted. `?1` is a JSON array of `{"id", "link",
/// "event", "payload"}`; the link (as it is now) is added to each payload
/// as `data.link`, its short URL with scheme `?2`. `UNIQUE (webhook_id,
/// event_id)` makes a retried call harmless.
pub fn queue_click_events_stmt(
    db: &D1Database,
    events_json: &str,
    scheme: &str,
    now: i64,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT OR IGNORE INTO webhook_deliveries \
           (id, webhook_id, workspace_id, event, event_id, payload, status, attempts, next_attempt_at, created_at) \
         SELECT 'whd_' || lower(hex(randomblob(12))), w.id, w.workspace_id, \
           json_extract(j.value, '$.event'), json_extract(j.value, '$.id'), \
           json_set(json_extract(j.value, '$.payload'), '$.data.link', json_object( \
             'id', l.id, 'domain', l.domain, 'slug', l.slug, \
             'shortUrl', ?2 || '://' || l.domain || '/' || l.slug, \
             'destinationUrl', l.destination_url)), \
           'pending', 0, ?3, ?3 \
         FROM json_each(?1) j \
         JOIN links l ON l.id = json_extract(j.value, '$.link') \
         JOIN webhooks w ON w.workspace_id = l.workspace_id AND w.is_active = 1 \
           AND EXISTS (SELECT 1 FROM json_each(w.events) e \
             WHERE e.value IN (json_extract(j.value, '$.event'), '*'))",
        &[text(events_json), text(scheme), int(now)],
    )
}

/// Deliveries of the given event ids (`?1`, a JSON array) never attempted:
/// the ones to put on the Queue after the transaction commits (again, on a
/// redelivered batch whose first run failed before enqueueing).
pub fn unsent_stmt(db: &D1Database, event_ids_json: &str) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "SELECT id FROM webhook_deliveries \
         WHERE event_id IN (SELECT value FROM json_each(?1)) AND status = 'pending' AND attempts = 0",
        &[text(event_ids_json)],
    )
}

/// A single delivery to one webhook (the `test` endpoint).
pub async fn insert_delivery(
    db: &D1Database,
    id: &DeliveryId,
    w: &Webhook,
    event: &str,
    event_id: &EventId,
    payload: &str,
    now: i64,
) -> ApiResult<()> {
    let sql = "INSERT INTO webhook_deliveries \
           (id, webhook_id, workspace_id, event, event_id, payload, status, attempts, next_attempt_at, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7)";
    let parts: [&str; 6] = [id, &w.id, &w.workspace_id, event, event_id, payload];
    let mut args: Vec<_> = parts.into_iter().map(text).collect();
    args.push(int(now));
    run(db, sql, &args).await.map(|_| ())
}

/// A delivery claimed for one attempt, with its webhook.
#[derive(Deserialize)]
pub struct Claimed {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event: String,
    pub payload: String,
    pub attempts: i64,
}

/// Claims attempt `attempt` (1-based) of a pending delivery: only one run
/// gets it, so a duplicated Queue message sends nothing twice. A claim left
/// by a run that died mid-attempt (older than `stale_before`) may be taken
/// again by the Queue's own redelivery of that message.
pub async fn claim(
    db: &D1Database,
    id: &DeliveryId,
    attempt: u32,
    now: i64,
    stale_before: i64,
) -> ApiResult<Option<Claimed>> {
    first(
        db,
        "UPDATE webhook_deliveries SET attempts = ?2, last_attempt_at = ?3 \
         WHERE id = ?1 AND status = 'pending' \
           AND (attempts = ?2 - 1 OR (attempts = ?2 AND last_attempt_at < ?4)) \
         RETURNING id, webhook_id, event, payload, attempts",
        &[text(id), int(attempt as i64), int(now), int(stale_before)],
    )
    .await
}

/// Any webhook by id (the delivery path has no caller).
pub async fn get_any(db: &D1Database, id: &WebhookId) -> ApiResult<Option<Webhook>> {
    first(
        db,
        &format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"),
        &[text(id)],
    )
    .await
}

/// Writes an attempt's outcome: `status` is success, pending (another
/// attempt at `next_at`) or failed.
pub async fn record(
    db: &D1Database,
    id: &DeliveryId,
    result: &AttemptResult,
    status: &str,
    next_at: Option<i64>,
    now: i64,
) -> ApiResult<()> {
    run(
        db,
        "UPDATE webhook_deliveries SET status = ?2, last_status_code = ?3, last_error = ?4, \
           last_response = ?5, last_duration_ms = ?6, next_attempt_at = ?7, \
           delivered_at = CASE WHEN ?2 = 'success' THEN ?8 ELSE delivered_at END \
         WHERE id = ?1",
        &[
            text(id),
            text(status),
            opt_int(result.status.map(i64::from)),
            opt_text(result.error.as_deref()),
            opt_text(result.response.as_deref()),
            int(result.duration_ms),
            opt_int(next_at),
            int(now),
        ],
    )
    .await
    .map(|_| ())
}

#[derive(Deserialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event: String,
    pub event_id: EventId,
    /// The signed body, as sent on every attempt.
    pub payload: String,
    /// `pending`, `success` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// The last attempt: HTTP status, error, response (truncated), time.
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub last_response: Option<String>,
    pub last_duration_ms: Option<i64>,
    pub last_attempt_at: Option<i64>,
    /// While pending: when the next attempt is due.
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event, event_id, payload, status, attempts, \
    last_status_code, last_error, last_response, last_duration_ms, last_attempt_at, \
    next_attempt_at, delivered_at, created_at";

/// A page of a webhook's delivery log, newest first, optionally one status.
pub async fn deliveries(
    db: &D1Database,
    workspace_id: &str,
    webhook_id: &WebhookId,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<Delivery>, i64)> {
    page(
        db,
        DELIVERY_COLUMNS,
        "FROM webhook_deliveries \
         WHERE webhook_id = ?1 AND workspace_id = ?2 AND (?3 IS NULL OR status = ?3)",
        "created_at DESC, rowid DESC",
        &[text(webhook_id), text(workspace_id), opt_text(status)],
        limit,
        offset,
    )
    .await
}

pub async fn delivery(
    db: &D1Database,
    workspace_id: &str,
    webhook_id: &WebhookId,
    id: &str,
) -> ApiResult<Option<Delivery>> {
    first(
        db,
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE id = ?1 AND webhook_id = ?2 AND workspace_id = ?3"
        ),
        &[text(id), text(webhook_id), text(workspace_id)],
    )
    .await
}

/// A pending delivery whose next attempt is overdue (see `sweep`).
#[derive(Deserialize)]
pub struct Overdue {
    pub id: DeliveryId,
    pub attempts: i64,
    pub last_attempt_at: Option<i64>,
    pub next_attempt_at: i64,
}

/// Pending deliveries due before `before`, oldest first.
pub async fn overdue(db: &D1Database, before: i64, limit: i64) -> ApiResult<Vec<Overdue>> {
    all(
        db,
        "SELECT id, attempts, last_attempt_at, next_attempt_at FROM webhook_deliveries \
         WHERE status = 'pending' AND next_attempt_at < ?1 ORDER BY next_attempt_at LIMIT ?2",
        &[int(before), int(limit)],
    )
    .await
}
