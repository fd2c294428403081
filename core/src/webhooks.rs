//! Webhooks: the subscription input, the target URL rules (no private or
//! loopback addresses), event payloads, signatures and the retry schedule.
//! The worker stores, queues and sends; everything it decides comes from
//! here.

use crate::error::{ApiError, ApiResult};
use crate::events::ClickEvent;
use crate::ids::DeliveryId;
use crate::input::Fields;
use crate::secrets::{hmac_sha256, sign_hex};
use crate::time::format_rfc3339;
use crate::url::DestinationUrl;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Events a webhook can subscribe to; `*` is every one of them.
pub const EVENTS: [&str; 7] = [
    "click",
    "link.created",
    "link.updated",
    "link.deleted",
    "domain.verified",
    "qr.scanned",
    "*",
];
/// The event `POST /webhooks/{id}/test` sends (to any webhook).
pub const TEST_EVENT: &str = "webhook.test";
/// Seconds to wait after failed attempt 1, 2, 3, 4; attempt 5 failing
/// marks the delivery failed.
pub const RETRY_SCHEDULE: [u32; 4] = [5, 30, 120, 600];
/// A target has this long to answer an attempt.
pub const TIMEOUT_MS: u32 = 10_000;
/// Webhooks per workspace.
pub const MAX_PER_WORKSPACE: i64 = 25;
pub const MAX_NAME_CHARS: usize = 100;
/// Stored from a target's answer, for the delivery log.
pub const MAX_LOGGED_RESPONSE_CHARS: usize = 1024;

const KNOWN_FIELDS: [&str; 4] = ["name", "url", "events", "isActive"];

/// A webhook target: an absolute http(s) URL whose host is not a private,
/// loopback, link-local or otherwise internal address (unless the
/// deployment allows those for local development).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(s: &str, allow_private: bool) -> ApiResult<WebhookUrl> {
        let url = DestinationUrl::parse(s, "url")?.into_string();
        if url.split("://").nth(1).is_some_and(|rest| {
            rest.split(['/', '?', '#'])
                .next()
                .is_some_and(|a| a.contains('@'))
        }) {
            return Err(ApiError::invalid_url("url", "must not contain credentials"));
        }
        let host = crate::url::host_of(&url).unwrap_or_default();
        if !allow_private && is_internal_host(&host) {
            return Err(ApiError::invalid_url(
                "url",
                "must not point to a private, loopback or internal address",
            ));
        }
        Ok(WebhookUrl(url))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// True for hosts a webhook must not reach from the edge: loopback,
/// private, link-local, CGNAT, multicast and reserved addresses (in any
/// spelling the WHATWG URL parser accepts, e.g. `2130706433` or `0x7f.1`),
/// and internal names (`localhost`, `*.local`, `*.internal`, ...).
pub fn is_internal_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return true;
    }
    if let Ok(v6) = host.trim_matches(['[', ']']).parse::<Ipv6Addr>() {
        return internal_v6(v6);
    }
    if let Some(v4) = whatwg_ipv4(&host) {
        return internal_v4(v4);
    }
    const NAMES: [&str; 2] = ["localhost", "metadata.google.internal"];
    const SUFFIXES: [&str; 6] = [
        ".localhost",
        ".local",
        ".internal",
        ".home.arpa",
        ".lan",
        ".intranet",
    ];
    NAMES.contains(&host.as_str())
        || SUFFIXES.iter().any(|s| host.ends_with(s))
        // A single label (no dot) resolves through local search domains.
        || !host.contains('.')
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 224
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return internal_v4(v4);
    }
    // NAT64 (64:ff9b::/96) embeds an IPv4 address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return internal_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xff00) == 0xff00 // multicast
        || s[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
}

/// The WHATWG URL parser's IPv4 forms: 1–4 dot-separated parts, each
/// decimal, octal (`0` prefix) or hex (`0x`), the last filling the
/// remaining bytes. `None` when the host is a name.
fn whatwg_ipv4(host: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        let n = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            if h.is_empty() {
                0
            } else {
                u64::from_str_radix(h, 16).ok()?
            }
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8).ok()?
        } else {
            p.parse::<u64>().ok()?
        };
        nums.push(n);
    }
    let (last, init) = nums.split_last()?;
    if init.iter().any(|n| *n > 255) {
        return None;
    }
    let rest_bits = 8 * (4 - init.len() as u32);
    if rest_bits < 64 && *last >= (1u64 << rest_bits) {
        return None;
    }
    let mut v: u64 = 0;
    for (i, n) in init.iter().enumerate() {
        v |= n << (24 - 8 * i as u32);
    }
    Some(Ipv4Addr::from((v | last) as u32))
}

/// The events of a subscription: known names, at least one, no repeats
/// (kept in the order given).
pub fn parse_events(v: &Value) -> ApiResult<Vec<String>> {
    let bad = || {
        ApiError::validation(
            "events",
            format!("must be a non-empty array of: {}", EVENTS.join(", ")),
        )
    };
    let Value::Array(items) = v else {
        return Err(bad());
    };
    if items.is_empty() {
        return Err(bad());
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let Some(name) = item.as_str().filter(|s| EVENTS.contains(s)) else {
            return Err(match item.as_str() {
                Some(s) => ApiError::validation(
                    "events",
                    format!(
                        "unknown event '{}'; known events: {}",
                        s.chars().take(50).collect::<String>(),
                        EVENTS.join(", ")
                    ),
                ),
                None => bad(),
            });
        };
        if !out.iter().any(|e| e == name) {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

/// Whether a subscription wants `event`.
pub fn subscribes(events: &[String], event: &str) -> bool {
    event == TEST_EVENT || events.iter().any(|e| e == "*" || e == event)
}

/// A create (`creating`) or PATCH body, validated. Absent fields are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookPatch {
    pub name: Option<String>,
    pub url: Option<WebhookUrl>,
    pub events: Option<Vec<String>>,
    pub is_active: Option<bool>,
}

impl WebhookPatch {
    pub fn parse(
        body: &Map<String, Value>,
        creating: bool,
        allow_private: bool,
    ) -> ApiResult<Self> {
        let f = Fields::new(body);
        f.deny_unknown(&KNOWN_FIELDS, &["id", "createdAt", "updatedAt", "secret"])?;
        let url = match (f.string("url", crate::url::MAX_URL_LEN)?, creating) {
            (Some(u), _) => Some(WebhookUrl::parse(&u, allow_private)?),
            (None, true) => return Err(ApiError::invalid_url("url", "is required")),
            (None, false) => None,
        };
        let events = match (body.get("events"), creating) {
            (Some(v), _) => Some(parse_events(v)?),
            (None, true) => return Err(ApiError::validation("events", "is required")),
            (None, false) => None,
        };
        let name = match f.nullable_string("name", MAX_NAME_CHARS)? {
            Some(n) => Some(n.unwrap_or_default().trim().to_string()),
            None if creating => Some(String::new()),
            None => None,
        };
        Ok(WebhookPatch {
            name,
            url,
            events,
            is_active: f.bool("isActive")?,
        })
    }
}

/// The prefix of every signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` + the standard base64 of the first 24
/// random bytes (32 characters), as Standard Webhooks defines secrets.
pub fn new_secret(random: &[u8; 32]) -> String {
    format!("{SECRET_PREFIX}{}", base64_encode(&random[..24]))
}

/// The signature header's value: hex HMAC-SHA256 of the exact body bytes.
pub fn signature(secret: &str, body: &[u8]) -> String {
    sign_hex(secret, body)
}

/// The Standard Webhooks HMAC key of a secret: the base64 decoding of what
/// follows `whsec_` (standard alphabet, `=` padding optional).
///
/// Secrets issued before Standard Webhooks support are `whsec_` + 32
/// characters of `[0-9A-Za-z]`: valid base64, so they decode like any
/// other, to 24 bytes. A secret whose rest is not valid base64 (none is
/// issued) uses the UTF-8 bytes of that rest, like the reference
/// libraries' `raw` format.
pub fn signing_key(secret: &str) -> Vec<u8> {
    let rest = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    base64_decode(rest).unwrap_or_else(|| rest.as_bytes().to_vec())
}

/// The `webhook-signature` header of Standard Webhooks:
/// `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`
/// under [`signing_key`]. `timestamp` is Unix seconds, as sent in
/// `webhook-timestamp`.
pub fn standard_signature(secret: &str, webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    let prefix = format!("{webhook_id}.{timestamp}.");
    let mut signed = Vec::with_capacity(prefix.len() + body.len());
    signed.extend_from_slice(prefix.as_bytes());
    signed.extend_from_slice(body);
    let mac = hmac_sha256(&signing_key(secret), &signed);
    format!("v1,{}", base64_encode(&mac))
}

/// How long a rotated-out secret keeps signing deliveries next to the new
/// one, so receivers can switch without dropping a delivery.
pub const SECRET_OVERLAP_MS: i64 = 24 * 3_600_000;

/// The secrets a delivery at `now` is signed with: the current one, then
/// the previous one while its overlap lasts.
pub fn signing_secrets<'a>(
    current: &'a str,
    previous: Option<&'a str>,
    previous_until: Option<i64>,
    now: i64,
) -> Vec<&'a str> {
    let mut out = vec![current];
    if let (Some(p), Some(until)) = (previous, previous_until) {
        if now < until {
            out.push(p);
        }
    }
    out
}

/// `webhook-signature` under every secret in force, space-separated as
/// Standard Webhooks allows (a receiver accepts any one that verifies).
pub fn standard_signatures(
    secrets: &[&str],
    webhook_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| standard_signature(s, webhook_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A webhook is switched off after this many failed deliveries in a row…
pub const DISABLE_AFTER_FAILURES: i64 = 50;
/// …or when every delivery has failed for this long.
pub const DISABLE_AFTER_FAILING_MS: i64 = 3 * 86_400_000;

/// Why a webhook was switched off by the platform (not by its owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisabledReason {
    ConsecutiveFailures,
    FailingForDays,
}

impl DisabledReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DisabledReason::ConsecutiveFailures => "50 deliveries in a row failed",
            DisabledReason::FailingForDays => "every delivery failed for 3 days",
        }
    }
}

/// After a failed delivery: `streak` failures in a row, the first of them
/// at `failing_since`. `Some` when the webhook must be switched off.
pub fn disable_reason(streak: i64, failing_since: i64, now: i64) -> Option<DisabledReason> {
    if streak >= DISABLE_AFTER_FAILURES {
        Some(DisabledReason::ConsecutiveFailures)
    } else if now - failing_since >= DISABLE_AFTER_FAILING_MS {
        Some(DisabledReason::FailingForDays)
    } else {
        None
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648 §4) with `=` padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64: the RFC 4648 alphabet, with its `=` padding or
/// without any. `None` for other characters, misplaced or excess padding,
/// or a length no encoding has (4k + 1). Bits left over after the last
/// whole byte are ignored, as the reference libraries do.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let data = s.trim_end_matches('=');
    let pad = s.len() - data.len();
    if pad > 2 || (pad > 0 && !s.len().is_multiple_of(4)) || data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in data.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The body of every delivery: `{"id", "event", "createdAt", "data"}`.
/// `id` names the event (the same for every webhook it goes to; receivers
/// dedupe on it), the delivery id travels in a header.
pub fn payload(event_id: &str, event: &str, at_ms: i64, data: Value) -> String {
    payload_value(event_id, event, at_ms, data).to_string()
}

pub fn payload_value(event_id: &str, event: &str, at_ms: i64, data: Value) -> Value {
    json!({
        "id": event_id,
        "event": event,
        "createdAt": format_rfc3339(at_ms),
        "data": data,
    })
}

/// The `click` part of click and `qr.scanned` payloads (no visitor hash,
/// no IP). The worker adds `data.link` from the database.
pub fn click_data(c: &ClickEvent) -> Value {
    json!({
        "click": {
            "id": c.id,
            "timestamp": format_rfc3339(c.ts),
            "country": c.country,
            "device": c.device,
            "os": c.os,
            "browser": c.browser,
            "referrer": c.referrer,
            "qr": c.qr,
        },
        "scene": c.scene,
    })
}

/// The webhook events one counted click raises: `click` when its link has
/// `webhook: true`, `qr.scanned` when it came from a saved QR code. Event
/// ids derive from the click id, so a redelivered click raises nothing new.
pub fn click_events(c: &ClickEvent) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    if c.bot {
        return out;
    }
    if c.webhook {
        out.push((c.id.clone(), "click"));
    }
    if c.qr {
        out.push((format!("{}.qr", c.id), "qr.scanned"));
    }
    out
}

/// Seconds to wait before the attempt after `attempts_done` failed ones,
/// or `None` when the delivery has had all its attempts.
pub fn retry_delay(attempts_done: u32, schedule: &[u32]) -> Option<u32> {
    (attempts_done >= 1)
        .then(|| schedule.get(attempts_done as usize - 1).copied())
        .flatten()
}

/// A schedule from a comma-separated variable (`"5,30,120,600"`); anything
/// unreadable falls back to [`RETRY_SCHEDULE`].
pub fn parse_schedule(raw: Option<&str>) -> Vec<u32> {
    let parsed: Option<Vec<u32>> = raw.filter(|s| !s.trim().is_empty()).and_then(|s| {
        s.split(',')
            .map(|p| p.trim().parse::<u32>().ok().filter(|n| *n <= 43_200))
            .collect()
    });
    match parsed {
        Some(v) if !v.is_empty() && v.len() <= 10 => v,
        _ => RETRY_SCHEDULE.to_vec(),
    }
}

/// A pending delivery whose next attempt is this long overdue lost its
/// Queue message (a send that failed after the row was written, or a run
/// that died mid-attempt); the sweeper queues it again.
pub const OVERDUE_MS: i64 = 120_000;

/// The attempt a swept pending delivery should make: the first when none
/// was made; the next when the last one finished (it scheduled
/// `next_attempt_at` after itself); the same one again when it was claimed
/// but never finished (the claim is stale by then, so it can be re-taken).
pub fn resume_attempt(attempts: i64, last_attempt_at: Option<i64>, next_attempt_at: i64) -> u32 {
    let attempts = attempts.max(0) as u32;
    match last_attempt_at {
        None => attempts + 1,
        Some(_) if attempts == 0 => 1,
        Some(last) if next_attempt_at > last => attempts + 1,
        Some(_) => attempts,
    }
}

/// What the delivery log keeps of one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptResult {
    /// HTTP status, when the target answered at all.
    pub status: Option<u16>,
    /// Why it failed (timeout, refused address, connection error).
    pub error: Option<String>,
    pub duration_ms: i64,
    /// The start of the target's answer, for debugging.
    pub response: Option<String>,
}

impl AttemptResult {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Truncates a target's answer for the log, on a char boundary.
pub fn truncate_response(s: &str) -> String {
    s.chars().take(MAX_LOGGED_RESPONSE_CHARS).collect()
}

/// A Queue message on the webhooks queue: deliver `delivery`, whose
/// `attempt`-th attempt this is (1-based). A duplicate message for an
/// attempt already made is dropped by the worker's claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub delivery: DeliveryId,
    pub attempt: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        WebhookUrl::parse(url, false).is_err()
    }

    #[test]
    fn public_targets_are_accepted() {
        for u in [
            "https://your-server.com/webhook",
            "http://example.com:8080/hook?x=1",
            "https://8.8.8.8/hook",
            "https://[2606:4700::1111]/hook",
            "https://hooks.slack.com/services/T/B/X",
            "https://172.32.0.1/",
            "https://100.128.0.1/",
        ] {
            assert!(WebhookUrl::parse(u, false).is_ok(), "{u}");
        }
    }

    #[test]
    fn private_and_internal_targets_are_refused() {
        for u in [
            "http://localhost/hook",
            "http://LOCALHOST./hook",
            "http://api.localhost/hook",
            "http://127.0.0.1:8080/hook",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://0.0.0.0/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://224.0.0.1/",
            "http://[::1]/",
            "http://[::]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[64:ff9b::a00:1]/",
            "http://printer.local/",
            "http://metadata.google.internal/",
            "http://service.internal/",
            "http://router.home.arpa/",
            "http://intranet/",
        ] {
            assert!(refused(u), "{u}");
        }
    }

    #[test]
    fn local_development_may_allow_private_targets() {
        assert!(WebhookUrl::parse("http://127.0.0.1:9999/hook", true).is_ok());
        // Still only absolute http(s) URLs.
        assert!(WebhookUrl::parse("ftp://127.0.0.1/", true).is_err());
        assert!(WebhookUrl::parse("/relative", true).is_err());
    }

    #[test]
    fn credentials_and_other_schemes_are_refused() {
        assert!(refused("https://user:pass@example.com/hook"));
        assert!(refused("javascript:alert(1)"));
        assert!(refused("file:///etc/passwd"));
        assert!(refused(""));
    }

    #[test]
    fn refusals_name_the_field() {
        let e = WebhookUrl::parse("http://10.0.0.1/", false).unwrap_err();
        assert_eq!(e.code(), "INVALID_URL");
        assert!(e.envelope().to_string().contains("url"));
    }

    #[test]
    fn whatwg_ipv4_forms() {
        assert_eq!(whatwg_ipv4("127.0.0.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(whatwg_ipv4("127.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(whatwg_ipv4("10.258"), Some(Ipv4Addr::new(10, 0, 1, 2)));
        assert_eq!(whatwg_ipv4("0xA.0"), Some(Ipv4Addr::new(10, 0, 0, 0)));
        assert_eq!(whatwg_ipv4("example.com"), None);
        assert_eq!(whatwg_ipv4("1.2.3.4.5"), None);
        assert_eq!(whatwg_ipv4("256.1.1.1"), None);
        assert_eq!(whatwg_ipv4("4294967296"), None);
    }

    #[test]
    fn events_are_checked_and_deduplicated() {
        assert_eq!(
            parse_events(&json!(["click", "link.created", "click"])).unwrap(),
            vec!["click", "link.created"]
        );
        assert_eq!(parse_events(&json!(["*"])).unwrap(), vec!["*"]);
        for bad in [
            json!([]),
            json!("click"),
            json!([1]),
            json!(["clicks"]),
            json!(null),
        ] {
            let e = parse_events(&bad).unwrap_err();
            assert_eq!(e.code(), "VALIDATION_ERROR", "{bad}");
        }
        let e = parse_events(&json!(["link.create"])).unwrap_err();
        assert!(e.envelope().to_string().contains("link.create"));
    }

    #[test]
    fn subscriptions_match_events_and_the_wildcard() {
        let ev = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(subscribes(&ev(&["click"]), "click"));
        assert!(!subscribes(&ev(&["click"]), "link.created"));
        assert!(subscribes(&ev(&["*"]), "qr.scanned"));
        assert!(subscribes(&ev(&["link.deleted"]), TEST_EVENT));
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn create_needs_url_and_events() {
        let p = WebhookPatch::parse(
            &obj(json!({"name": "Click Tracker", "url": "https://your-server.com/webhook", "events": ["click", "link.created"]})),
            true,
            false,
        )
        .unwrap();
        assert_eq!(p.name.as_deref(), Some("Click Tracker"));
        assert_eq!(p.events.unwrap(), vec!["click", "link.created"]);
        let missing_url = WebhookPatch::parse(&obj(json!({"events": ["click"]})), true, false);
        assert_eq!(missing_url.unwrap_err().code(), "INVALID_URL");
        let missing_events =
            WebhookPatch::parse(&obj(json!({"url": "https://a.com/"})), true, false);
        assert_eq!(missing_events.unwrap_err().code(), "VALIDATION_ERROR");
        let unknown = WebhookPatch::parse(
            &obj(json!({"url": "https://a.com/", "events": ["*"], "secrett": 1})),
            true,
            false,
        );
        assert_eq!(unknown.unwrap_err().code(), "VALIDATION_ERROR");
        let long_name = WebhookPatch::parse(
            &obj(json!({"url": "https://a.com/", "events": ["*"], "name": "x".repeat(101)})),
            true,
            false,
        );
        assert_eq!(long_name.unwrap_err().code(), "VALIDATION_ERROR");
        let bad_active = WebhookPatch::parse(&obj(json!({"isActive": "yes"})), false, false);
        assert_eq!(bad_active.unwrap_err().code(), "VALIDATION_ERROR");
    }

    #[test]
    fn patch_leaves_absent_fields_alone() {
        let p = WebhookPatch::parse(&obj(json!({"isActive": false})), false, false).unwrap();
        assert_eq!(
            p,
            WebhookPatch {
                is_active: Some(false),
                ..Default::default()
            }
        );
    }

    #[test]
    fn signature_is_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn secrets_are_whsec_and_the_base64_of_24_random_bytes() {
        let mut random = [0u8; 32];
        for (i, b) in random.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(250);
        }
        let s = new_secret(&random);
        assert!(s.starts_with("whsec_"));
        assert_eq!(s.len(), 6 + 32);
        assert_eq!(signing_key(&s), random[..24].to_vec());
        assert_eq!(base64_encode(&signing_key(&s)), s[6..]);
    }

    #[test]
    fn standard_webhooks_test_vector() {
        // From the Standard Webhooks reference libraries' tests
        // (libraries/go/webhook_test.go, TestWebhookSign).
        let sig = standard_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        // The libraries accept the secret without its prefix too.
        assert_eq!(
            signing_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        );
    }

    #[test]
    fn secrets_issued_before_decode_as_base64() {
        // The old generator: `whsec_` + 32 base62 characters, all in the
        // base64 alphabet, so 24 bytes.
        let old = format!("whsec_{}", crate::secrets::base62(&[200u8; 32]));
        let key = signing_key(&old);
        assert_eq!(key.len(), 24);
        assert_eq!(base64_encode(&key), old[6..]);
        // The signature uses that key, not the secret's text.
        let sig = standard_signature(&old, "whd_1", 1_700_000_000, b"{}");
        let mac = hmac_sha256(&key, b"whd_1.1700000000.{}");
        assert_eq!(sig, format!("v1,{}", base64_encode(&mac)));
        // Not base64 (never issued): the raw text after the prefix.
        assert_eq!(signing_key("whsec_not-base64!"), b"not-base64!".to_vec());
    }

    #[test]
    fn base64_matches_rfc_4648() {
        // RFC 4648 §10.
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), enc);
            assert_eq!(base64_decode(enc).unwrap(), plain.as_bytes());
            // Padding is optional on input.
            assert_eq!(
                base64_decode(enc.trim_end_matches('=')).unwrap(),
                plain.as_bytes()
            );
        }
        let all: Vec<u8> = (0..=255).collect();
        for len in 0..all.len() {
            let enc = base64_encode(&all[..len]);
            assert_eq!(base64_decode(&enc).unwrap(), &all[..len], "{len}");
        }
        assert_eq!(base64_encode(&[0xfb, 0xff]), "+/8=");
        for bad in [
            "Zg=", "Z", "Zm9vY", "Zg===", "Zm9v=", "Z===", "Zm-v", "Zm_v", "Zm 9v", "=Zg=",
        ] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_schedule_is_5s_30s_2m_10m_then_failed() {
        let s = RETRY_SCHEDULE;
        assert_eq!(retry_delay(1, &s), Some(5));
        assert_eq!(retry_delay(2, &s), Some(30));
        assert_eq!(retry_delay(3, &s), Some(120));
        assert_eq!(retry_delay(4, &s), Some(600));
        assert_eq!(retry_delay(5, &s), None);
        assert_eq!(retry_delay(0, &s), None);
    }

    #[test]
    fn schedules_parse_or_fall_back() {
        assert_eq!(parse_schedule(Some("1, 1,2")), vec![1, 1, 2]);
        assert_eq!(parse_schedule(None), RETRY_SCHEDULE.to_vec());
        assert_eq!(parse_schedule(Some("")), RETRY_SCHEDULE.to_vec());
        assert_eq!(parse_schedule(Some("5,x")), RETRY_SCHEDULE.to_vec());
        assert_eq!(parse_schedule(Some("99999")), RETRY_SCHEDULE.to_vec());
    }

    fn click(webhook: bool, qr: bool, bot: bool) -> ClickEvent {
        ClickEvent {
            id: "evt_1".into(),
            link_id: "lnk_1".into(),
            workspace_id: "ws_1".into(),
            ts: 0,
            country: Some("DE".into()),
            device: "mobile".into(),
            os: "ios".into(),
            browser: "safari".into(),
            referrer: None,
            bot,
            visitor: "secret-hash".into(),
            qr,
            webhook,
            scene: "promo".into(),
            variant: None,
        }
    }

    #[test]
    fn a_click_raises_click_for_webhook_links_and_qr_scanned_for_scans() {
        assert!(click_events(&click(false, false, false)).is_empty());
        assert_eq!(
            click_events(&click(true, false, false)),
            vec![("evt_1".to_string(), "click")]
        );
        assert_eq!(
            click_events(&click(false, true, false)),
            vec![("evt_1.qr".to_string(), "qr.scanned")]
        );
        assert_eq!(click_events(&click(true, true, false)).len(), 2);
        assert!(click_events(&click(true, true, true)).is_empty());
    }

    #[test]
    fn click_payload_carries_scene_and_no_visitor_hash() {
        let body = payload("evt_1", "click", 0, click_data(&click(true, false, false)));
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["event"], "click");
        assert_eq!(v["id"], "evt_1");
        assert_eq!(v["createdAt"], "1970-01-01T00:00:00Z");
        assert_eq!(v["data"]["scene"], "promo");
        assert_eq!(v["data"]["click"]["country"], "DE");
        assert!(!body.contains("secret-hash"));
    }

    #[test]
    fn swept_deliveries_resume_at_the_right_attempt() {
        // Never attempted (its message was never sent).
        assert_eq!(resume_attempt(0, None, 1_000), 1);
        // Attempt 2 failed at t=5000 and scheduled attempt 3 for t=35000.
        assert_eq!(resume_attempt(2, Some(5_000), 35_000), 3);
        // Attempt 3 was claimed at t=40000 (after its scheduled time) and
        // never finished: do attempt 3 again.
        assert_eq!(resume_attempt(3, Some(40_000), 35_000), 3);
    }

    #[test]
    fn attempt_results_succeed_on_2xx_only() {
        let r = |status| AttemptResult {
            status,
            error: None,
            duration_ms: 1,
            response: None,
        };
        assert!(r(Some(200)).ok());
        assert!(r(Some(204)).ok());
        assert!(!r(Some(301)).ok());
        assert!(!r(Some(500)).ok());
        assert!(!r(None).ok());
        assert_eq!(truncate_response(&"é".repeat(2000)).chars().count(), 1024);
    }

    #[test]
    fn a_rotated_secret_signs_until_its_overlap_ends() {
        let until = 1_000 + SECRET_OVERLAP_MS;
        assert_eq!(
            signing_secrets("new", Some("old"), Some(until), 1_000),
            vec!["new", "old"]
        );
        assert_eq!(
            signing_secrets("new", Some("old"), Some(until), until - 1),
            vec!["new", "old"]
        );
        assert_eq!(
            signing_secrets("new", Some("old"), Some(until), until),
            vec!["new"]
        );
        assert_eq!(signing_secrets("new", None, None, 0), vec!["new"]);
        let a = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let b = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let both = standard_signatures(&[a, b], "msg_1", 5, b"{}");
        assert_eq!(
            both,
            format!(
                "{} {}",
                standard_signature(a, "msg_1", 5, b"{}"),
                standard_signature(b, "msg_1", 5, b"{}")
            )
        );
    }

    #[test]
    fn failing_webhooks_are_disabled_after_50_or_3_days() {
        let day = 86_400_000;
        assert_eq!(disable_reason(1, 0, day), None);
        assert_eq!(disable_reason(49, 0, 3 * day - 1), None);
        assert_eq!(
            disable_reason(50, 0, 0),
            Some(DisabledReason::ConsecutiveFailures)
        );
        assert_eq!(
            disable_reason(2, 0, 3 * day),
            Some(DisabledReason::FailingForDays)
        );
        assert_eq!(
            DisabledReason::FailingForDays.as_str(),
            "every delivery failed for 3 days"
        );
    }
}
