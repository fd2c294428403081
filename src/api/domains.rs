//! `/api/v1/domains`: custom short domains. Adding one answers the TXT
//! record that proves ownership; `POST /{id}/verify` looks it up over
//! DNS-over-HTTPS (`DOH_RESOLVER_URL`, JSON API) and, once found, marks
//! the domain verified and raises `domain.verified`. Links can use a
//! domain only once it is verified; the redirect answers per `Host`.

use edgelink_core::domains::{
    self as core_domains, answer_has_txt, record_name, record_value, DomainName, DomainStatus,
    MAX_PER_WORKSPACE,
};
use edgelink_core::ids::DomainId;
use edgelink_core::input::Fields;
use edgelink_core::url::encode_component;
use edgelink_core::{ApiError, ApiResult};
use serde_json::Value;
use worker::{Headers, Method, Request, RequestInit, Response};

use crate::auth::Caller;
use crate::http::{created, fetch_with_timeout, found, no_content, ok, paged, random_bytes, Ctx};
use crate::router::Route;
use crate::store::domains::{self as store, Domain};
use crate::store::OnConstraint;
use crate::webhooks;

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    let mut all = crate::crud!("/api/v1/domains", "Domain", "Domains": list create get delete);
    all.push(Route::key(Method::Post, "/api/v1/domains/{id}/verify", "verifyDomain", |x, c, r| Box::pin(verify(x, c, &r.params[0]))));
    all
}

/// A DNS lookup gives up after this long.
const DNS_TIMEOUT_MS: u64 = 5_000;

pub async fn create(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    let body = caller.write_body(req).await?;
    let f = Fields::only(&body, &["domain"])?;
    let name = DomainName::parse(&f.required_string("domain", 300)?)?;
    if name.as_str() == ctx.short_domain {
        return Err(ApiError::validation(
            "domain",
            "is this platform's own short domain",
        ));
    }
    let d = Domain {
        id: DomainId::new(&random_bytes::<16>()),
        workspace_id: caller.workspace_id.clone(),
        domain: name.as_str().to_string(),
        verification_token: core_domains::new_token(&random_bytes::<32>()),
        verified: DomainStatus::Pending,
        created_at: ctx.now,
        verified_at: None,
        link_count: 0,
    };
    let inserted = store::insert(&ctx.db()?, &d, MAX_PER_WORKSPACE)
        .await
        .on_constraint(|_| {
            ApiError::Conflict(format!("The domain '{}' has already been added", d.domain))
        })?;
    if !inserted {
        return Err(ApiError::LimitReached(format!(
            "A workspace can have at most {MAX_PER_WORKSPACE} custom domains"
        )));
    }
    Ok(created(d.to_json()))
}

async fn load(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Domain> {
    found(
        store::get(&ctx.db()?, &caller.workspace_id, id).await?,
        "Domain",
    )
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    Ok(ok(load(ctx, caller, id).await?.to_json()))
}

pub async fn list(ctx: &Ctx, caller: &Caller, req: &Request) -> ApiResult<Response> {
    let db = ctx.db()?;
    let fetch = |n, skip| store::list(&db, &caller.workspace_id, n, skip);
    paged(req, fetch, Domain::to_json).await
}

/// Answers the domain with `verification.status` (`verified` / `pending`)
/// and, while pending, `verification.detail` saying what was found.
pub async fn verify(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require_write()?;
    let mut d = load(ctx, caller, id).await?;
    let detail = if d.verified.is_verified() {
        None
    } else {
        let expected = record_value(&d.verification_token);
        match lookup_txt(ctx, &record_name(&d.domain)).await {
            Ok(answer) if answer_has_txt(&answer, &expected) => {
                if store::mark_verified(&ctx.db()?, &d.id, ctx.now).await? {
                    d.verified = DomainStatus::Verified;
                    d.verified_at = Some(ctx.now);
                    webhooks::emit(ctx, &d.workspace_id, "domain.verified", d.to_json()).await;
                } else if let Some(now) = store::get(&ctx.db()?, &caller.workspace_id, id).await? {
                    d = now; // verified meanwhile by another request
                }
                None
            }
            Ok(_) => Some(format!(
                "No TXT record {} with value {} was found yet; DNS changes can take a few minutes",
                record_name(&d.domain),
                expected
            )),
            Err(e) => Some(format!("The DNS lookup failed ({e}); try again")),
        }
    };
    let mut v = d.to_json();
    v["verification"]["status"] = Value::from(d.verified.as_str());
    if let Some(detail) = detail {
        v["verification"]["detail"] = Value::from(detail);
    }
    Ok(ok(v))
}

/// One DNS-over-HTTPS JSON query for TXT records.
async fn lookup_txt(ctx: &Ctx, name: &str) -> Result<Value, String> {
    let resolver = &ctx.config.doh_resolver_url;
    let sep = if resolver.contains('?') { '&' } else { '?' };
    let url = format!("{resolver}{sep}name={}&type=TXT", encode_component(name));
    let headers = Headers::new();
    headers
        .set("Accept", "application/dns-json")
        .map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req = Request::new_with_init(&url, &init).map_err(|e| e.to_string())?;
    let mut resp = fetch_with_timeout(req, DNS_TIMEOUT_MS).await?;
    if resp.status_code() != 200 {
        return Err(format!("resolver answered HTTP {}", resp.status_code()));
    }
    let text = resp.text().await.map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|_| "resolver answer is not JSON".to_string())
}

/// Refused (409) while links use the domain.
pub async fn delete(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require_write()?;
    let d = load(ctx, caller, id).await?;
    if !store::delete_unused(&ctx.db()?, &caller.workspace_id, id).await? {
        return Err(ApiError::Conflict(format!(
            "The domain '{}' still has links; move or delete them first",
            d.domain
        )));
    }
    Ok(no_content())
}
