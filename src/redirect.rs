//! `GET /{slug}`: the redirect hot path. Validates the slug before any
//! I/O, reads one KV record (or the in-isolate hot-link cache), lets
//! `edgelink_core::redirect::decide` answer, and hands the click event to
//! the click aggregator (the Queue as its fallback) through `wait_until`
//! so the visitor never waits for it (clicks of concurrent requests share
//! one call).
//! It never touches D1 (only the password form's POST does, to limit
//! guesses).

use std::cell::RefCell;
use std::rc::Rc;

use edgelink_core::events::{ClickEvent, QueueMessage};
use edgelink_core::link::RedirectRecord;
use edgelink_core::redirect::{decide, split_qr_marker, Decision, Visit};
use edgelink_core::secrets::{EventIds, VisitorKey};
use edgelink_core::slug::Slug;
use edgelink_core::time::DAY_MS;
use edgelink_core::url::RequestUrl;
use edgelink_core::{pages, ua, url};
use wasm_bindgen::prelude::{wasm_bindgen, JsValue};
use worker::worker_sys::web_sys;
use worker::{Context, Env, Method, Request};

use crate::aggregator;
use crate::config::Config;
use crate::http::random_bytes;
use crate::store::{ratelimit, records};

/// Password guesses per link, visitor and minute.
const PASSWORD_ATTEMPTS_PER_MINUTE: i64 = 10;

/// A Queue `sendBatch` takes at most 100 messages (and a flush's call
/// to the aggregator as many clicks).
const CLICK_BATCH_MAX: usize = 100;

#[wasm_bindgen(module = "/src/redirect.js")]
extern "C" {
    /// User-Agent, CF-Connecting-IP, Referer and country, `\n`-separated.
    #[wasm_bindgen(js_name = visitorFields)]
    fn visitor_fields(req: &web_sys::Request) -> String;
    /// The 302 to `location`.
    #[wasm_bindgen(catch)]
    fn found(location: &str) -> Result<web_sys::Response, JsValue>;
}

thread_local! {
    static MISSING_QUEUE_LOGGED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Click events of this isolate not yet handed on.
    static PENDING_CLICKS: RefCell<Vec<ClickEvent>> = const { RefCell::new(Vec::new()) };
    static EVENT_IDS: RefCell<Option<EventIds>> = const { RefCell::new(None) };
    /// The keyed visitor hash of this isolate's secret (which only changes
    /// with a new deployment, in new isolates).
    static VISITOR_KEY: RefCell<Option<Rc<VisitorKey>>> = const { RefCell::new(None) };
}

fn next_event_id() -> String {
    EVENT_IDS.with(|ids| {
        ids.borrow_mut()
            .get_or_insert_with(|| EventIds::new(&random_bytes::<16>()))
            .next_id()
    })
}

fn visitor_key(secret: &str) -> Rc<VisitorKey> {
    VISITOR_KEY.with(|k| {
        k.borrow_mut()
            .get_or_insert_with(|| Rc::new(VisitorKey::new(secret)))
            .clone()
    })
}

fn take_pending() -> Vec<ClickEvent> {
    PENDING_CLICKS.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// Hands a click on without making the visitor wait, coalescing the clicks
/// of concurrent requests: the request whose click finds the buffer empty
/// sends, from its own `wait_until`, everything buffered `flush_ms` later
/// (a click that fills a batch sends it at once). Only plain Rust data is
/// shared between requests; each send runs in the context of the request
/// that makes it. Every buffered click has a flush scheduled after it, so
/// none is stranded; `flush_ms = 0` sends each click on its own.
///
/// With the click aggregator bound (src/aggregator.rs), bots are dropped
/// here (never counted) and a flush is one call to the aggregator, the
/// Queue only its fallback; without it, every click goes to the Queue.
fn queue_click(
    env: &Env,
    wctx: &Context,
    event: ClickEvent,
    flush_ms: u64,
    to: aggregator::Client,
) {
    let direct = aggregator::available(env);
    if direct && event.bot {
        return;
    }
    if flush_ms == 0 {
        wctx.wait_until(deliver(env.clone(), vec![event], direct, to));
        return;
    }
    let (first, full) = PENDING_CLICKS.with(|p| {
        let mut p = p.borrow_mut();
        p.push(event);
        (p.len() == 1, p.len() >= CLICK_BATCH_MAX)
    });
    if full {
        wctx.wait_until(deliver(env.clone(), take_pending(), direct, to));
    } else if first {
        let env = env.clone();
        wctx.wait_until(async move {
            worker::Delay::from(std::time::Duration::from_millis(flush_ms)).await;
            deliver(env, take_pending(), direct, to).await;
        });
    }
}

/// One flush of buffered clicks: to the aggregator, else to the Queue.
async fn deliver(env: Env, batch: Vec<ClickEvent>, direct: bool, to: aggregator::Client) {
    if batch.is_empty() {
        return;
    }
    let n = batch.len();
    if direct {
        match aggregator::record(&env, to, &batch).await {
            Ok(()) => return,
            Err(e) => worker::console_error!("{n} clicks not recorded, queued instead: {e:?}"),
        }
    }
    let Ok(queue) = env.queue("EVENTS") else {
        // Once per isolate: a deployment without the binding would
        // otherwise log on every redirect.
        if !MISSING_QUEUE_LOGGED.with(|f| f.replace(true)) {
            worker::console_error!("click events are not queued: no EVENTS binding");
        }
        return;
    };
    let messages: Vec<QueueMessage> = batch.into_iter().map(QueueMessage::Click).collect();
    if let Err(e) = queue.send_batch(messages).await {
        worker::console_error!("{n} click events not queued: {e:?}");
    }
}

/// The redirect's answer, as the runtime's `Response` (the 302 is built
/// in JS, see src/redirect.js).
pub type Answer = worker::Result<web_sys::Response>;

/// The redirect's pages: the one HTML answer (`http::html`: not cached,
/// not indexed).
fn html(status: u16, body: String) -> Answer {
    Ok(crate::http::html(status, body).into())
}

/// An answer given before the redirect's end: a page that needs no record
/// (or no visitor).
type Early = Answer;

/// A redirect request as read before the record lookup.
struct Incoming<'r> {
    req: &'r web_sys::Request,
    env: &'r Env,
    now: i64,
    slug: Slug,
    raw_query: &'r str,
    method: Method,
    cfg: Rc<Config>,
    host: String,
}

/// Who is visiting, read once the link is known.
struct Visitor {
    ua: String,
    country: Option<String>,
    referrer: Option<String>,
    hash: String,
}

impl<'r> Incoming<'r> {
    /// `raw_url` is `req.url()`, read once by the caller.
    fn read(req: &'r web_sys::Request, raw_url: &'r str, env: &'r Env) -> Result<Self, Early> {
        let now = crate::clock::now_of(req);
        let parts = RequestUrl::split(raw_url);
        // Slug first: garbage never costs a KV read.
        let Some(slug) = Slug::parse_path(parts.path.trim_start_matches('/')) else {
            return Err(html(404, pages::not_found()));
        };
        let method = Method::from(req.method());
        if !matches!(method, Method::Get | Method::Head | Method::Post) {
            let mut r = crate::http::html(405, pages::layout(405, "Method not allowed", ""));
            return Err(r
                .headers_mut()
                .set("Allow", "GET, HEAD, POST")
                .map(|()| r.into()));
        }
        let cfg = crate::config::get(env);
        // The URL's host is the Host header the visitor sent (the runtime
        // builds the URL from it), and stays right when a test harness or
        // an internal hop rewrites the header.
        let host = Some(parts.authority)
            .filter(|h| !h.is_empty())
            .map(|h| h.to_ascii_lowercase())
            .unwrap_or_else(|| cfg.short_domain.clone());
        Ok(Self {
            req,
            env,
            now,
            slug,
            raw_query: parts.query,
            method,
            cfg,
            host,
        })
    }

    /// A custom host is tried first; any host without the link falls back
    /// to the default domain's links.
    fn hosts(&self) -> Vec<&str> {
        let mut hosts = vec![self.host.as_str()];
        if self.host != self.cfg.short_domain {
            hosts.push(&self.cfg.short_domain);
        }
        hosts
    }

    fn visitor(&self) -> Result<Visitor, Early> {
        // Fails loudly (logged 500) rather than hashing with a known key.
        let secret = match self.cfg.visitor_hash_secret() {
            Ok(s) => s,
            Err(e) => {
                worker::console_error!("redirect: misconfigured deployment: {e}");
                return Err(html(500, pages::layout(500, "Server error", "")));
            }
        };
        let fields = visitor_fields(self.req);
        let mut fields = fields.splitn(4, '\n');
        let mut next = || fields.next().unwrap_or_default();
        let (ua, ip, referer, country) = (next(), next(), next(), next());
        let hash = visitor_key(secret).hash(self.now.div_euclid(DAY_MS), ip, ua);
        Ok(Visitor {
            ua: ua.to_owned(),
            country: Some(country)
                .filter(|c| !c.is_empty())
                .map(|c| c.to_ascii_uppercase()),
            referrer: url::host_of(referer),
            hash,
        })
    }

    /// Everything after the lookup (and the password form's read) that
    /// never awaits, shared by both paths: decide, hand the click on,
    /// answer.
    fn answer(
        &self,
        wctx: &Context,
        (domain, record): (&str, &RedirectRecord),
        who: Visitor,
        password: Option<&str>,
    ) -> Answer {
        if self.method == Method::Post && record.password_hash.is_none() {
            return html(405, pages::layout(405, "Method not allowed", ""));
        }
        let (qr, query) = split_qr_marker(self.raw_query);
        let parsed_ua = ua::parse(&who.ua);
        let visit = Visit {
            ua: parsed_ua,
            country: who.country.as_deref(),
            password,
            query: &query,
            visitor: &who.hash,
            // Only links with a card pay for the second UA scan.
            link_preview: record.preview.is_some() && ua::is_link_preview(&who.ua),
        };
        let decision = decide(record, &visit, self.now);
        let Decision::Redirect { location, variant } = decision else {
            // Not a click: pages (the preview card included) are never counted.
            let body = match (&decision, &record.preview) {
                (Decision::Preview, Some(p)) => pages::preview_card(p, &record.destination_url),
                _ => {
                    let short_url = self.cfg.short_url(domain, self.slug.as_str());
                    pages::for_decision(&decision, &short_url).unwrap_or_default()
                }
            };
            return html(decision.status(), body);
        };

        if self.method != Method::Head {
            let event = ClickEvent {
                id: next_event_id(),
                link_id: record.link_id.clone(),
                workspace_id: record.workspace_id.clone(),
                ts: self.now,
                country: who.country,
                device: parsed_ua.device.as_str().into(),
                os: parsed_ua.os.as_str().into(),
                browser: parsed_ua.browser.as_str().into(),
                referrer: who.referrer,
                bot: parsed_ua.is_bot,
                visitor: who.hash,
                qr,
                webhook: record.webhook,
                scene: record.webhook_scene.clone(),
                variant,
            };
            queue_click(
                self.env,
                wctx,
                event,
                self.cfg.click_batch_ms,
                aggregator::Client::new(&self.cfg),
            );
        }

        found(&location).map_err(worker::Error::from)
    }
}

/// The redirect when it can answer without awaiting anything: a page that
/// needs no record, or a link in this isolate's hot cache (not a password
/// form's POST). `None`: [`handle`] answers, from the start (a miss costs
/// a KV read, next to which reading the request again is nothing).
pub fn answer_now(
    req: &web_sys::Request,
    raw_url: &str,
    env: &Env,
    wctx: &Context,
) -> Option<Answer> {
    let inc = match Incoming::read(req, raw_url, env) {
        Ok(inc) => inc,
        Err(early) => return Some(early),
    };
    let (domain, record) = records::lookup_hot(
        &inc.hosts(),
        inc.slug.as_str(),
        inc.now,
        inc.cfg.hot_cache_ttl_ms,
    )?;
    if inc.method == Method::Post && record.password_hash.is_some() {
        return None;
    }
    Some(match inc.visitor() {
        Ok(who) => inc.answer(wctx, (domain, &record), who, None),
        Err(early) => early,
    })
}

/// The redirect, awaiting the KV read on a hot-cache miss and a password
/// form's rate limit and body. `raw_url` is `req.url()`, read once by the
/// caller.
pub async fn handle(req: web_sys::Request, raw_url: &str, env: Env, wctx: Context) -> Answer {
    let inc = match Incoming::read(&req, raw_url, &env) {
        Ok(inc) => inc,
        Err(early) => return early,
    };
    let found = records::lookup(
        || env.kv("LINKS"),
        &inc.hosts(),
        inc.slug.as_str(),
        inc.now,
        inc.cfg.hot_cache_ttl_ms,
    )
    .await?;
    let Some((domain, record)) = found else {
        return html(404, pages::not_found());
    };
    let who = match inc.visitor() {
        Ok(who) => who,
        Err(early) => return early,
    };
    // Only a form POST to a password-protected link carries a password.
    let password = if inc.method == Method::Post && record.password_hash.is_some() {
        if !password_attempt_allowed(&env, &record.link_id, &who.hash, inc.now).await {
            return html(429, pages::too_many_attempts());
        }
        let form = Request::from(Clone::clone(&req))
            .text()
            .await
            .unwrap_or_default();
        Some(form_field(&form, "password").unwrap_or_default())
    } else {
        None
    };
    inc.answer(&wctx, (domain, &record), who, password.as_deref())
}

/// D1-backed so the limit holds across isolates; fails open on D1 errors
/// (the slow hash still bounds the guess rate).
async fn password_attempt_allowed(env: &Env, link_id: &str, visitor: &str, now: i64) -> bool {
    let Ok(db) = env.d1("DB") else { return true };
    let (window, _) = edgelink_core::plan::rate_window(now);
    let bucket = ratelimit::Bucket::Password { link_id, visitor };
    match ratelimit::hit(&db, &bucket, window).await {
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
}
