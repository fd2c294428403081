//! The redirect decision: which page or target a visit gets. Pure, so the
//! whole rule set unit-tests natively; the worker only gathers the inputs.
//!
//! The gates run in Dub's order, as data: the first gate that answers wins.

use crate::link::{RedirectRecord, Variant};
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
    /// The daily visitor hash: picks the A/B variant.
    pub visitor: &'a str,
    /// A link-preview crawler ([`crate::ua::is_link_preview`]); the worker
    /// only asks when the link has a preview card.
    pub link_preview: bool,
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
    /// 200 page: the link's social card, for a link-preview crawler.
    Preview,
    /// 302 to `location`; `variant` is the A/B variant's index when one
    /// chose the target.
    Redirect {
        location: String,
        variant: Option<u8>,
    },
}

impl Decision {
    pub fn status(&self) -> u16 {
        match self {
            Decision::Banned => 451,
            Decision::Suspended | Decision::Expired | Decision::LimitReached => 410,
            Decision::PasswordRequired { wrong: false } => 200,
            Decision::PasswordRequired { wrong: true } => 401,
            Decision::OpenInBrowser | Decision::Preview => 200,
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
    // After every gate that hides the link (banned, suspended, expired,
    // limit, password), before the bot gate: an unfurler is a bot, and the
    // card is what a link with `advancedBotDetection` shows it.
    ("preview", |r, v, _| {
        (r.preview.is_some() && v.link_preview).then_some(Decision::Preview)
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
    let (location, variant) = target(rec, visit);
    Decision::Redirect { location, variant }
}

/// App URL by OS, then country, then device, then the A/B variant, then
/// the destination; then the UTM parameters and the visitor's own query.
/// The variant's index comes back when it chose the target.
pub fn target(rec: &RedirectRecord, visit: &Visit) -> (String, Option<u8>) {
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
        });
    let (base, variant) = match base {
        Some(b) => (b, None),
        None if rec.test_variants.is_empty() => (rec.destination_url.as_str(), None),
        None => {
            let i = pick_variant(&rec.test_variants, &rec.link_id, visit.visitor);
            (rec.test_variants[i].url.as_str(), Some(i as u8))
        }
    };
    let with_utm = append_query(base, &rec.utm_query);
    (append_query(&with_utm, visit.query), variant)
}

/// The variant a visitor gets: a stable hash of (link, daily visitor hash)
/// into 0..100, laid over the weights in order. Same visitor and day, same
/// variant; over many visitors, the weights' split. The link id is mixed
/// in so one visitor is not in the same slice of every test.
pub fn pick_variant(variants: &[Variant], link_id: &str, visitor: &str) -> usize {
    // FNV-1a, then a splitmix64 finaliser so near-identical inputs spread.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in link_id.bytes().chain([0]).chain(visitor.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    let slot = (h % 100) as u32;
    let mut acc = 0u32;
    for (i, v) in variants.iter().enumerate() {
        acc += v.weight as u32;
        if slot < acc {
            return i;
        }
    }
    variants.len().saturating_sub(1)
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
            visitor: "v1",
            link_preview: false,
        }
    }

    fn loc(d: Decision) -> String {
        match d {
            Decision::Redirect { location, .. } => location,
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

    fn ab(weights: &[u8]) -> Vec<Variant> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| Variant {
                url: format!("https://example.com/v{i}"),
                weight: *w,
            })
            .collect()
    }

    #[test]
    fn variants_split_by_weight_within_two_points() {
        for weights in [&[50, 50][..], &[70, 30], &[10, 20, 30, 40], &[1, 99]] {
            let v = ab(weights);
            let mut counts = vec![0u32; v.len()];
            const N: u32 = 100_000;
            for i in 0..N {
                // Visitor hashes look like base62 digests; any distinct
                // strings must spread.
                counts[pick_variant(&v, "lnk_test", &format!("visitor-{i}"))] += 1;
            }
            for (c, w) in counts.iter().zip(weights) {
                let pct = *c as f64 * 100.0 / N as f64;
                assert!((pct - *w as f64).abs() <= 2.0, "{weights:?}: {counts:?}");
            }
        }
    }

    #[test]
    fn a_visitor_keeps_their_variant() {
        let v = ab(&[25, 25, 25, 25]);
        for i in 0..100 {
            let who = format!("vis{i}");
            let first = pick_variant(&v, "lnk_x", &who);
            assert!((0..10).all(|_| pick_variant(&v, "lnk_x", &who) == first));
        }
    }

    #[test]
    fn variant_precedence_and_query() {
        let mut r = rec();
        r.test_variants = ab(&[50, 50]);
        r.utm_query = "utm_source=ab".into();
        let mut v = visit(DESKTOP, Some("US"));
        v.query = "x=1";
        let want = pick_variant(&r.test_variants, "lnk_1", "v1");
        assert_eq!(
            decide(&r, &v, NOW),
            Decision::Redirect {
                location: format!("https://example.com/v{want}?utm_source=ab&x=1"),
                variant: Some(want as u8),
            }
        );
        // Geo, device and app targets win when they match; no variant then.
        r.geo_targets = BTreeMap::from([("DE".into(), "https://example.com/de".into())]);
        r.ios_url = Some("https://apps.apple.com/app/x".into());
        assert_eq!(
            decide(&r, &visit(DESKTOP, Some("DE")), NOW),
            Decision::Redirect {
                location: "https://example.com/de?utm_source=ab".into(),
                variant: None,
            }
        );
        assert!(matches!(
            decide(&r, &visit(IPHONE, Some("US")), NOW),
            Decision::Redirect { variant: None, .. }
        ));
        r.device_targets = BTreeMap::from([("mobile".into(), "https://m.example.com".into())]);
        assert!(matches!(
            decide(&r, &visit(ANDROID, None), NOW),
            Decision::Redirect { variant: None, .. }
        ));
    }

    #[test]
    fn preview_only_for_unfurlers_and_never_past_a_hiding_gate() {
        let mut r = rec();
        r.preview = Some(crate::link::Preview {
            title: "T".into(),
            description: None,
            image: None,
        });
        r.advanced_bot_detection = true;
        let mut v = visit(BOT, None);
        v.link_preview = true;
        assert_eq!(decide(&r, &v, NOW), Decision::Preview);
        assert_eq!(Decision::Preview.status(), 200);
        // Other bots are still blocked; people still redirect.
        assert_eq!(decide(&r, &visit(BOT, None), NOW), Decision::BotBlocked);
        r.advanced_bot_detection = false;
        assert!(matches!(
            decide(&r, &visit(DESKTOP, None), NOW),
            Decision::Redirect { .. }
        ));
        r.password_hash = Some(hash_password("pw", &[1; 16]));
        assert_eq!(
            decide(&r, &v, NOW),
            Decision::PasswordRequired { wrong: false }
        );
        r.password_hash = None;
        r.suspended = true;
        assert_eq!(decide(&r, &v, NOW), Decision::Suspended);
        r.banned = true;
        assert_eq!(decide(&r, &v, NOW), Decision::Banned);
        // Without a card: the redirect as before.
        let mut r = rec();
        r.preview = None;
        assert!(matches!(decide(&r, &v, NOW), Decision::Redirect { .. }));
    }

    #[test]
    fn qr_marker_is_split_off() {
        assert_eq!(split_qr_marker("qr=1"), (true, String::new()));
        assert_eq!(split_qr_marker("a=1&qr&b=2"), (true, "a=1&b=2".into()));
        assert_eq!(split_qr_marker("a=1&qrx=2"), (false, "a=1&qrx=2".into()));
        assert_eq!(split_qr_marker(""), (false, String::new()));
    }
}
