//! Every deployment setting in one place: its name, default and bounds.
//!
//! The worker reads `env` once per isolate through [`Config::from_lookup`]
//! (vars and secrets only change with a deployment, which starts new
//! isolates); parsing is pure so it unit-tests here.

use crate::stats::{DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS};
use crate::webhooks::parse_schedule;

/// A secret value: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A required secret that the deployment does not have. The paths that
/// need it answer 500 and log this, instead of running on a built-in value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingSecret(pub &'static str);

impl std::fmt::Display for MissingSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the secret {} is not set (wrangler secret put {})",
            self.0, self.0
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `SHORT_DOMAIN`: the default short domain (lower-cased).
    pub short_domain: String,
    /// `SHORT_SCHEME`: `http` or `https` (anything else is `https`).
    pub short_scheme: String,
    /// `HOT_CACHE_TTL_SECONDS` (0..=300, default 5) in ms; 0 disables it.
    pub hot_cache_ttl_ms: i64,
    /// `CLICK_RETENTION_DAYS` (14..=3650, default 90).
    pub click_retention_days: i64,
    /// `CLICK_BATCH_MS` (0..=1000, default 20).
    pub click_batch_ms: u64,
    /// `ANALYTICS_SHARDS` (1..=64, default 1): click aggregator objects;
    /// a link's analytics live in shard `fnv1a(link) % shards`.
    pub analytics_shards: u32,
    /// `ANALYTICS_COMMIT_MS` (0..=15000, default 15000): how long the
    /// aggregator gathers clicks into one group commit (0: each call).
    pub analytics_commit_ms: u64,
    /// `ANALYTICS_FLUSH_SECONDS` (1..=3600, default 3600): how often the
    /// aggregator writes its commits to D1.
    pub analytics_flush_seconds: i64,
    /// `DOH_RESOLVER_URL` (default Cloudflare's JSON API).
    pub doh_resolver_url: String,
    /// `WEBHOOK_ALLOW_PRIVATE_TARGETS` (`true` only in local development).
    pub webhook_allow_private_targets: bool,
    /// `WEBHOOK_RETRY_SCHEDULE`: seconds between attempts.
    pub webhook_retry_schedule: Vec<u32>,
    /// `EVENTS_QUEUE`: the click-events queue's name, as in wrangler.toml.
    pub events_queue: String,
    /// `WEBHOOKS_QUEUE`: the webhook-deliveries queue's name.
    pub webhooks_queue: String,
    /// `JOBS_QUEUE`: the background-jobs queue's name (imports, blocklist bans).
    pub jobs_queue: String,
    /// `ADMIN_TOKEN` (secret): the operator API's bearer token.
    pub admin_token: Option<Secret>,
    /// `VISITOR_HASH_SECRET` (secret): the key of the daily visitor hash.
    pub visitor_hash_secret: Option<Secret>,
}

pub const DEFAULT_SHORT_DOMAIN: &str = "localhost:8787";
pub const DEFAULT_HOT_CACHE_TTL_SECONDS: i64 = 5;
pub const MAX_HOT_CACHE_TTL_SECONDS: i64 = 300;
pub const DEFAULT_CLICK_BATCH_MS: u64 = 20;
pub const MAX_CLICK_BATCH_MS: u64 = 1000;
pub const DEFAULT_EVENTS_QUEUE: &str = "edgelink-events";
pub const DEFAULT_WEBHOOKS_QUEUE: &str = "edgelink-webhooks";
pub const DEFAULT_JOBS_QUEUE: &str = "edgelink-jobs";

impl Config {
    /// `get(name)` is a var or secret of the deployment; empty counts as
    /// unset. Out-of-range numbers are clamped, unreadable ones default.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Config {
        let get = |name: &str| {
            get(name)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let int = |name: &str, default: i64, min: i64, max: i64| {
            get(name)
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(default)
                .clamp(min, max)
        };
        Config {
            short_domain: get("SHORT_DOMAIN")
                .unwrap_or_else(|| DEFAULT_SHORT_DOMAIN.into())
                .to_ascii_lowercase(),
            short_scheme: match get("SHORT_SCHEME").map(|s| s.to_ascii_lowercase()) {
                Some(s) if s == "http" => s,
                _ => "https".into(),
            },
            hot_cache_ttl_ms: int(
                "HOT_CACHE_TTL_SECONDS",
                DEFAULT_HOT_CACHE_TTL_SECONDS,
                0,
                MAX_HOT_CACHE_TTL_SECONDS,
            ) * 1000,
            click_retention_days: int(
                "CLICK_RETENTION_DAYS",
                DEFAULT_RETENTION_DAYS,
                MIN_RETENTION_DAYS,
                MAX_RETENTION_DAYS,
            ),
            click_batch_ms: int(
                "CLICK_BATCH_MS",
                DEFAULT_CLICK_BATCH_MS as i64,
                0,
                MAX_CLICK_BATCH_MS as i64,
            ) as u64,
            analytics_shards: int("ANALYTICS_SHARDS", 1, 1, 64) as u32,
            analytics_commit_ms: int("ANALYTICS_COMMIT_MS", 15_000, 0, 15_000) as u64,
            analytics_flush_seconds: int("ANALYTICS_FLUSH_SECONDS", 3_600, 1, 3_600),
            doh_resolver_url: get("DOH_RESOLVER_URL")
                .unwrap_or_else(|| crate::domains::DEFAULT_RESOLVER.into()),
            webhook_allow_private_targets: get("WEBHOOK_ALLOW_PRIVATE_TARGETS").as_deref()
                == Some("true"),
            webhook_retry_schedule: parse_schedule(get("WEBHOOK_RETRY_SCHEDULE").as_deref()),
            events_queue: get("EVENTS_QUEUE").unwrap_or_else(|| DEFAULT_EVENTS_QUEUE.into()),
            webhooks_queue: get("WEBHOOKS_QUEUE").unwrap_or_else(|| DEFAULT_WEBHOOKS_QUEUE.into()),
            jobs_queue: get("JOBS_QUEUE").unwrap_or_else(|| DEFAULT_JOBS_QUEUE.into()),
            admin_token: get("ADMIN_TOKEN").map(Secret),
            visitor_hash_secret: get("VISITOR_HASH_SECRET").map(Secret),
        }
    }

    pub fn admin_token(&self) -> Result<&str, MissingSecret> {
        secret(&self.admin_token, "ADMIN_TOKEN")
    }

    pub fn visitor_hash_secret(&self) -> Result<&str, MissingSecret> {
        secret(&self.visitor_hash_secret, "VISITOR_HASH_SECRET")
    }

    /// The short URL of `slug` on `domain`.
    pub fn short_url(&self, domain: &str, slug: &str) -> String {
        format!("{}://{domain}/{slug}", self.short_scheme)
    }

    /// How long a caller waits for the aggregator to answer before it
    /// takes the fallback (the redirect: the Queue; the consumer: a retry):
    /// the group commit's wait plus 5 s for a cold object's D1 loads. At
    /// the default 20 s it fits the 30 s `waitUntil` budget with the send.
    pub fn analytics_call_timeout_ms(&self) -> u64 {
        self.analytics_commit_ms + 5_000
    }

    /// Which consumer a queue batch belongs to, by its exact name.
    pub fn queue_kind(&self, name: &str) -> Option<QueueKind> {
        if name == self.events_queue {
            Some(QueueKind::Events)
        } else if name == self.webhooks_queue {
            Some(QueueKind::Webhooks)
        } else if name == self.jobs_queue {
            Some(QueueKind::Jobs)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    Events,
    Webhooks,
    Jobs,
}

fn secret<'a>(s: &'a Option<Secret>, name: &'static str) -> Result<&'a str, MissingSecret> {
    s.as_ref().map(Secret::expose).ok_or(MissingSecret(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Config {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]);
        assert_eq!(c.short_domain, "localhost:8787");
        assert_eq!(c.short_scheme, "https");
        assert_eq!(c.hot_cache_ttl_ms, 5000);
        assert_eq!(c.click_retention_days, 90);
        assert_eq!(c.click_batch_ms, 20);
        assert_eq!(
            (
                c.analytics_shards,
                c.analytics_commit_ms,
                c.analytics_flush_seconds
            ),
            (1, 15_000, 3_600)
        );
        assert_eq!(c.analytics_call_timeout_ms(), 20_000);
        assert_eq!(
            cfg(&[("ANALYTICS_COMMIT_MS", "0")]).analytics_call_timeout_ms(),
            5_000
        );
        assert_eq!(c.doh_resolver_url, crate::domains::DEFAULT_RESOLVER);
        assert!(!c.webhook_allow_private_targets);
        assert_eq!(c.webhook_retry_schedule, vec![5, 30, 120, 600]);
        assert_eq!(c.events_queue, "edgelink-events");
        assert_eq!(c.webhooks_queue, "edgelink-webhooks");
        assert_eq!(c.jobs_queue, "edgelink-jobs");
        assert_eq!(c.queue_kind("edgelink-jobs"), Some(QueueKind::Jobs));
        assert_eq!(c.admin_token(), Err(MissingSecret("ADMIN_TOKEN")));
        assert_eq!(
            c.visitor_hash_secret(),
            Err(MissingSecret("VISITOR_HASH_SECRET"))
        );
    }

    #[test]
    fn values_are_read_and_bounded() {
        let c = cfg(&[
            ("SHORT_DOMAIN", "Go2.GG"),
            ("SHORT_SCHEME", "http"),
            ("HOT_CACHE_TTL_SECONDS", "99999"),
            ("CLICK_RETENTION_DAYS", "1"),
            ("CLICK_BATCH_MS", "5000"),
            ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
            ("WEBHOOK_RETRY_SCHEDULE", "1,2"),
            ("EVENTS_QUEUE", "ev"),
            ("ADMIN_TOKEN", "t"),
            ("VISITOR_HASH_SECRET", "s"),
        ]);
        assert_eq!(c.short_domain, "go2.gg");
        assert_eq!(c.short_url("go2.gg", "x"), "http://go2.gg/x");
        assert_eq!(c.hot_cache_ttl_ms, 300_000);
        assert_eq!(c.click_retention_days, 14);
        assert_eq!(c.click_batch_ms, 1000);
        assert!(c.webhook_allow_private_targets);
        assert_eq!(c.webhook_retry_schedule, vec![1, 2]);
        assert_eq!(c.queue_kind("ev"), Some(QueueKind::Events));
        assert_eq!(c.queue_kind("edgelink-webhooks"), Some(QueueKind::Webhooks));
        assert_eq!(c.queue_kind("edgelink-jobs"), Some(QueueKind::Jobs));
        // Exact names: a DLQ or a look-alike is nobody's.
        assert_eq!(c.queue_kind("edgelink-webhooks-dlq"), None);
        assert_eq!(c.admin_token(), Ok("t"));
        assert_eq!(c.visitor_hash_secret(), Ok("s"));
        assert!(
            !format!("{c:?}").contains("\"s\""),
            "secrets stay out of logs"
        );
    }

    #[test]
    fn junk_and_empty_fall_back() {
        let c = cfg(&[
            ("HOT_CACHE_TTL_SECONDS", "soon"),
            ("CLICK_BATCH_MS", "-3"),
            ("ADMIN_TOKEN", "  "),
            ("SHORT_SCHEME", "ftp"),
        ]);
        assert_eq!(c.hot_cache_ttl_ms, 5000);
        assert_eq!(c.click_batch_ms, 0);
        assert!(c.admin_token().is_err());
        assert_eq!(c.short_scheme, "https");
    }
}
