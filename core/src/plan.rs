//! Workspace plans (request rate, link quota) and API key scopes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Pro,
    Business,
}

impl Plan {
    pub fn parse(s: &str) -> Option<Plan> {
        match s {
            "free" => Some(Plan::Free),
            "pro" => Some(Plan::Pro),
            "business" => Some(Plan::Business),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
            Plan::Business => "business",
        }
    }

    /// API requests a minute, per key.
    pub fn requests_per_minute(self) -> u32 {
        match self {
            Plan::Free => 60,
            Plan::Pro => 300,
            Plan::Business => 1000,
        }
    }

    /// Links a workspace may hold (Bitly/Dub-like tiers).
    pub fn link_quota(self) -> u64 {
        match self {
            Plan::Free => 1_000,
            Plan::Pro => 50_000,
            Plan::Business => 1_000_000,
        }
    }
}

/// What an API key may do. Stored as `full` / `read-only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyScope {
    Full,
    ReadOnly,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::Full => "full",
            KeyScope::ReadOnly => "read-only",
        }
    }

    /// go2.gg's `scopes` array.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            KeyScope::Full => &["read", "write"],
            KeyScope::ReadOnly => &["read"],
        }
    }

    pub fn can_write(self) -> bool {
        self == KeyScope::Full
    }
}

impl PartialEq<&str> for KeyScope {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Fixed one-minute windows: `(window start ms, seconds until reset)`.
pub fn rate_window(now_ms: i64) -> (i64, u64) {
    let start = now_ms - now_ms.rem_euclid(60_000);
    let reset = ((start + 60_000 - now_ms) as u64).div_ceil(1000).max(1);
    (start, reset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_have_the_seed_rates() {
        assert_eq!(Plan::parse("free").unwrap().requests_per_minute(), 60);
        assert_eq!(Plan::parse("pro").unwrap().requests_per_minute(), 300);
        assert_eq!(Plan::parse("business").unwrap().requests_per_minute(), 1000);
        assert_eq!(Plan::parse("enterprise"), None);
    }

    #[test]
    fn scopes_keep_their_stored_names() {
        let full: KeyScope = serde_json::from_str("\"full\"").unwrap();
        let ro: KeyScope = serde_json::from_str("\"read-only\"").unwrap();
        assert_eq!((full, ro), (KeyScope::Full, KeyScope::ReadOnly));
        assert_eq!(serde_json::to_string(&ro).unwrap(), "\"read-only\"");
        assert_eq!(ro.scopes(), ["read"]);
        assert!(full.can_write() && !ro.can_write());
        assert_eq!(serde_json::to_string(&Plan::Pro).unwrap(), "\"pro\"");
    }

    #[test]
    fn windows_are_minutes() {
        assert_eq!(rate_window(120_000), (120_000, 60));
        assert_eq!(rate_window(179_500), (120_000, 1));
        assert_eq!(rate_window(150_000), (120_000, 30));
    }
}
