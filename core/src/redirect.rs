//! The redirect decision: which page or target a visit gets. Pure, so the
//! whole rule set unit-tests natively; the worker only gathers the inputs.
//!
//! The gates run in Dub's order, as data: the first gate that answers wins.

use crate::link::RedirectRecord;
use crate::secrets::verify_password;
use crate::ua::{Device, Os, UserAgent};
use crate::url::append_query;

/// What the worker knows about one visit.
#[derive(Debug, Clone, Copy)]
pub struct Visit<'a> {
    pub ua: UserAgent,
    /// `cf.country`, upper-case ISO code.
    pub country: Option<&'a str>,
    /// A password submitted through the form (POST).
    pub password: Option<&'a str>,
    /// The short URL's own query (forwarded to the target, as Bitly does),
    /// already stripped of our `qr` marker.
    pub query: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// 451: an operator banned the link.
    Banned,
    /// 410: the owner suspended it ("link disabled").
    Suspended,
    /// 410: past `expiresAt`.
    Expired,
    /// 410: `clickLimit` reached.
    LimitReached,
    /// 200 form (401-style): a password is needed; `wrong` after a bad guess.
    PasswordRequired { wrong: bool },
    /// 200 page: WeChat's in-app browser, asked to open in the system browser.
    OpenInBrowser,
    /// 403 page: a bot on a link with advanced bot detection.
    BotBlocked,
    /// 302 to `location`.
    Redirect { location: String },
}

impl Decision {
    pub fn status(&self) -> u16 {
        match self {
            Decision::Banned => 451,
            Decision::Suspended | Decision::Expired | Decision::LimitReached => 410,
            Decision::PasswordRequired { wrong: false } => 200,
            Decision::PasswordRequired { wrong: true } => 401,
            Decision::OpenInBrowser => 200,
            Decision::BotBlocked => 403,
            Decision::Redirect { .. } => 302,
        }
    }
}

type Gate = fn(&RedirectRecord, &Visit, i64) -> Option<Decision>;

/// The gates, in order.
pub const GATES: &[(&str, Gate)] = &[
    ("banned", |r, _, _| r.banned.then_some(Decision::Banned)),
    ("suspended", |r, _, _| {
        r.suspended.then_some(Decision::Suspended)
    }),
    ("expired", |r, _, now| {
        r.expires_at
            .is_some_and(|e| now >= e)
            .then_some(Decision::Expired)
    }),
    ("click limit", |r, _, _| {
        r.limit_reached.then_some(Decision::LimitReached)
    }),
    ("password", |r, v, _| {
        let hash = r.password_hash.as_deref()?;
        match v.password {
            Some(p) if verify_password(p, hash) => None,
            Some(_) => Some(Decision::PasswordRequired { wrong: true }),
            None => Some(Decision::PasswordRequired { wrong: false }),
        }
    }),
    ("wechat", |r, v, _| {
        (r.escape_from_wechat && v.ua.is_wechat).then_some(Decision::OpenInBrowser)
    }),
    ("bot", |r, v, _| {
        (r.advanced_bot_detection && v.ua.is_bot).then_some(Decision::BotBlocked)
    }),
];

pub fn decide(rec: &RedirectRecord, visit: &Visit, now: i64) -> Decision {
    for (_, gate) in GATES {
        if let Some(d) = gate(rec, visit, now) {
            return d;
        }
    }
    Decision::Redirect {
        location: target(rec, visit),
    }
}

/// App URL by OS, then country, then device, then the destination; then
/// the UTM parameters and the visitor's own query.
pub fn target(rec: &RedirectRecord, visit: &Visit) -> String {
    let app = match visit.ua.os {
        Os::Ios => rec.ios_url.as_deref(),
        Os::Android => rec.android_url.as_deref(),
        _ => None,
    };
    let base = app
        .or_else(|| {
            visit
                .country
                .and_then(|c| rec.geo_targets.get(c))
                .map(String::as_str)
        })
        .or_else(|| {
            rec.device_targets
                .get(device_key(visit.ua.device))
                .map(String::as_str)
        })
        .unwrap_or(&rec.destination_url);
    let with_utm = append_query(base, &rec.utm_query);
    append_query(&with_utm, visit.query)
}

fn device_key(d: Device) -> &'static str {
    d.as_str()
}

/// Splits our QR-scan marker (`qr`) off the short URL's query: returns
/// (was it a QR scan, the rest of the query to forward).
pub fn split_qr_marker(query: &str) -> (bool, String) {
    let mut qr = false;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let is_marker = *p == "qr" || p.starts_with("qr=");
            qr |= is_marker;
            !is_marker
        })
        .collect();
    (qr, rest.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::hash_password;
    use crate::ua;
    use std::collections::BTreeMap;

    const NOW: i64 = 1_750_000_000_000;
    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
    const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
    const DESKTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
    const WECHAT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN";
    const BOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

    fn rec() -> RedirectRecord {
        RedirectRecord {
            version: 1,
            link_id: "lnk_1".into(),
            workspace_id: "ws_1".into(),
            destination_url: "https://example.com/default".into(),
            ..Default::default()
        }
    }

    fn visit<'a>(ua_str: &str, country: Option<&'a str>) -> Visit<'a> {
        Visit {
            ua: ua::parse(ua_str),
            country,
            password: None,
            query: "",
        }
    }

    fn loc(d: Decision) -> String {
        match d {
            Decision::Redirect { location } => location,
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    #[test]
    fn plain_redirect() {
        assert_eq!(
            loc(decide(&rec(), &visit(DESKTOP, Some("US")), NOW)),
            "https://example.com/default"
        );
    }

    #[test]
    fn gates_in_order() {
        let mut r = rec();
        r.banned = true;
        r.suspended = true;
        r.expires_at = Some(NOW - 1);
        r.limit_reached = true;
        r.password_hash = Some(hash_password("pw", &[1; 16]));
        r.escape_from_wechat = true;
        r.advanced_bot_detection = true;
        let v = visit(BOT, None);
        let mut seen = vec![];
        for expected in [
            Decision::Banned,
            Decision::Suspended,
            Decision::Expired,
            Decision::LimitReached,
            Decision::PasswordRequired { wrong: false },
        ] {
            let d = decide(&r, &v, NOW);
            assert_eq!(d, expected);
            seen.push(d.status());
            match expected {
                Decision::Banned => r.banned = false,
                Decision::Suspended => r.suspended = false,
                Decision::Expired => r.expires_at = Some(NOW + 1),
                Decision::LimitReached => r.limit_reached = false,
                _ => r.password_hash = None,
            }
        }
        assert_eq!(seen, vec![451, 410, 410, 410, 200]);
        assert_eq!(
            decide(&r, &visit(WECHAT, None), NOW),
            Decision::OpenInBrowser
        );
        assert_eq!(decide(&r, &v, NOW), Decision::BotBlocked);
        r.advanced_bot_detection = false;
        assert!(matches!(decide(&r, &v, NOW), Decision::Redirect { .. }));
    }

    #[test]
    fn expiry_is_inclusive_and_future_is_fine() {
        let mut r = rec();
        r.expires_at = Some(NOW);
        assert_eq!(decide(&r, &visit(DESKTOP, None), NOW), Decision::Expired);
        r.expires_at = Some(NOW + 1);
        assert!(matches!(
            decide(&r, &visit(DESKTOP, None), NOW),
            Decision::Redirect { .. }
        ));
    }

    #[test]
    fn password_form_then_redirect() {
        let mut r = rec();
        r.password_hash = Some(hash_password("secure123", &[9; 16]));
        let mut v = visit(DESKTOP, None);
        assert_eq!(
            decide(&r, &v, NOW),
            Decision::PasswordRequired { wrong: false }
        );
        v.password = Some("nope");
        assert_eq!(
            decide(&r, &v, NOW),
            Decision::PasswordRequired { wrong: true }
        );
        assert_eq!(decide(&r, &v, NOW).status(), 401);
        v.password = Some("secure123");
        assert_eq!(loc(decide(&r, &v, NOW)), "https://example.com/default");
    }

    #[test]
    fn wechat_and_bots_pass_when_the_link_allows() {
        let r = rec();
        assert!(matches!(
            decide(&r, &visit(WECHAT, None), NOW),
            Decision::Redirect { .. }
        ));
        assert!(matches!(
            decide(&r, &visit(BOT, None), NOW),
            Decision::Redirect { .. }
        ));
    }

    #[test]
    fn targeting_precedence() {
        let mut r = rec();
        r.ios_url = Some("https://apps.apple.com/app/myapp".into());
        r.android_url = Some("https://play.google.com/store/apps/details?id=com.myapp".into());
        r.geo_targets = BTreeMap::from([("DE".into(), "https://example.com/de".into())]);
        r.device_targets = BTreeMap::from([
            ("mobile".into(), "https://m.example.com".into()),
            ("tablet".into(), "https://t.example.com".into()),
            ("desktop".into(), "https://d.example.com".into()),
        ]);
        assert_eq!(
            loc(decide(&r, &visit(IPHONE, Some("DE")), NOW)),
            "https://apps.apple.com/app/myapp"
        );
        assert_eq!(
            loc(decide(&r, &visit(ANDROID, Some("DE")), NOW)),
            "https://play.google.com/store/apps/details?id=com.myapp"
        );
        assert_eq!(
            loc(decide(&r, &visit(DESKTOP, Some("DE")), NOW)),
            "https://example.com/de"
        );
        assert_eq!(
            loc(decide(&r, &visit(DESKTOP, Some("US")), NOW)),
            "https://d.example.com"
        );
        r.ios_url = None;
        r.android_url = None;
        assert_eq!(
            loc(decide(&r, &visit(IPAD, Some("US")), NOW)),
            "https://t.example.com"
        );
        assert_eq!(
            loc(decide(&r, &visit(TABLET, None), NOW)),
            "https://t.example.com"
        );
        assert_eq!(
            loc(decide(&r, &visit(IPHONE, None), NOW)),
            "https://m.example.com"
        );
        r.device_targets.clear();
        assert_eq!(
            loc(decide(&r, &visit(IPHONE, Some("FR")), NOW)),
            "https://example.com/default"
        );
    }

    #[test]
    fn utm_and_visitor_query_are_appended_keeping_the_fragment() {
        let mut r = rec();
        r.destination_url = "https://example.com/product?ref=x#buy".into();
        r.utm_query = "utm_source=email&utm_medium=newsletter".into();
        let mut v = visit(DESKTOP, None);
        v.query = "fbclid=123";
        assert_eq!(
            loc(decide(&r, &v, NOW)),
            "https://example.com/product?ref=x&utm_source=email&utm_medium=newsletter&fbclid=123#buy"
        );
    }

    #[test]
    fn qr_marker_is_split_off() {
        assert_eq!(split_qr_marker("qr=1"), (true, String::new()));
        assert_eq!(split_qr_marker("a=1&qr&b=2"), (true, "a=1&b=2".into()));
        assert_eq!(split_qr_marker("a=1&qrx=2"), (false, "a=1&qrx=2".into()));
        assert_eq!(split_qr_marker(""), (false, String::new()));
    }
}
