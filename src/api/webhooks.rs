//! `/api/v1/webhooks`: subscriptions, a test send and the delivery log.
//! Delivery itself is in `crate::webhooks`.

use edgelink_core::ids::{DeliveryId, EventId, WebhookId};
use edgelink_core::webhooks::{self as core_webhooks, WebhookPatch, MAX_PER_WORKSPACE, TEST_EVENT};
use edgelink_core::{ApiError, ApiResult};
use serde_json::json;
use worker::{Method, Request, Response};

use crate::auth::Caller;
use crate::http::{created, found, no_content, ok, paged, random_bytes, Ctx, Query};
use crate::router::{Call, Route};
use crate::store::webhooks::{self as store, Webhook};
use crate::webhooks::attempt;

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    let mut all = crate::crud!("/api/v1/webhooks", "Webhook", "Webhooks": list create get update delete);
    all.extend([
        Route::key(Method::Post, "/api/v1/webhooks/{id}/test", "testWebhook", |x, c, r| Box::pin(test(x, c, &r.params[0]))),
        Route::key(Method::Post, "/api/v1/webhooks/{id}/rotate-secret", "rotateWebhookSecret", |x, c, r| Box::pin(rotate_secret(x, c, &r.params[0]))),
        Route::key(Method::Get, "/api/v1/webhooks/{id}/deliveries", "listWebhookDeliveries", |x, c, r| Box::pin(deliveries(x, c, r))),
        Route::key(Method::Get, "/api/v1/webhooks/{id}/deliveries/{deliveryId}", "getWebhookDelivery", |x, c, r| Box::pin(delivery(x, c, &r.params[0], &r.params[1]))),
    ]);
    all
}

pub async fn create(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    let body = caller.write_body(req).await?;
    let p = WebhookPatch::parse(&body, true, ctx.config.webhook_allow_private_targets)?;
    let w = Webhook {
        id: WebhookId::new(&random_bytes::<16>()),
        workspace_id: caller.workspace_id.clone(),
        name: p.name.unwrap_or_default(),
        url: p.url.map(|u| u.as_str().to_string()).unwrap_or_default(),
        events: serde_json::to_string(&p.events.unwrap_or_default()).unwrap_or_default(),
        secret: core_webhooks::new_secret(&random_bytes::<32>()),
        is_active: p.is_active.unwrap_or(true) as i64,
        created_at: ctx.now,
        updated_at: ctx.now,
        previous_secret: None,
        previous_secret_expires_at: None,
        disabled_reason: None,
    };
    if !store::insert(&ctx.db()?, &w, MAX_PER_WORKSPACE).await? {
        return Err(ApiError::LimitReached(format!(
            "A workspace can have at most {MAX_PER_WORKSPACE} webhooks"
        )));
    }
    Ok(created(w.to_json(true)))
}

async fn load(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Webhook> {
    found(
        store::get(&ctx.db()?, &caller.workspace_id, id).await?,
        "Webhook",
    )
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    Ok(ok(load(ctx, caller, id).await?.to_json(false)))
}

pub async fn list(ctx: &Ctx, caller: &Caller, req: &Request) -> ApiResult<Response> {
    let db = ctx.db()?;
    let fetch = |n, skip| store::list(&db, &caller.workspace_id, n, skip);
    paged(req, fetch, |w: &Webhook| w.to_json(false)).await
}

pub async fn update(ctx: &Ctx, caller: &Caller, call: &mut Call) -> ApiResult<Response> {
    let (req, id) = call.split();
    let body = caller.write_body(req).await?;
    let p = WebhookPatch::parse(&body, false, ctx.config.webhook_allow_private_targets)?;
    let mut w = load(ctx, caller, id).await?;
    if let Some(name) = p.name {
        w.name = name;
    }
    if let Some(url) = p.url {
        w.url = url.as_str().to_string();
    }
    if let Some(events) = p.events {
        w.events = serde_json::to_string(&events).unwrap_or_default();
    }
    if let Some(active) = p.is_active {
        w.is_active = active as i64;
        // The owner's choice replaces the platform's.
        w.disabled_reason = None;
    }
    w.updated_at = ctx.now;
    if !store::update(&ctx.db()?, &w).await? {
        return Err(ApiError::not_found("Webhook"));
    }
    Ok(ok(w.to_json(false)))
}

pub async fn delete(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require_write()?;
    if !store::delete(&ctx.db()?, &caller.workspace_id, id).await? {
        return Err(ApiError::not_found("Webhook"));
    }
    Ok(no_content())
}

/// `POST /webhooks/{id}/rotate-secret`: a new secret, shown once; the old
/// one signs too (a second `webhook-signature` entry) for 24 hours.
pub async fn rotate_secret(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require_write()?;
    let secret = core_webhooks::new_secret(&random_bytes::<32>());
    let until = ctx.now + core_webhooks::SECRET_OVERLAP_MS;
    let w = store::rotate_secret(
        &ctx.db()?,
        &caller.workspace_id,
        id,
        &secret,
        until,
        ctx.now,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("Webhook"))?;
    Ok(ok(w.to_json(true)))
}

/// `POST /webhooks/{id}/test`: sends a signed `webhook.test` event now
/// (not through the Queue, and without retries) and answers with what the
/// target said. The attempt is in the delivery log like any other.
pub async fn test(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require_write()?;
    let w = load(ctx, caller, id).await?;
    let db = ctx.db()?;
    let event_id = EventId::new(&random_bytes::<16>());
    let delivery_id = DeliveryId::new(&random_bytes::<16>());
    let body = core_webhooks::payload(
        &event_id,
        TEST_EVENT,
        ctx.now,
        json!({
            "webhookId": w.id,
            "message": "This is a test event from your link platform.",
        }),
    );
    store::insert_delivery(&db, &delivery_id, &w, TEST_EVENT, &event_id, &body, ctx.now).await?;
    let job = store::claim(&db, &delivery_id, 1, ctx.now, ctx.now)
        .await?
        .ok_or(ApiError::Internal)?;
    let (result, _) = attempt(&w, &job, ctx.config.webhook_allow_private_targets).await;
    let status = if result.ok() { "success" } else { "failed" };
    store::record(&db, &delivery_id, &result, status, None, ctx.now).await?;
    Ok(ok(json!({
        "success": result.ok(),
        "deliveryId": delivery_id,
        "event": TEST_EVENT,
        "statusCode": result.status,
        "durationMs": result.duration_ms,
        "error": result.error,
    })))
}

/// `GET /webhooks/{id}/deliveries?status=pending|success|failed`.
pub async fn deliveries(ctx: &Ctx, caller: &Caller, call: &mut Call) -> ApiResult<Response> {
    let (req, id) = call.split();
    let q = Query::of(req);
    let status = match q.get("status").filter(|s| !s.is_empty()) {
        None => None,
        Some(s @ ("pending" | "success" | "failed")) => Some(s),
        Some(_) => {
            return Err(ApiError::validation(
                "status",
                "must be pending, success or failed",
            ))
        }
    };
    let w = load(ctx, caller, id).await?;
    let db = ctx.db()?;
    let fetch = |n, skip| store::deliveries(&db, &caller.workspace_id, &w.id, status, n, skip);
    paged(req, fetch, |d| d.to_json(false)).await
}

/// `GET /webhooks/{id}/deliveries/{deliveryId}`: one delivery with its body.
pub async fn delivery(
    ctx: &Ctx,
    caller: &Caller,
    id: &str,
    delivery_id: &str,
) -> ApiResult<Response> {
    let d = store::delivery(
        &ctx.db()?,
        &caller.workspace_id,
        &WebhookId::from(id),
        delivery_id,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("Delivery"))?;
    Ok(ok(d.to_json(true)))
}
