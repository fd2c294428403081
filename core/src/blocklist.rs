//! The operator's blocklist of destination hosts (abuse guard) and the
//! self-loop rule: which URLs of a link a write must refuse. Pure: the
//! worker reads the patterns and the platform's domains from D1.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::link::Link;
use crate::slug::Slug;
use crate::url::host_of;

pub const MAX_PATTERN: usize = 253;

/// A blocked host: `evil.example` blocks that host and every subdomain
/// (`a.evil.example`), never `notevil.example`. Lower-case, no scheme,
/// port, path or wildcard (a leading `*.` is accepted and dropped: it
/// means what the plain name means here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostPattern(String);

impl HostPattern {
    /// `field` names the JSON field in the error.
    pub fn parse(s: &str, field: &str) -> ApiResult<HostPattern> {
        let d = s.trim().to_ascii_lowercase();
        // One root dot (`evil.example.`), as a DNS name may carry.
        let d = d.strip_suffix('.').unwrap_or(&d);
        let d = d.strip_prefix("*.").unwrap_or(d);
        let labels: Vec<&str> = d.split('.').collect();
        let ok = !d.is_empty()
            && d.len() <= MAX_PATTERN
            && labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !ok {
            return Err(ApiError::validation(
                field,
                "must be a host name of at least two labels, such as evil.example (no scheme, port or path)",
            ));
        }
        Ok(HostPattern(d.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `host` (lower-case, no port) is this host or one of its subdomains.
    pub fn matches(&self, host: &str) -> bool {
        host == self.0
            || host
                .strip_suffix(self.0.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    }
}

/// The patterns that could block `host`: the host and each parent name
/// (`a.b.evil.example` → itself, `b.evil.example`, `evil.example`,
/// `example`), so a lookup by equality finds every matching pattern.
pub fn candidates(host: &str) -> Vec<String> {
    let mut out = vec![host.to_string()];
    let mut rest = host;
    while let Some((_, parent)) = rest.split_once('.') {
        out.push(parent.to_string());
        rest = parent;
    }
    out
}

/// The hosts of every URL of `link`, with the field naming each.
pub fn link_hosts(link: &Link) -> Vec<(String, String)> {
    link.urls()
        .into_iter()
        .filter_map(|(field, url)| host_of(url).map(|h| (field, h)))
        .collect()
}

/// Every candidate pattern of a link's hosts (one D1 lookup for all).
pub fn link_candidates(link: &Link) -> Vec<String> {
    let mut out: Vec<String> = link_hosts(link)
        .iter()
        .flat_map(|(_, h)| candidates(h))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The first URL field of `link` on a blocked host, and the pattern.
pub fn first_blocked<'p>(
    link: &Link,
    patterns: &'p [HostPattern],
) -> Option<(String, &'p HostPattern)> {
    link_hosts(link).into_iter().find_map(|(field, host)| {
        patterns
            .iter()
            .find(|p| p.matches(&host))
            .map(|p| (field, p))
    })
}

/// Refuses a link with a URL on a blocked host: 400 `DESTINATION_BLOCKED`
/// naming the first such field.
pub fn check(link: &Link, patterns: &[HostPattern]) -> ApiResult<()> {
    match first_blocked(link, patterns) {
        None => Ok(()),
        Some((field, p)) => Err(ApiError::DestinationBlocked {
            field,
            message: format!("links to {} are blocked on this platform", p.as_str()),
        }),
    }
}

/// `host[:port]` of a URL, lower-cased (a short domain may carry a port,
/// `localhost:8787`).
fn authority_of(url: &str) -> Option<String> {
    let (_, rest) = crate::url::split_scheme(url)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    (!host_port.is_empty()).then(|| host_port.to_ascii_lowercase())
}

/// The authorities of a link's URLs (to look up among verified domains).
pub fn link_authorities(link: &Link) -> Vec<String> {
    // With and without an explicit port (`go.brand.com:443`).
    let mut out: Vec<String> = link
        .urls()
        .iter()
        .flat_map(|(_, u)| [authority_of(u), host_of(u)])
        .flatten()
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Refuses a URL that is a short link of this platform (on one of
/// `own_domains`: the default short domain and the verified custom
/// domains), which would redirect in a loop: 400 `INVALID_URL` naming the
/// field. Other paths of those hosts (`/api/...`, `/bio/...`, `/`) are
/// not short links and are allowed.
pub fn check_self_loop(link: &Link, own_domains: &[String]) -> ApiResult<()> {
    for (field, url) in link.urls() {
        let Some(auth) = authority_of(url) else {
            continue;
        };
        let default_port = |d: &str| {
            // `example.com` also matches `example.com:443` and `:80`.
            auth.strip_suffix(":443")
                .or_else(|| auth.strip_suffix(":80"))
                .is_some_and(|a| a == d)
        };
        if !own_domains.iter().any(|d| *d == auth || default_port(d)) {
            continue;
        }
        let path = crate::url::split_scheme(url)
            .map(|(_, r)| r)
            .and_then(|r| r.find(['/', '?', '#']).map(|i| &r[i..]))
            .unwrap_or("");
        let first = path
            .strip_prefix('/')
            .unwrap_or("")
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("");
        if Slug::parse(first).is_ok() {
            return Err(ApiError::invalid_url(
                field,
                "is a short link of this platform and would redirect in a loop",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Variant;

    fn pat(s: &str) -> HostPattern {
        HostPattern::parse(s, "host").unwrap()
    }

    #[test]
    fn patterns_parse_and_normalise() {
        assert_eq!(pat(" Evil.Example. ").as_str(), "evil.example");
        assert_eq!(pat("*.evil.example").as_str(), "evil.example");
        for bad in [
            "",
            "evil",
            "https://evil.example",
            "evil.example/path",
            "evil.example:8080",
            "*evil.example",
            "a..b",
            "-a.example",
            "ev il.example",
            "*.",
            "evil.example..",
        ] {
            let e = HostPattern::parse(bad, "host").unwrap_err();
            assert_eq!(
                (e.code(), e.field()),
                ("VALIDATION_ERROR", Some("host")),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_pattern_matches_itself_and_subdomains_only() {
        let p = pat("evil.example");
        assert!(p.matches("evil.example"));
        assert!(p.matches("a.b.evil.example"));
        assert!(!p.matches("notevil.example"));
        assert!(!p.matches("evil.example.com"));
        assert!(!p.matches("example"));
        assert_eq!(
            candidates("a.b.evil.example"),
            vec![
                "a.b.evil.example",
                "b.evil.example",
                "evil.example",
                "example"
            ]
        );
    }

    fn link() -> Link {
        Link {
            destination_url: "https://ok.example/x".into(),
            geo_targets: [("DE".to_string(), "https://de.ok.example".to_string())].into(),
            ios_url: Some("https://apps.apple.com/x".into()),
            test_variants: vec![
                Variant {
                    url: "https://ok.example/a".into(),
                    weight: 50,
                },
                Variant {
                    url: "https://WWW.Evil.Example/b".into(),
                    weight: 50,
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn a_blocked_url_anywhere_names_its_field() {
        let e = check(&link(), &[pat("evil.example")]).unwrap_err();
        assert_eq!(e.code(), "DESTINATION_BLOCKED");
        assert_eq!(e.status(), 400);
        assert_eq!(e.field(), Some("testVariants[1].url"));
        let e = check(&link(), &[pat("ok.example")]).unwrap_err();
        assert_eq!(e.field(), Some("destinationUrl"));
        let mut l = link();
        l.destination_url = "https://fine.example".into();
        let e = check(&l, &[pat("ok.example")]).unwrap_err();
        assert_eq!(e.field(), Some("geoTargets.DE"));
        assert!(check(&l, &[pat("apple.co")]).is_ok());
        assert!(link_candidates(&l).contains(&"evil.example".to_string()));
    }

    #[test]
    fn short_links_of_the_platform_are_loops() {
        let own = vec!["localhost:8787".to_string(), "go.brand.com".to_string()];
        let mut l = link();
        l.test_variants.clear();
        assert!(check_self_loop(&l, &own).is_ok());
        for (url, looped) in [
            ("http://localhost:8787/abc", true),
            ("http://LOCALHOST:8787/abc?x=1", true),
            ("https://go.brand.com/promo", true),
            ("https://go.brand.com:443/promo", true),
            ("https://go.brand.com/", false),
            ("https://go.brand.com", false),
            ("https://go.brand.com/api/v1/links", false),
            ("https://go.brand.com/bio/me", false),
            ("http://localhost:9999/abc", false),
            ("https://brand.com/abc", false),
        ] {
            l.android_url = Some(url.into());
            let r = check_self_loop(&l, &own);
            assert_eq!(r.is_err(), looped, "{url}");
            if let Err(e) = r {
                assert_eq!((e.code(), e.field()), ("INVALID_URL", Some("androidUrl")));
            }
        }
    }
}
