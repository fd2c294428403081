//! Custom domains: the name rules, the TXT record that proves ownership,
//! and reading a DNS-over-HTTPS (JSON) answer.

use crate::error::{ApiError, ApiResult};
use crate::secrets::base62;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Custom domains per workspace.
pub const MAX_PER_WORKSPACE: i64 = 20;
/// The TXT record is looked up at `_edgelink.<domain>`.
pub const RECORD_PREFIX: &str = "_edgelink";
/// The TXT record's value is `edgelink-verify=<token>`.
pub const VALUE_PREFIX: &str = "edgelink-verify=";
/// DNS resolver queried with `?name=&type=TXT` and
/// `Accept: application/dns-json` (Cloudflare's and Google's JSON API).
/// Whether a custom domain has proved ownership. Stored as the integer
/// `domains.verified` (0 / 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
pub enum DomainStatus {
    Pending,
    Verified,
}

impl From<i64> for DomainStatus {
    fn from(v: i64) -> Self {
        if v != 0 {
            DomainStatus::Verified
        } else {
            DomainStatus::Pending
        }
    }
}

impl From<DomainStatus> for i64 {
    fn from(s: DomainStatus) -> i64 {
        (s == DomainStatus::Verified) as i64
    }
}

impl DomainStatus {
    /// `verification.status` in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainStatus::Pending => "pending",
            DomainStatus::Verified => "verified",
        }
    }

    pub fn is_verified(self) -> bool {
        self == DomainStatus::Verified
    }
}

pub const DEFAULT_RESOLVER: &str = "https://cloudflare-dns.com/dns-query";

/// A lower-case DNS host name: at least two labels of letters, digits and
/// inner hyphens (1–63 characters each, 253 in all), a TLD that is not all
/// digits (so never an IP address), no port, no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(raw: &str) -> ApiResult<DomainName> {
        let bad = |m: &str| Err(ApiError::validation("domain", m));
        let d = raw.trim().trim_end_matches('.').to_ascii_lowercase();
        if d.is_empty() {
            return bad("is required");
        }
        if d.len() > 253 {
            return bad("must be at most 253 characters");
        }
        if d.contains("://") || d.contains('/') || d.contains(':') {
            return bad(
                "must be a bare host name such as links.example.com (no scheme, path or port)",
            );
        }
        let labels: Vec<&str> = d.split('.').collect();
        if labels.len() < 2 {
            return bad("must have at least two labels, such as example.com");
        }
        for l in &labels {
            if l.is_empty()
                || l.len() > 63
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return bad("is not a valid host name (letters, digits and inner hyphens per label; use punycode for IDNs)");
            }
        }
        if labels
            .last()
            .is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit()))
        {
            return bad("must be a host name, not an IP address");
        }
        Ok(DomainName(d))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fresh verification token (32 base62 characters).
pub fn new_token(random: &[u8; 32]) -> String {
    base62(random)
}

/// The TXT record's name for a domain.
pub fn record_name(domain: &str) -> String {
    format!("{RECORD_PREFIX}.{domain}")
}

/// The TXT record's value for a token.
pub fn record_value(token: &str) -> String {
    format!("{VALUE_PREFIX}{token}")
}

/// Whether a DNS JSON answer holds a TXT record whose text is exactly
/// `expected`. TXT data comes quoted and may be split into several quoted
/// strings (`"abc" "def"`), which join into one.
pub fn answer_has_txt(answer: &Value, expected: &str) -> bool {
    if answer.get("Status").and_then(Value::as_i64) != Some(0) {
        return false;
    }
    let Some(records) = answer.get("Answer").and_then(Value::as_array) else {
        return false;
    };
    records
        .iter()
        .filter(|r| r.get("type").and_then(Value::as_i64) == Some(16))
        .filter_map(|r| r.get("data").and_then(Value::as_str))
        .any(|data| txt_text(data) == expected)
}

/// Joins the quoted character-strings of one TXT record's data.
fn txt_text(data: &str) -> String {
    let data = data.trim();
    if !data.starts_with('"') {
        return data.to_string();
    }
    let mut out = String::new();
    let mut inside = false;
    let mut escaped = false;
    for c in data.chars() {
        match (inside, escaped, c) {
            (true, false, '\\') => escaped = true,
            (true, true, c) => {
                out.push(c);
                escaped = false;
            }
            (true, false, '"') => inside = false,
            (true, false, c) => out.push(c),
            (false, _, '"') => inside = true,
            (false, _, _) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_normalised() {
        assert_eq!(
            DomainName::parse(" Links.Example.COM. ").unwrap().as_str(),
            "links.example.com"
        );
        assert_eq!(
            DomainName::parse("go.xn--bcher-kva.de").unwrap().as_str(),
            "go.xn--bcher-kva.de"
        );
        assert!(DomainName::parse("a-b.co").is_ok());
    }

    #[test]
    fn bad_names_name_the_field() {
        for bad in [
            "",
            "localhost",
            "https://example.com",
            "example.com/path",
            "example.com:8443",
            "-bad.com",
            "bad-.com",
            "exa mple.com",
            "ex_ample.com",
            "a..com",
            "10.0.0.1",
            "bücher.de",
            &format!("{}.com", "a".repeat(64)),
            &format!("{}.com", "a.".repeat(127)),
        ] {
            let e = DomainName::parse(bad).unwrap_err();
            assert_eq!(e.code(), "VALIDATION_ERROR", "{bad}");
            assert!(e.envelope().to_string().contains("domain"), "{bad}");
        }
    }

    #[test]
    fn record_name_and_value() {
        assert_eq!(
            record_name("links.example.com"),
            "_edgelink.links.example.com"
        );
        assert_eq!(record_value("abc"), "edgelink-verify=abc");
        let t = new_token(&[1u8; 32]);
        assert_eq!(t.len(), 32);
    }

    fn answer(data: &[&str]) -> Value {
        json!({
            "Status": 0,
            "Answer": data.iter().map(|d| json!({"name": "_edgelink.example.com", "type": 16, "TTL": 60, "data": d})).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn txt_answers_are_matched_exactly() {
        let want = "edgelink-verify=tok123";
        assert!(answer_has_txt(
            &answer(&["\"edgelink-verify=tok123\""]),
            want
        ));
        assert!(answer_has_txt(
            &answer(&["\"v=spf1 -all\"", "\"edgelink-verify=tok123\""]),
            want
        ));
        // Split into two character-strings.
        assert!(answer_has_txt(
            &answer(&["\"edgelink-verify=\" \"tok123\""]),
            want
        ));
        // Unquoted data (some resolvers).
        assert!(answer_has_txt(&answer(&["edgelink-verify=tok123"]), want));
        assert!(!answer_has_txt(
            &answer(&["\"edgelink-verify=tok1234\""]),
            want
        ));
        assert!(!answer_has_txt(
            &answer(&["\"edgelink-verify=other\""]),
            want
        ));
        assert!(!answer_has_txt(&answer(&[]), want));
        // NXDOMAIN, or a CNAME instead of TXT.
        assert!(!answer_has_txt(&json!({"Status": 3}), want));
        assert!(!answer_has_txt(
            &json!({"Status": 0, "Answer": [{"type": 5, "data": "edgelink-verify=tok123"}]}),
            want
        ));
        assert!(!answer_has_txt(&json!("garbage"), want));
    }
}
