//! `GET /{slug}`: the redirect hot path. Validates the slug before any
//! I/O, reads one KV record (or the in-isolate hot-link cache), lets
//! `edgelink_core::redirect::decide` answer, and hands the click event to
//! the Queue through `wait_until` so the visitor never waits for it
//! (clicks of concurrent requests share one `sendBatch`).
//! It never touches D1 (only the password form's POST does, to limit
//! guesses).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use edgelink_core::events::{ClickEvent, QueueMessage};
use edgelink_core::link::{record_key, RedirectRecord};
use edgelink_core::redirect::{decide, split_qr_marker, Decision, Visit};
use edgelink_core::secrets::{base62, visitor_hash};
use edgelink_core::slug::Slug;
use edgelink_core::time::DAY_MS;
use edgelink_core::{pages, ua, url};
use worker::{Context, Env, Method, Request, Response};

use crate::http::random_bytes;

/// Upper bound on cached records per isolate (a few hundred KB at most).
const HOT_CACHE_MAX: usize = 1024;
/// Password guesses per link, visitor and minute.
const PASSWORD_ATTEMPTS_PER_MINUTE: i64 = 10;

struct Cached {
    until: i64,
    record: Rc<RedirectRecord>,
}

thread_local! {
    /// Hot-link cache: a viral link does not pay a KV read per click. Each
    /// isolate has its own; entries live `HOT_CACHE_TTL_SECONDS`.
    static HOT: RefCell<HashMap<String, Cached>> = RefCell::new(HashMap::new());
}

/// Drops a record from this isolate's cache (called after API writes).
pub fn forget(key: &str) {
    HOT.with(|c| c.borrow_mut().remove(key));
}

fn cache_get(key: &str, now: i64) -> Option<Rc<RedirectRecord>> {
    HOT.with(|c| {
        let c = c.borrow();
        c.get(key)
            .filter(|e| e.until > now)
            .map(|e| e.record.clone())
    })
}

fn cache_put(key: String, record: Rc<RedirectRecord>, until: i64, now: i64) {
    HOT.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= HOT_CACHE_MAX {
            c.retain(|_, e| e.until > now);
            if c.len() >= HOT_CACHE_MAX {
                c.clear();
            }
        }
        c.insert(key, Cached { until, record });
    })
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// The deployment's settings the hot path needs, read from `env` once per
/// isolate (vars and secrets only change with a new deployment, which
/// starts new isolates).
struct Config {
    default_domain: String,
    scheme: String,
    ttl_ms: i64,
    visitor_secret: String,
    flush_ms: u64,
}

thread_local! {
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

fn config(env: &Env) -> Rc<Config> {
    if let Some(c) = CONFIG.with(|c| c.borrow().clone()) {
        return c;
    }
    let c = Rc::new(Config {
        default_domain: var(env, "SHORT_DOMAIN").unwrap_or_else(|| "localhost:8787".into()),
        scheme: var(env, "SHORT_SCHEME").unwrap_or_else(|| "https".into()),
        ttl_ms: var(env, "HOT_CACHE_TTL_SECONDS")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(5)
            * 1000,
        visitor_secret: env
            .secret("VISITOR_HASH_SECRET")
            .map(|s| s.to_string())
            .unwrap_or_else(|_| "edgelink".into()),
        flush_ms: var(env, "CLICK_BATCH_MS")
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(DEFAULT_CLICK_BATCH_MS)
            .min(1000),
    });
    CONFIG.with(|slot| *slot.borrow_mut() = Some(c.clone()));
    c
}

/// Click events wait at most this long in the isolate before one
/// `sendBatch` takes them all to the Queue.
const DEFAULT_CLICK_BATCH_MS: u64 = 20;
/// A Queue `sendBatch` takes at most 100 messages.
const CLICK_BATCH_MAX: usize = 100;

thread_local! {
    static MISSING_QUEUE_LOGGED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Click events of this isolate not yet handed to the Queue.
    static PENDING_CLICKS: RefCell<Vec<QueueMessage>> = const { RefCell::new(Vec::new()) };
}

fn take_pending() -> Vec<QueueMessage> {
    PENDING_CLICKS.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// Queues a click without making the visitor wait, coalescing the clicks
/// of concurrent requests: the request whose click finds the buffer empty
/// sends, from its own `wait_until`, everything buffered `flush_ms` later
/// (a click that fills a batch sends it at once). Only plain Rust data is
/// shared between requests; each send runs in the context of the request
/// that makes it. Every buffered click has a flush scheduled after it, so
/// none is stranded; `flush_ms = 0` sends each click on its own.
fn queue_click(env: &Env, wctx: &Context, event: ClickEvent, flush_ms: u64) {
    let Ok(queue) = env.queue("EVENTS") else {
        // Once per isolate: a deployment without the binding would
        // otherwise log on every redirect.
        if !MISSING_QUEUE_LOGGED.with(|f| f.replace(true)) {
            worker::console_error!("click events are not queued: no EVENTS binding");
        }
        return;
    };
    let send = |batch: Vec<QueueMessage>| async move {
        if batch.is_empty() {
            return;
        }
        let n = batch.len();
        if let Err(e) = queue.send_batch(batch).await {
            worker::console_error!("{n} click events not queued: {e:?}");
        }
    };
    if flush_ms == 0 {
        wctx.wait_until(send(vec![QueueMessage::Click(event)]));
        return;
    }
    let (first, full) = PENDING_CLICKS.with(|p| {
        let mut p = p.borrow_mut();
        p.push(QueueMessage::Click(event));
        (p.len() == 1, p.len() >= CLICK_BATCH_MAX)
    });
    if full {
        wctx.wait_until(send(take_pending()));
    } else if first {
        wctx.wait_until(async move {
            worker::Delay::from(std::time::Duration::from_millis(flush_ms)).await;
            send(take_pending()).await;
        });
    }
}

fn html(status: u16, body: String) -> worker::Result<Response> {
    let mut r = Response::from_html(body)?.with_status(status);
    let h = r.headers_mut();
    h.set("Cache-Control", "private, max-age=0")?;
    h.set("X-Robots-Tag", "noindex")?;
    Ok(r)
}

pub async fn handle(mut req: Request, env: Env, wctx: Context) -> worker::Result<Response> {
    let now = worker::Date::now().as_millis() as i64;
    let method = req.method();
    // `Request` has parsed the URL once already (its path); the query comes
    // from the raw string instead of a second parse.
    let path = req.path();
    let raw_url = req.inner().url();
    let raw_query = raw_url
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(""))
        .unwrap_or("");
    // Slug first: garbage never costs a KV read.
    let Some(slug) = Slug::parse_path(path.trim_start_matches('/')) else {
        return html(404, pages::not_found());
    };
    if !matches!(method, Method::Get | Method::Head | Method::Post) {
        let mut r = html(405, pages::layout(405, "Method not allowed", ""))?;
        r.headers_mut().set("Allow", "GET, HEAD, POST")?;
        return Ok(r);
    }
    let cfg = config(&env);
    // The URL's host is the Host header the visitor sent (the runtime
    // builds the URL from it), and stays right when a test harness or an
    // internal hop rewrites the header.
    let host = raw_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
        .filter(|h| !h.is_empty())
        .map(|h| h.to_ascii_lowercase())
        .unwrap_or_else(|| cfg.default_domain.clone());

    let Some((domain, record)) = lookup(
        &env,
        &host,
        &cfg.default_domain,
        slug.as_str(),
        now,
        cfg.ttl_ms,
    )
    .await?
    else {
        return html(404, pages::not_found());
    };

    let ua_header = req.headers().get("User-Agent")?.unwrap_or_default();
    let (qr, query) = split_qr_marker(raw_query);
    let ip = req.headers().get("CF-Connecting-IP")?.unwrap_or_default();
    let country = req
        .cf()
        .and_then(|cf| cf.country())
        .map(|c| c.to_ascii_uppercase());
    let visitor = visitor_hash(&cfg.visitor_secret, now.div_euclid(DAY_MS), &ip, &ua_header);

    // Only a form POST to a password-protected link carries a password.
    let password = if method == Method::Post && record.pw.is_some() {
        if !password_attempt_allowed(&env, &record.id, &visitor, now).await {
            return html(429, pages::too_many_attempts());
        }
        let form = req.text().await.unwrap_or_default();
        Some(form_field(&form, "password").unwrap_or_default())
    } else {
        None
    };
    if method == Method::Post && record.pw.is_none() {
        return html(405, pages::layout(405, "Method not allowed", ""));
    }

    let parsed_ua = ua::parse(&ua_header);
    let visit = Visit {
        ua: parsed_ua,
        country: country.as_deref(),
        password: password.as_deref(),
        query: &query,
    };
    let decision = decide(&record, &visit, now);
    let Decision::Redirect { location } = decision else {
        let short_url = format!("{}://{}/{}", cfg.scheme, domain, slug);
        let body = pages::for_decision(&decision, &short_url).unwrap_or_default();
        return html(decision.status(), body);
    };

    if method != Method::Head {
        let referrer = req.headers().get("Referer")?.and_then(|r| url::host_of(&r));
        let event = ClickEvent {
            id: format!("evt_{}", base62(&random_bytes::<16>())),
            link_id: record.id.clone(),
            workspace_id: record.ws.clone(),
            ts: now,
            country,
            device: parsed_ua.device.as_str().into(),
            os: parsed_ua.os.as_str().into(),
            browser: parsed_ua.browser.as_str().into(),
            referrer,
            bot: parsed_ua.is_bot,
            visitor,
            qr,
            webhook: record.wh,
            scene: record.whs.clone(),
        };
        queue_click(&env, &wctx, event, cfg.flush_ms);
    }

    let mut r = Response::empty()?.with_status(302);
    let h = r.headers_mut();
    h.set("Location", &location)?;
    h.set("Cache-Control", "private, max-age=0")?;
    h.set("X-Robots-Tag", "noindex")?;
    Ok(r)
}

/// The one KV read (or a cache hit). A custom host is tried first; any
/// host without the link falls back to the default domain's links.
async fn lookup(
    env: &Env,
    host: &str,
    default_domain: &str,
    slug: &str,
    now: i64,
    ttl_ms: i64,
) -> worker::Result<Option<(String, Rc<RedirectRecord>)>> {
    let mut domains = vec![host];
    if host != default_domain {
        domains.push(default_domain);
    }
    let mut kv = None;
    for domain in domains {
        let key = record_key(domain, slug);
        if ttl_ms > 0 {
            if let Some(r) = cache_get(&key, now) {
                return Ok(Some((domain.to_string(), r)));
            }
        }
        // The binding only when the cache misses.
        let store = match &kv {
            Some(k) => k,
            None => kv.insert(env.kv("LINKS")?),
        };
        if let Some(record) = crate::store::records::get(store, &key).await? {
            let record = Rc::new(record);
            if ttl_ms > 0 {
                cache_put(key, record.clone(), now + ttl_ms, now);
            }
            return Ok(Some((domain.to_string(), record)));
        }
    }
    Ok(None)
}

/// D1-backed so the limit holds across isolates; fails open on D1 errors
/// (the slow hash still bounds the guess rate).
async fn password_attempt_allowed(env: &Env, link_id: &str, visitor: &str, now: i64) -> bool {
    let Ok(db) = env.d1("DB") else { return true };
    let (window, _) = edgelink_core::plan::rate_window(now);
    match crate::store::ratelimit::hit(&db, &format!("pw:{link_id}:{visitor}"), window).await {
        Ok(n) => n <= PASSWORD_ATTEMPTS_PER_MINUTE,
        Err(_) => true,
    }
}

fn form_field(form: &str, name: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (url::decode_component(k) == name).then(|| url::decode_component(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_decode() {
        assert_eq!(
            form_field("password=secure%20123&x=1", "password").as_deref(),
            Some("secure 123")
        );
        assert_eq!(form_field("x=1", "password"), None);
        assert_eq!(
            form_field("password=a+b", "password").as_deref(),
            Some("a b")
        );
    }

    #[test]
    fn hot_cache_expires_and_forgets() {
        let rec = Rc::new(RedirectRecord::default());
        cache_put("k".into(), rec, 100, 0);
        assert!(cache_get("k", 50).is_some());
        assert!(cache_get("k", 100).is_none());
        cache_put("k".into(), Rc::new(RedirectRecord::default()), 100, 0);
        forget("k");
        assert!(cache_get("k", 50).is_none());
    }
}
