//! The redirect-record store: KV records keyed by host + slug
//! ([`kv::Records`]) behind a small in-isolate hot-link cache, so a viral
//! link does not pay a KV read per click. API writes go through here too,
//! which drops the written record from this isolate's cache at once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use edgelink_core::link::{Link, RedirectRecord};
use edgelink_core::ApiResult;
use worker::KvStore;

use super::kv::{self, KvPrefix, Records};
use crate::http::internal;

/// Upper bound on cached records per isolate (a few hundred KB at most).
const HOT_CACHE_MAX: usize = 1024;

struct Cached {
    until: i64,
    record: Rc<RedirectRecord>,
}

thread_local! {
    /// Each isolate has its own; entries live `HOT_CACHE_TTL_SECONDS`.
    static HOT: RefCell<HashMap<String, Cached>> = RefCell::new(HashMap::new());
}

fn forget(key: &str) {
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

pub async fn put(kv: &KvStore, link: &Link) -> ApiResult<()> {
    let at = (link.domain.as_str(), link.slug.as_str());
    kv::put::<Records>(kv, at, &link.record())
        .await
        .map_err(internal("KV put"))?;
    forget(&Records::key(at));
    Ok(())
}

pub async fn delete(kv: &KvStore, domain: &str, slug: &str) -> ApiResult<()> {
    kv::delete::<Records>(kv, (domain, slug))
        .await
        .map_err(internal("KV delete"))?;
    forget(&Records::key((domain, slug)));
    Ok(())
}

/// Keeps KV in step after a link write: moves the record when the host or
/// slug changed.
pub async fn sync(kv: &KvStore, before: Option<&Link>, after: &Link) -> ApiResult<()> {
    if let Some(b) = before {
        if b.domain != after.domain || b.slug != after.slug {
            delete(kv, &b.domain, &b.slug).await?;
        }
    }
    put(kv, after).await
}

/// The redirect's one read: the first of `hosts` with a record for
/// `slug`, from the hot cache (`ttl_ms > 0`) or one KV read each. `kv` is
/// called only on a cache miss, so a hit never touches the binding.
/// Worker errors, not API errors: the redirect renders its own pages.
pub async fn lookup<'h>(
    kv: impl Fn() -> worker::Result<KvStore>,
    hosts: &[&'h str],
    slug: &str,
    now: i64,
    ttl_ms: i64,
) -> worker::Result<Option<(&'h str, Rc<RedirectRecord>)>> {
    let mut store = None;
    for &host in hosts {
        let key = Records::key((host, slug));
        if let Some(r) = hot_get(&key, now, ttl_ms) {
            return Ok(Some((host, r)));
        }
        let store = match &store {
            Some(s) => s,
            None => store.insert(kv()?),
        };
        if let Some(record) = kv::get::<Records>(store, (host, slug)).await? {
            let record = Rc::new(record);
            if ttl_ms > 0 {
                cache_put(key, record.clone(), now + ttl_ms, now);
            }
            return Ok(Some((host, record)));
        }
    }
    Ok(None)
}

/// [`lookup`] when it would answer from the hot cache alone, without
/// awaiting: the first host's cached record. `None` means [`lookup`] must
/// run, since a later host is consulted only after a KV read of the first.
pub fn lookup_hot<'h>(
    hosts: &[&'h str],
    slug: &str,
    now: i64,
    ttl_ms: i64,
) -> Option<(&'h str, Rc<RedirectRecord>)> {
    let &host = hosts.first()?;
    hot_get(&Records::key((host, slug)), now, ttl_ms).map(|r| (host, r))
}

/// The hot cache as the lookups read it: off when `ttl_ms` is 0.
fn hot_get(key: &str, now: i64, ttl_ms: i64) -> Option<Rc<RedirectRecord>> {
    if ttl_ms > 0 {
        cache_get(key, now)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn hot_lookup_answers_for_the_first_host_only() {
        let hosts = ["custom.example", "short.example"];
        // The default domain's link, cached: the custom host still needs
        // its KV read first.
        let key = Records::key(("short.example", "s1"));
        cache_put(key, Rc::new(RedirectRecord::default()), 100, 0);
        assert!(lookup_hot(&hosts, "s1", 50, 60).is_none());
        assert_eq!(
            lookup_hot(&hosts[1..], "s1", 50, 60).map(|f| f.0),
            Some("short.example")
        );
        // Off with the cache, and expired entries miss.
        assert!(lookup_hot(&hosts[1..], "s1", 50, 0).is_none());
        assert!(lookup_hot(&hosts[1..], "s1", 100, 60).is_none());
        assert!(lookup_hot(&[], "s1", 50, 60).is_none());
    }
}
