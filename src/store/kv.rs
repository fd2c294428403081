//! Every KV key format, each declared with the type of its value (as
//! cloudflare/daphne's `KvPrefix`): a key cannot be built without saying
//! what is stored under it.

use edgelink_core::link::RedirectRecord;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub trait KvPrefix {
    const PREFIX: &'static str;
    /// Between the two parts that name an entry (`{PREFIX}{a}{SEP}{b}`).
    const SEP: char;
    type Value: Serialize + DeserializeOwned;

    fn key((a, b): Key) -> String {
        format!("{}{a}{}{b}", Self::PREFIX, Self::SEP)
    }

    fn encode(v: &Self::Value) -> String {
        serde_json::to_string(v).unwrap_or_default()
    }

    /// `None` for anything that is not a value of this prefix.
    fn decode(raw: &str) -> Option<Self::Value> {
        serde_json::from_str(raw).ok()
    }
}

/// The two parts that name an entry under a prefix.
pub type Key<'a> = (&'a str, &'a str);

/// `l1:{host}/{slug}` → the redirect's compact record.
pub struct Records;

impl KvPrefix for Records {
    const PREFIX: &'static str = "l1:";
    const SEP: char = '/';
    type Value = RedirectRecord;

    fn encode(v: &RedirectRecord) -> String {
        v.to_json_string()
    }

    fn decode(raw: &str) -> Option<RedirectRecord> {
        RedirectRecord::from_json(raw)
    }
}

/// `test:fault:{mode}:{event id}` → a fault-injection hook has fired
/// (test builds only).
#[cfg(feature = "test-hooks")]
pub struct Faults;

#[cfg(feature = "test-hooks")]
impl KvPrefix for Faults {
    const PREFIX: &'static str = "test:fault:";
    const SEP: char = ':';
    type Value = u8;
}

pub async fn get<P: KvPrefix>(
    kv: &worker::KvStore,
    k: Key<'_>,
) -> worker::Result<Option<P::Value>> {
    let raw = kv.get(&P::key(k)).text().await?;
    Ok(raw.as_deref().and_then(P::decode))
}

pub async fn put<P: KvPrefix>(
    kv: &worker::KvStore,
    k: Key<'_>,
    v: &P::Value,
) -> worker::Result<()> {
    Ok(kv.put(&P::key(k), P::encode(v))?.execute().await?)
}

pub async fn delete<P: KvPrefix>(kv: &worker::KvStore, k: Key<'_>) -> worker::Result<()> {
    Ok(kv.delete(&P::key(k)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_keys_keep_their_format() {
        // Records already in KV, and tests/bench that read them, use it.
        assert_eq!(Records::key(("go2.gg", "my-link")), "l1:go2.gg/my-link");
    }
}
