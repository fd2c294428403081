//! Native cost of the redirect decision (`cargo bench -p edgelink-core --bench decide`).
//!
//! What the worker runs per redirect once it has the record: `ua::parse`
//! of the User-Agent, then `redirect::decide` (gates, targeting, UTM). Two
//! realistic records (plain; geo + device + iOS/Android targets + UTM) and
//! four real UAs. `record/from_json` is the record decode the cold path adds
//! (the KV value is JSON; the hot-link cache skips it).
//!
//! Groups:
//! - `ua_parse/<ua>`: `ua::parse` alone;
//! - `decide/<record>/<ua>`: `decide` on an already parsed UA;
//! - `redirect/<record>/<ua>`: `ua::parse` + `decide`, i.e. ns per redirect;
//! - `record/from_json/<record>`: `RedirectRecord::from_json`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use edgelink_core::link::RedirectRecord;
use edgelink_core::redirect::{decide, Decision, Visit};
use edgelink_core::ua;

/// 2025-06-15, a fixed clock so expiry gates behave the same every run.
const NOW: i64 = 1_750_000_000_000;

/// (name, User-Agent, cf.country)
const UAS: &[(&str, &str, &str)] = &[
    (
        "desktop_chrome",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "DE",
    ),
    (
        "iphone_safari",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "US",
    ),
    (
        "android_chrome",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
        "BR",
    ),
    (
        "googlebot",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "US",
    ),
];

fn plain() -> RedirectRecord {
    RedirectRecord {
        version: 1,
        link_id: "lnk_7Hq2mXcR4pLw9sTb".into(),
        workspace_id: "ws_3kVd8NfQ1zYa".into(),
        destination_url: "https://example.com/blog/2025/edge-redirects-explained".into(),
        ..Default::default()
    }
}

/// A plain link running a three-way A/B test (every visit hashes).
fn ab() -> RedirectRecord {
    let v = |url: &str, weight: u8| edgelink_core::link::Variant {
        url: url.into(),
        weight,
    };
    RedirectRecord {
        test_variants: vec![
            v("https://example.com/landing/a", 50),
            v("https://example.com/landing/b", 30),
            v("https://example.com/landing/c", 20),
        ],
        ..plain()
    }
}

fn targeted() -> RedirectRecord {
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    RedirectRecord {
        version: 1,
        link_id: "lnk_Zp4wQ8rT2yVn6mKc".into(),
        workspace_id: "ws_3kVd8NfQ1zYa".into(),
        destination_url: "https://example.com/landing/spring-sale".into(),
        ios_url: Some("https://apps.apple.com/app/example/id1234567890".into()),
        android_url: Some("https://play.google.com/store/apps/details?id=com.example.app".into()),
        geo_targets: BTreeMap::from([
            s("DE", "https://example.de/fruehlingsangebot"),
            s("FR", "https://example.fr/soldes-printemps"),
            s("GB", "https://example.co.uk/spring-sale"),
            s("JP", "https://example.jp/spring"),
        ]),
        device_targets: BTreeMap::from([
            s("mobile", "https://m.example.com/spring-sale"),
            s("tablet", "https://example.com/tablet/spring-sale"),
        ]),
        utm_query: "utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale".into(),
        expires_at: Some(NOW + 30 * 86_400_000),
        click_limit: Some(1_000_000),
        ..Default::default()
    }
}

fn visit<'a>(ua_str: &str, country: &'a str) -> Visit<'a> {
    Visit {
        ua: ua::parse(ua_str),
        country: Some(country),
        password: None,
        query: "",
        visitor: "bench-visitor",
        link_preview: false,
    }
}

fn bench(c: &mut Criterion) {
    let records = [("plain", plain()), ("targeted", targeted()), ("ab", ab())];

    // Every case must be a real redirect, not a gate page.
    for (rname, rec) in &records {
        for (uname, ua_str, country) in UAS {
            match decide(rec, &visit(ua_str, country), NOW) {
                Decision::Redirect { location, .. } => {
                    assert!(
                        location.starts_with("https://"),
                        "{rname}/{uname}: {location}"
                    )
                }
                other => panic!("{rname}/{uname}: expected a redirect, got {other:?}"),
            }
        }
    }

    for (uname, ua_str, _) in UAS {
        c.bench_function(&format!("ua_parse/{uname}"), |b| {
            b.iter(|| ua::parse(black_box(ua_str)))
        });
    }

    for (rname, rec) in &records {
        for (uname, ua_str, country) in UAS {
            let v = visit(ua_str, country);
            c.bench_function(&format!("decide/{rname}/{uname}"), |b| {
                b.iter(|| decide(black_box(rec), black_box(&v), black_box(NOW)))
            });
        }
    }

    for (rname, rec) in &records {
        for (uname, ua_str, country) in UAS {
            c.bench_function(&format!("redirect/{rname}/{uname}"), |b| {
                b.iter(|| {
                    let v = Visit {
                        ua: ua::parse(black_box(ua_str)),
                        country: Some(black_box(*country)),
                        password: None,
                        query: "",
                        visitor: "bench-visitor",
                        link_preview: false,
                    };
                    decide(black_box(rec), &v, black_box(NOW))
                })
            });
        }
    }

    for (rname, rec) in &records {
        let json = rec.to_json_string();
        c.bench_function(&format!("record/from_json/{rname}"), |b| {
            b.iter(|| RedirectRecord::from_json(black_box(&json)))
        });
    }
}

fn config() -> Criterion {
    // Short runs: these are ns-scale functions (millions of iterations per
    // sample), and `npm run bench` has a time budget.
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1000))
        .sample_size(50)
        .nresamples(20_000)
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench
}
criterion_main!(benches);
