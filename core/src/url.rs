//! Destination URLs: absolute http(s) only, checked without a URL crate
//! (the `url` crate's IDNA tables would cost more wasm than the redirect).

use crate::error::ApiError;

pub const MAX_URL_LEN: usize = 2048;

/// `s.split_once("://")`, found from each `:` (a byte search) rather than
/// by a substring searcher built per call: the redirect splits every
/// request's URL and referrer.
pub fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let mut from = 0;
    while let Some(i) = s[from..].find(':') {
        let at = from + i;
        if s[at + 1..].starts_with("//") {
            return Some((&s[..at], &s[at + 3..]));
        }
        from = at + 1;
    }
    None
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct DestinationUrl(String);

impl DestinationUrl {
    /// `field` names the JSON field in the error (e.g. `geoTargets.US`).
    pub fn parse(s: &str, field: &str) -> Result<DestinationUrl, ApiError> {
        let bad = |m: &str| Err(ApiError::invalid_url(field, m));
        let s = s.trim();
        if s.is_empty() {
            return bad("must not be empty");
        }
        if s.len() > MAX_URL_LEN {
            return bad("must be at most 2048 characters");
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return bad("must not contain spaces or control characters");
        }
        let Some((scheme, rest)) = split_scheme(s) else {
            return bad("must be an absolute http or https URL");
        };
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return bad("only http and https URLs are allowed");
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or("");
        let host = if let Some(v6) = host_port.strip_prefix('[') {
            match v6.split_once(']') {
                Some((h, port)) if !h.is_empty() && valid_port(port) => h,
                _ => return bad("has an invalid host"),
            }
        } else {
            let (h, port) = match host_port.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port, None),
            };
            if let Some(p) = port {
                if !valid_port(&format!(":{p}")) {
                    return bad("has an invalid port");
                }
            }
            h
        };
        if host.is_empty()
            || host.starts_with(['.', '-'])
            || host.contains("..")
            || !host
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        {
            return bad("has an invalid host");
        }
        Ok(DestinationUrl(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn valid_port(p: &str) -> bool {
    match p.strip_prefix(':') {
        None => p.is_empty(),
        Some(n) => !n.is_empty() && n.len() <= 5 && n.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// The parts of an incoming request's URL, as the runtime serialises it
/// (WHATWG: scheme, `://`, authority, a path that starts with `/`, then
/// `?query` and `#fragment`), split without a URL parser: the redirect
/// needs only these and reads the URL string once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    /// `host[:port]` as sent (not lower-cased).
    pub authority: &'a str,
    /// From the first `/` up to `?` or `#`; `/` when empty.
    pub path: &'a str,
    /// After `?`, without the fragment; empty when absent.
    pub query: &'a str,
}

impl<'a> RequestUrl<'a> {
    pub fn split(url: &'a str) -> RequestUrl<'a> {
        let rest = split_scheme(url).map_or(url, |(_, r)| r);
        let rest = rest.split('#').next().unwrap_or("");
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match before_query.find('/') {
            Some(i) => before_query.split_at(i),
            None => (before_query, "/"),
        };
        RequestUrl {
            authority,
            path,
            query,
        }
    }
}

/// Host of a URL (lower-cased, without port), e.g. for the referrer breakdown.
pub fn host_of(url: &str) -> Option<String> {
    let (_, rest) = split_scheme(url)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if host_port.starts_with('[') {
        host_port.split(']').next()?.trim_start_matches('[')
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Percent-encodes a query component (RFC 3986 unreserved kept).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` and `+` (form encoding). Invalid escapes are kept as is.
pub fn decode_component(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Appends an already-encoded query fragment (`a=1&b=2`) to `url`, keeping
/// its existing query and fragment intact.
pub fn append_query(url: &str, extra: &str) -> String {
    if extra.is_empty() {
        return url.to_string();
    }
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len() + extra.len() + 2);
    out.push_str(base);
    if !base.contains('?') {
        out.push('?');
    } else if !base.ends_with(['?', '&']) {
        out.push('&');
    }
    out.push_str(extra);
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn split_scheme_is_split_once() {
        for s in [
            "",
            ":",
            "://",
            "a://b",
            "https://x.y/p?q#f",
            "a:b://c",
            "a:/b",
            "a:/",
            "x:",
            "no scheme",
            "::///",
            "é://日本",
            "a:b:c//d://e",
        ] {
            assert_eq!(super::split_scheme(s), s.split_once("://"), "{s:?}");
        }
    }

    use super::*;

    #[test]
    fn accepts_http_and_https() {
        for u in [
            "https://example.com/landing-page",
            "http://example.com",
            "HTTPS://Example.COM:8443/a?b=c#d",
            "https://user:pw@example.com/",
            "https://[::1]:8080/x",
            "https://例え.jp/パス",
            "https://play.google.com/store/apps/details?id=com.myapp",
        ] {
            assert!(DestinationUrl::parse(u, "destinationUrl").is_ok(), "{u}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for u in [
            "",
            "example.com",
            "ftp://example.com",
            "javascript:alert(1)",
            "javascript://example.com/%0aalert(1)",
            "data:text/html,hi",
            "https://",
            "https:///path",
            "https://exa mple.com",
            "https://example.com:abc/",
            "https://.example.com",
            "https://exa<mple.com",
            "https://a\nb.com",
        ] {
            let e = DestinationUrl::parse(u, "geoTargets.US").unwrap_err();
            assert_eq!(e.code(), "INVALID_URL", "{u}");
            assert_eq!(e.field(), Some("geoTargets.US"));
        }
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert!(DestinationUrl::parse(&long, "destinationUrl").is_err());
    }

    #[test]
    fn appends_query_keeping_fragment() {
        assert_eq!(
            append_query("https://e.com/p", "a=1"),
            "https://e.com/p?a=1"
        );
        assert_eq!(
            append_query("https://e.com/p?x=2", "a=1"),
            "https://e.com/p?x=2&a=1"
        );
        assert_eq!(
            append_query("https://e.com/p?", "a=1"),
            "https://e.com/p?a=1"
        );
        assert_eq!(
            append_query("https://e.com/p?x=2#top", "a=1&b=2"),
            "https://e.com/p?x=2&a=1&b=2#top"
        );
        assert_eq!(
            append_query("https://e.com/#/route?q", "a=1"),
            "https://e.com/?a=1#/route?q"
        );
        assert_eq!(append_query("https://e.com/p", ""), "https://e.com/p");
    }

    #[test]
    fn hosts_and_encoding() {
        assert_eq!(
            host_of("https://News.Ycombinator.com:443/item?id=1").as_deref(),
            Some("news.ycombinator.com")
        );
        assert_eq!(
            host_of("android-app://com.google.android.gm/").as_deref(),
            Some("com.google.android.gm")
        );
        assert_eq!(host_of("garbage"), None);
        assert_eq!(encode_component("summer sale&co"), "summer%20sale%26co");
        assert_eq!(decode_component("a+b%26c%zz"), "a b&c%zz");
        assert_eq!(decode_component("%E4%BD%A0"), "你");
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%é%"), "%é%");
    }

    #[test]
    fn request_urls_split_without_a_parser() {
        let u = RequestUrl::split("https://Go.Example.com:8443/abc?utm=1&x=%20#frag");
        assert_eq!(u.authority, "Go.Example.com:8443");
        assert_eq!(u.path, "/abc");
        assert_eq!(u.query, "utm=1&x=%20");
        let u = RequestUrl::split("http://localhost:8787/");
        assert_eq!((u.authority, u.path, u.query), ("localhost:8787", "/", ""));
        let u = RequestUrl::split("http://h.example?q=1");
        assert_eq!((u.authority, u.path, u.query), ("h.example", "/", "q=1"));
        let u = RequestUrl::split("http://h.example/a/b#x?y");
        assert_eq!((u.path, u.query), ("/a/b", ""));
        let u = RequestUrl::split("http://[::1]:8787/s?");
        assert_eq!((u.authority, u.path, u.query), ("[::1]:8787", "/s", ""));
    }
}
