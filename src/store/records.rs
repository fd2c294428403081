//! Redirect records in KV, keyed by host + slug (`edgelink_core::link::record_key`).

use edgelink_core::link::{record_key, Link, RedirectRecord};
use edgelink_core::ApiResult;
use worker::KvStore;

use crate::http::internal;

pub async fn put(kv: &KvStore, link: &Link) -> ApiResult<()> {
    let key = record_key(&link.domain, &link.slug);
    kv.put(&key, link.record().to_json_string())
        .map_err(internal("KV put"))?
        .execute()
        .await
        .map_err(internal("KV put"))?;
    crate::redirect::forget(&key);
    Ok(())
}

pub async fn delete(kv: &KvStore, domain: &str, slug: &str) -> ApiResult<()> {
    let key = record_key(domain, slug);
    kv.delete(&key).await.map_err(internal("KV delete"))?;
    crate::redirect::forget(&key);
    Ok(())
}

/// The one read of the redirect hot path (worker errors, not API errors:
/// the redirect renders its own pages).
pub async fn get(kv: &KvStore, key: &str) -> worker::Result<Option<RedirectRecord>> {
    let raw = kv.get(key).text().await?;
    Ok(raw.as_deref().and_then(RedirectRecord::from_json))
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
