//! Click analytics, the pure part: decoding queue messages, the stats
//! window (`period` / `from` / `to` / `interval`, with `now` passed in),
//! bucket math, turning rollup rows into the API's JSON, and CSV rows.
//!
//! Storage model (see `schema.sql` and `src/analytics.rs`): rollups per link
//! per hour and per UTC day per dimension value. A window is answered from
//! whole days of the day table plus the ragged hours at both ends from the
//! hour table, so a link with a million clicks costs one query over a few
//! thousand rollup rows.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::events::{ClickEvent, QueueMessage};
use crate::time::{format_rfc3339, parse_rfc3339, DAY_MS, HOUR_MS};

/// Longest window hourly buckets may cover (744 buckets).
pub const MAX_HOURLY_WINDOW_MS: i64 = 31 * DAY_MS;
/// Longest window at all (about ten years of day buckets).
pub const MAX_WINDOW_MS: i64 = 3660 * DAY_MS;
/// Windows up to this long get hourly buckets unless `interval` says otherwise.
pub const AUTO_HOURLY_UP_TO_MS: i64 = 2 * DAY_MS;
/// `from` alone (no `to`) or `to` alone: the other end is this far away.
pub const DEFAULT_SPAN_MS: i64 = 30 * DAY_MS;

pub const DEFAULT_RETENTION_DAYS: i64 = 90;
/// Raw rows are the idempotency keys. Cloudflare Queues keep a message at
/// most 14 days, so a shorter retention could let a redelivery count twice.
pub const MIN_RETENTION_DAYS: i64 = 14;
pub const MAX_RETENTION_DAYS: i64 = 3650;

/// `CLICK_RETENTION_DAYS` → days (default 90, clamped to 14..=3650).
pub fn retention_days(raw: Option<&str>) -> i64 {
    raw.and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_RETENTION_DAYS)
        .clamp(MIN_RETENTION_DAYS, MAX_RETENTION_DAYS)
}

pub fn floor_to(t: i64, step: i64) -> i64 {
    t - t.rem_euclid(step)
}

pub fn ceil_to(t: i64, step: i64) -> i64 {
    let f = floor_to(t, step);
    if f == t {
        t
    } else {
        f + step
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Hour,
    Day,
}

impl Interval {
    pub fn parse(s: &str) -> Option<Interval> {
        match s {
            "hour" | "hourly" | "1h" => Some(Interval::Hour),
            "day" | "daily" | "1d" => Some(Interval::Day),
            _ => None,
        }
    }

    pub fn ms(self) -> i64 {
        match self {
            Interval::Hour => HOUR_MS,
            Interval::Day => DAY_MS,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Hour => "hour",
            Interval::Day => "day",
        }
    }
}

/// `period=` presets; `None` is `all`.
pub fn period_ms(s: &str) -> Option<Option<i64>> {
    match s {
        "24h" | "1d" => Some(Some(DAY_MS)),
        "7d" => Some(Some(7 * DAY_MS)),
        "30d" => Some(Some(30 * DAY_MS)),
        "90d" => Some(Some(90 * DAY_MS)),
        "all" => Some(None),
        _ => None,
    }
}

fn nonempty(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// The raw query parameters of a stats or export request.
#[derive(Debug, Default, Clone, Copy)]
pub struct WindowParams<'a> {
    pub period: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub interval: Option<&'a str>,
}

/// A validated window: `[from, to)` in ms, both on whole hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
    pub interval: Interval,
}

/// How a window maps onto the two rollup tables: whole UTC days
/// `[day_from, day_to)` from the day table, the hours `[from, day_from)`
/// and `[day_to, to)` from the hour table. Without whole days (or with
/// hour buckets) `day_from == day_to == from`: every hour comes from the
/// hour table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub from: i64,
    pub to: i64,
    pub day_from: i64,
    pub day_to: i64,
}

impl Window {
    /// Rules (all times UTC):
    /// - nothing given: `period=all`.
    /// - `period` (24h, 7d, 30d, 90d, all): the window ends at the end of the
    ///   current hour and spans the period; `all` starts at the hour of
    ///   `origin` (the link's or workspace's creation).
    /// - `from` / `to` (ISO 8601; a date alone is midnight UTC): `from`
    ///   inclusive, `to` exclusive, rounded outwards to whole hours. `to`
    ///   defaults to the end of the current hour, `from` to `to` − 30 days.
    /// - `interval` (hour, day): defaults to hour for windows up to 48 h,
    ///   day beyond; hour buckets allow windows up to 31 days.
    pub fn parse(p: &WindowParams, now: i64, origin: i64) -> ApiResult<Window> {
        let (period, from, to) = (nonempty(p.period), nonempty(p.from), nonempty(p.to));
        let end_of_hour = floor_to(now, HOUR_MS) + HOUR_MS;
        let (from, to) = match period {
            Some(_) if from.is_some() || to.is_some() => {
                return Err(ApiError::validation(
                    "period",
                    "give either period or from/to, not both",
                ))
            }
            Some(name) => match period_ms(name) {
                Some(Some(span)) => (end_of_hour - span, end_of_hour),
                Some(None) => (floor_to(origin.min(now), HOUR_MS), end_of_hour),
                None => {
                    return Err(ApiError::validation(
                        "period",
                        "must be one of 24h, 7d, 30d, 90d, all",
                    ))
                }
            },
            None if from.is_none() && to.is_none() => {
                (floor_to(origin.min(now), HOUR_MS), end_of_hour)
            }
            None => {
                let time = |name: &str, v: &str| {
                    parse_rfc3339(v).ok_or_else(|| {
                        ApiError::validation(
                            name,
                            "must be an ISO 8601 date or date-time, e.g. 2025-01-31T00:00:00Z",
                        )
                    })
                };
                let to = match to {
                    Some(t) => ceil_to(time("to", t)?, HOUR_MS),
                    None => end_of_hour,
                };
                let from = match from {
                    Some(f) => floor_to(time("from", f)?, HOUR_MS),
                    None => to - DEFAULT_SPAN_MS,
                };
                if to <= from {
                    return Err(ApiError::validation("to", "must be after from"));
                }
                if to - from > MAX_WINDOW_MS {
                    return Err(ApiError::validation(
                        "from",
                        "the window may span at most 3660 days",
                    ));
                }
                (from, to)
            }
        };
        // `all` for something very old: keep the bucket count bounded.
        let from = from.max(to - MAX_WINDOW_MS);
        let interval = match nonempty(p.interval) {
            None => {
                if to - from <= AUTO_HOURLY_UP_TO_MS {
                    Interval::Hour
                } else {
                    Interval::Day
                }
            }
            Some(s) => Interval::parse(s)
                .ok_or_else(|| ApiError::validation("interval", "must be hour or day"))?,
        };
        if interval == Interval::Hour && to - from > MAX_HOURLY_WINDOW_MS {
            return Err(ApiError::validation(
                "interval",
                "hour buckets allow a window of at most 31 days; use interval=day",
            ));
        }
        Ok(Window { from, to, interval })
    }

    pub fn split(&self) -> Split {
        let (day_from, day_to) = match self.interval {
            // Hour buckets cannot be cut out of day rows: all from hours.
            Interval::Hour => (self.from, self.from),
            Interval::Day => {
                let a = ceil_to(self.from, DAY_MS);
                let b = floor_to(self.to, DAY_MS);
                if a < b {
                    (a, b)
                } else {
                    (self.from, self.from)
                }
            }
        };
        Split {
            from: self.from,
            to: self.to,
            day_from,
            day_to,
        }
    }

    /// Start of every bucket overlapping the window, in time order.
    pub fn buckets(&self) -> Vec<i64> {
        let step = self.interval.ms();
        let mut t = floor_to(self.from, step);
        let mut out = Vec::new();
        while t < self.to {
            out.push(t);
            t += step;
        }
        out
    }

    pub fn to_json(&self) -> Value {
        json!({
            "from": format_rfc3339(self.from),
            "to": format_rfc3339(self.to),
            "interval": self.interval.as_str(),
        })
    }
}

/// One row of the stats query: a dimension value's clicks in the window,
/// or (for `total` and only there) one bucket's clicks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RollupRow {
    pub dim: String,
    pub value: String,
    pub bucket: i64,
    pub clicks: i64,
}

/// (rollup dim, response field, item key, label of the empty value)
pub const BREAKDOWNS: &[(&str, &str, &str, &str)] = &[
    ("country", "byCountry", "country", "unknown"),
    ("device", "byDevice", "device", "unknown"),
    ("browser", "byBrowser", "browser", "unknown"),
    ("os", "byOs", "os", "unknown"),
    ("referrer", "byReferrer", "referrer", "direct"),
    ("source", "bySource", "source", "link"),
    // A/B tests: the variant's letter (A = the first of `testVariants`);
    // only clicks a variant chose are counted here.
    ("variant", "byVariant", "variant", "none"),
];

/// The label of an A/B variant index in stats and CSV: A, B, C, D.
pub fn variant_label(i: u8) -> String {
    char::from(b'A' + i.min(25)).to_string()
}

/// `[{key: label, "clicks": n}]`, most clicks first, then by label.
fn ranked(mut items: Vec<(String, i64)>, key: &str, limit: usize) -> Value {
    items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Value::Array(
        items
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .take(limit)
            .map(|(label, n)| json!({ key: label, "clicks": n }))
            .collect(),
    )
}

/// `[{"date": bucket start, "clicks": n}]` over every bucket of the window.
fn over_time(w: &Window, totals: &[(i64, i64)]) -> Value {
    let mut by_bucket = std::collections::HashMap::new();
    for (b, n) in totals {
        *by_bucket
            .entry(floor_to(*b, w.interval.ms()))
            .or_insert(0i64) += n;
    }
    Value::Array(
        w.buckets()
            .into_iter()
            .map(|b| {
                json!({
                    "date": format_rfc3339(b),
                    "clicks": by_bucket.get(&b).copied().unwrap_or(0),
                })
            })
            .collect(),
    )
}

/// The clicks of `dim` per label (the empty value as `empty`), summed.
fn labelled(rows: &[RollupRow], dim: &str, empty: &str) -> Vec<(String, i64)> {
    let mut items: Vec<(String, i64)> = Vec::new();
    for r in rows.iter().filter(|r| r.dim == dim) {
        let label = if r.value.is_empty() {
            empty.to_string()
        } else {
            r.value.clone()
        };
        match items.iter_mut().find(|(l, _)| *l == label) {
            Some(item) => item.1 += r.clicks,
            None => items.push((label, r.clicks)),
        }
    }
    items
}

/// What the link and workspace stats share, from the rollup rows of one
/// link or summed over a workspace's links: `period`, `totalClicks`,
/// `uniqueVisitors` (the daily first visits of each link, summed), the
/// `by*` breakdowns of [`BREAKDOWNS`] and `overTime`.
fn rollup_json(w: &Window, rows: &[RollupRow]) -> Value {
    let sum = |dim: &str| -> i64 { rows.iter().filter(|r| r.dim == dim).map(|r| r.clicks).sum() };
    let totals: Vec<(i64, i64)> = rows
        .iter()
        .filter(|r| r.dim == "total")
        .map(|r| (r.bucket, r.clicks))
        .collect();
    let mut out = json!({
        "period": w.to_json(),
        "totalClicks": sum("total"),
        "uniqueVisitors": sum("visitors"),
    });
    for (dim, field, key, empty) in BREAKDOWNS {
        out[*field] = ranked(labelled(rows, dim, empty), key, usize::MAX);
    }
    out["overTime"] = over_time(w, &totals);
    out
}

/// The body of `GET /api/v1/links/{id}/stats`.
pub fn link_stats_json(link_id: &str, w: &Window, rows: &[RollupRow]) -> Value {
    let mut out = rollup_json(w, rows);
    out["linkId"] = json!(link_id);
    out
}

/// The body of `GET /api/v1/stats`: the link stats' fields over the
/// workspace's rollup rows, plus `topLinks` (already rendered) and
/// `topCountries` (`byCountry`'s first `limit`).
pub fn summary_json(w: &Window, rows: &[RollupRow], top_links: Vec<Value>, limit: usize) -> Value {
    let mut out = rollup_json(w, rows);
    out["topLinks"] = Value::Array(top_links);
    out["topCountries"] = ranked(labelled(rows, "country", "unknown"), "country", limit);
    out
}

// ---------------------------------------------------------------- consumer

/// Decodes one queue message body, given as JSON text. A producer that sent
/// the JSON as a string (text content type) is accepted too.
pub fn decode_queue_body(text: &str) -> Result<QueueMessage, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let v = match v {
        Value::String(s) => serde_json::from_str(&s).map_err(|e| format!("not JSON: {e}"))?,
        v => v,
    };
    serde_json::from_value(v).map_err(|e| format!("not a queue message: {e}"))
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn token(s: &str) -> String {
    let s = s.trim().to_ascii_lowercase();
    if s.is_empty() {
        "unknown".into()
    } else {
        clip(&s, 32)
    }
}

/// Checks and normalises a click before it is stored: an event without a
/// usable id, link or time is poison; free-form fields are bounded.
pub fn clean_click(mut c: ClickEvent) -> Result<ClickEvent, String> {
    let ok_id = |s: &str| !s.is_empty() && s.len() <= 128 && s.is_ascii();
    if !ok_id(&c.id) || !ok_id(&c.link_id) || !ok_id(&c.workspace_id) {
        return Err("missing or oversized id, link_id or workspace_id".into());
    }
    // 2001-09-09 .. 2286-11-20: anything else is not a time this code wrote.
    if !(1_000_000_000_000..10_000_000_000_000).contains(&c.ts) {
        return Err(format!("implausible ts {}", c.ts));
    }
    c.country = c
        .country
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    c.device = token(&c.device);
    c.os = token(&c.os);
    c.browser = token(&c.browser);
    c.referrer = c
        .referrer
        .map(|s| clip(s.trim().trim_end_matches('.'), 253).to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    c.visitor = clip(c.visitor.trim(), 128);
    c.variant = c
        .variant
        .filter(|v| (*v as usize) < crate::link::MAX_VARIANTS);
    Ok(c)
}

// --------------------------------------------------------------------- CSV

/// The export's columns. No IP: the redirect never sends one, and the
/// visitor column is the daily-rotating keyed hash.
pub const CSV_HEADER: &str =
    "id,timestamp,country,device,os,browser,referrer,source,visitor,variant\r\n";

/// One raw click as the export reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClickRow {
    pub id: String,
    pub ts: i64,
    pub country: String,
    pub device: String,
    pub os: String,
    pub browser: String,
    pub referrer: String,
    pub qr: i64,
    pub visitor: String,
    /// A/B variant index, when one chose the target.
    #[serde(default)]
    pub variant: Option<i64>,
}

/// RFC 4180 quoting, plus a leading `'` on values a spreadsheet would run
/// as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn csv_line(r: &ClickRow) -> String {
    let fields = [
        csv_field(&r.id),
        format_rfc3339(r.ts),
        csv_field(&r.country),
        csv_field(&r.device),
        csv_field(&r.os),
        csv_field(&r.browser),
        csv_field(&r.referrer),
        if r.qr != 0 { "qr" } else { "link" }.to_string(),
        csv_field(&r.visitor),
        r.variant
            .and_then(|v| u8::try_from(v).ok())
            .map(variant_label)
            .unwrap_or_default(),
    ];
    let mut line = fields.join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_735_727_400_000; // 2025-01-01T10:30:00Z

    fn t(s: &str) -> i64 {
        parse_rfc3339(s).unwrap()
    }

    fn win(p: WindowParams) -> ApiResult<Window> {
        Window::parse(&p, NOW, t("2024-12-01T08:15:00Z"))
    }

    fn field(e: ApiError) -> String {
        e.field().unwrap().to_string()
    }

    #[test]
    fn presets_end_at_the_end_of_the_current_hour() {
        let w = win(WindowParams {
            period: Some("24h"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(w.to, t("2025-01-01T11:00:00Z"));
        assert_eq!(w.from, t("2024-12-31T11:00:00Z"));
        assert_eq!(w.interval, Interval::Hour);
        assert_eq!(w.buckets().len(), 24);

        let w = win(WindowParams {
            period: Some("7d"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(w.interval, Interval::Day);
        assert_eq!(w.from, t("2024-12-25T11:00:00Z"));
        // First and last day buckets are partial: 8 of them.
        assert_eq!(w.buckets().len(), 8);
        assert_eq!(w.buckets()[0], t("2024-12-25"));

        for (p, days) in [("30d", 30), ("90d", 90)] {
            let w = win(WindowParams {
                period: Some(p),
                ..Default::default()
            })
            .unwrap();
            assert_eq!(w.to - w.from, days * DAY_MS);
        }
    }

    #[test]
    fn all_and_default_start_at_the_origin_hour() {
        let all = win(WindowParams {
            period: Some("all"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(all.from, t("2024-12-01T08:00:00Z"));
        assert_eq!(all.to, t("2025-01-01T11:00:00Z"));
        assert_eq!(all.interval, Interval::Day);
        assert_eq!(win(WindowParams::default()).unwrap(), all);
        // A link created this hour: hourly.
        let fresh = Window::parse(&WindowParams::default(), NOW, NOW - 60_000).unwrap();
        assert_eq!(fresh.interval, Interval::Hour);
        assert_eq!(fresh.buckets(), vec![t("2025-01-01T10:00:00Z")]);
    }

    #[test]
    fn from_to_round_outwards_to_hours() {
        let w = win(WindowParams {
            from: Some("2024-12-30T10:20:00Z"),
            to: Some("2024-12-31T10:20:00+01:00"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(w.from, t("2024-12-30T10:00:00Z"));
        assert_eq!(w.to, t("2024-12-31T10:00:00Z"));
        assert_eq!(w.interval, Interval::Hour);
        let w = win(WindowParams {
            from: Some("2024-12-01"),
            to: Some("2024-12-31"),
            interval: Some("day"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(w.buckets().len(), 30);
        // `from` alone runs to now; `to` alone starts 30 days earlier.
        let w = win(WindowParams {
            from: Some("2024-12-31"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(w.to, t("2025-01-01T11:00:00Z"));
        let w = win(WindowParams {
            to: Some("2024-12-31"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(w.from, t("2024-12-01"));
    }

    #[test]
    fn bad_parameters_name_their_field() {
        let cases: &[(WindowParams, &str)] = &[
            (
                WindowParams {
                    period: Some("week"),
                    ..Default::default()
                },
                "period",
            ),
            (
                WindowParams {
                    period: Some("7d"),
                    from: Some("2024-12-01"),
                    ..Default::default()
                },
                "period",
            ),
            (
                WindowParams {
                    from: Some("yesterday"),
                    ..Default::default()
                },
                "from",
            ),
            (
                WindowParams {
                    to: Some("2024-13-01"),
                    ..Default::default()
                },
                "to",
            ),
            (
                WindowParams {
                    from: Some("2024-12-02"),
                    to: Some("2024-12-01"),
                    ..Default::default()
                },
                "to",
            ),
            (
                WindowParams {
                    from: Some("1990-01-01"),
                    to: Some("2024-12-01"),
                    ..Default::default()
                },
                "from",
            ),
            (
                WindowParams {
                    interval: Some("minute"),
                    ..Default::default()
                },
                "interval",
            ),
            (
                WindowParams {
                    period: Some("90d"),
                    interval: Some("hour"),
                    ..Default::default()
                },
                "interval",
            ),
        ];
        for (p, f) in cases {
            let e = win(*p).unwrap_err();
            assert_eq!(e.code(), "VALIDATION_ERROR");
            assert_eq!(field(e), *f, "{p:?}");
        }
        // Empty values are absent values.
        assert!(win(WindowParams {
            period: Some(""),
            from: Some(""),
            to: Some(""),
            interval: Some("")
        })
        .is_ok());
    }

    #[test]
    fn split_uses_whole_days_and_hour_edges() {
        let w = Window {
            from: t("2024-12-30T10:00:00Z"),
            to: t("2025-01-02T05:00:00Z"),
            interval: Interval::Day,
        };
        let s = w.split();
        assert_eq!(s.day_from, t("2024-12-31"));
        assert_eq!(s.day_to, t("2025-01-02"));
        // Less than a whole day: hours only.
        let w = Window {
            from: t("2024-12-30T10:00:00Z"),
            to: t("2024-12-31T05:00:00Z"),
            interval: Interval::Day,
        };
        assert_eq!(w.split().day_from, w.split().day_to);
        // Hour buckets: hours only even over whole days.
        let w = Window {
            from: t("2024-12-30"),
            to: t("2025-01-02"),
            interval: Interval::Hour,
        };
        assert_eq!(w.split().day_from, w.split().day_to);
        assert_eq!(w.buckets().len(), 72);
    }

    fn row(dim: &str, value: &str, bucket: i64, clicks: i64) -> RollupRow {
        RollupRow {
            dim: dim.into(),
            value: value.into(),
            bucket,
            clicks,
        }
    }

    #[test]
    fn stats_shape() {
        let w = Window {
            from: t("2024-12-30T10:00:00Z"),
            to: t("2025-01-01T11:00:00Z"),
            interval: Interval::Day,
        };
        let rows = vec![
            row("total", "", t("2024-12-30"), 2),
            // An hour-edge row and a day row of the same day add up.
            row("total", "", t("2025-01-01T10:00:00Z"), 1),
            row("total", "", t("2025-01-01"), 2),
            row("country", "US", 0, 3),
            row("country", "", 0, 1),
            row("country", "DE", 0, 1),
            row("referrer", "", 0, 4),
            row("referrer", "news.ycombinator.com", 0, 1),
            row("source", "qr", 0, 1),
            row("source", "", 0, 4),
            row("device", "mobile", 0, 5),
            row("visitors", "", 0, 4),
            row("variant", "B", 0, 3),
            row("variant", "A", 0, 2),
        ];
        let v = link_stats_json("lnk_1", &w, &rows);
        assert_eq!(
            v["byVariant"],
            json!([{"variant":"B","clicks":3},{"variant":"A","clicks":2}])
        );
        assert_eq!(v["linkId"], "lnk_1");
        assert_eq!(v["totalClicks"], 5);
        assert_eq!(v["uniqueVisitors"], 4);
        assert_eq!(
            v["byCountry"],
            json!([{"country":"US","clicks":3},{"country":"DE","clicks":1},{"country":"unknown","clicks":1}])
        );
        assert_eq!(
            v["byReferrer"],
            json!([{"referrer":"direct","clicks":4},{"referrer":"news.ycombinator.com","clicks":1}])
        );
        assert_eq!(
            v["bySource"],
            json!([{"source":"link","clicks":4},{"source":"qr","clicks":1}])
        );
        assert_eq!(v["byBrowser"], json!([]));
        assert_eq!(
            v["overTime"],
            json!([
                {"date":"2024-12-30T00:00:00Z","clicks":2},
                {"date":"2024-12-31T00:00:00Z","clicks":0},
                {"date":"2025-01-01T00:00:00Z","clicks":3},
            ])
        );
        assert_eq!(
            v["period"],
            json!({"from":"2024-12-30T10:00:00Z","to":"2025-01-01T11:00:00Z","interval":"day"})
        );
    }

    #[test]
    fn summary_shape() {
        let w = Window {
            from: t("2025-01-01T08:00:00Z"),
            to: t("2025-01-01T11:00:00Z"),
            interval: Interval::Hour,
        };
        // Rows of two links of the workspace, summed by the query.
        let rows = vec![
            row("total", "", t("2025-01-01T09:00:00Z"), 7),
            row("country", "FR", 0, 2),
            row("country", "US", 0, 4),
            row("country", "", 0, 1),
            row("device", "mobile", 0, 3),
            row("device", "desktop", 0, 4),
            row("source", "qr", 0, 1),
            row("source", "", 0, 6),
            row("visitors", "", 0, 5),
        ];
        let v = summary_json(&w, &rows, vec![json!({"id": "lnk_1", "clicks": 7})], 2);
        assert_eq!(v["totalClicks"], 7);
        assert_eq!(v["uniqueVisitors"], 5);
        assert_eq!(
            v["topCountries"],
            json!([{"country":"US","clicks":4},{"country":"FR","clicks":2}])
        );
        assert_eq!(
            v["byCountry"],
            json!([{"country":"US","clicks":4},{"country":"FR","clicks":2},{"country":"unknown","clicks":1}])
        );
        assert_eq!(
            v["byDevice"],
            json!([{"device":"desktop","clicks":4},{"device":"mobile","clicks":3}])
        );
        assert_eq!(
            v["bySource"],
            json!([{"source":"link","clicks":6},{"source":"qr","clicks":1}])
        );
        assert_eq!(v["byBrowser"], json!([]));
        assert_eq!(v["byOs"], json!([]));
        assert_eq!(v["byReferrer"], json!([]));
        assert_eq!(v["overTime"].as_array().unwrap().len(), 3);
        assert_eq!(v["overTime"][1]["clicks"], 7);
        assert_eq!(v["topLinks"][0]["id"], "lnk_1");
        assert!(v.get("linkId").is_none());
        // The same rows make the same shared fields as a link's stats.
        let l = link_stats_json("lnk_1", &w, &rows);
        for k in [
            "period",
            "totalClicks",
            "uniqueVisitors",
            "byCountry",
            "byDevice",
            "byBrowser",
            "byOs",
            "byReferrer",
            "bySource",
            "overTime",
        ] {
            assert_eq!(v[k], l[k], "{k}");
        }
    }

    fn click() -> ClickEvent {
        ClickEvent {
            id: "evt_1".into(),
            link_id: "lnk_1".into(),
            workspace_id: "ws_1".into(),
            ts: NOW,
            country: Some("de".into()),
            device: "Mobile".into(),
            os: "ios".into(),
            browser: "".into(),
            referrer: Some("News.YCombinator.com.".into()),
            bot: false,
            visitor: "abc".into(),
            qr: false,
            webhook: false,
            scene: String::new(),
            variant: None,
        }
    }

    #[test]
    fn decodes_and_cleans_clicks() {
        let body = serde_json::to_string(&QueueMessage::Click(click())).unwrap();
        let QueueMessage::Click(c) = decode_queue_body(&body).unwrap();
        let c = clean_click(c).unwrap();
        assert_eq!(c.country.as_deref(), Some("DE"));
        assert_eq!(c.device, "mobile");
        assert_eq!(c.browser, "unknown");
        assert_eq!(c.referrer.as_deref(), Some("news.ycombinator.com"));
        // JSON sent as a string is accepted too.
        let quoted = serde_json::to_string(&body).unwrap();
        assert!(decode_queue_body(&quoted).is_ok());
    }

    #[test]
    fn poison_is_refused() {
        for body in [
            r#"{"type":"nonsense"}"#,
            r#""hello""#,
            "42",
            "null",
            r#"{"type":"click","id":"x"}"#,
            "{",
        ] {
            assert!(decode_queue_body(body).is_err(), "{body}");
        }
        let mut c = click();
        c.id = String::new();
        assert!(clean_click(c).is_err());
        let mut c = click();
        c.ts = 5;
        assert!(clean_click(c).is_err());
        let mut c = click();
        c.country = Some("<script>".into());
        assert_eq!(clean_click(c).unwrap().country, None);
    }

    #[test]
    fn retention_is_clamped() {
        assert_eq!(retention_days(None), 90);
        assert_eq!(retention_days(Some("30")), 30);
        assert_eq!(retention_days(Some("1")), 14);
        assert_eq!(retention_days(Some("junk")), 90);
        assert_eq!(retention_days(Some("99999")), 3650);
    }

    #[test]
    fn csv_escapes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("-cmd,x"), "\"'-cmd,x\"");
        let line = csv_line(&ClickRow {
            id: "evt_1".into(),
            ts: NOW,
            country: "US".into(),
            device: "desktop".into(),
            os: "macos".into(),
            browser: "chrome".into(),
            referrer: "".into(),
            qr: 1,
            visitor: "v1".into(),
            variant: Some(1),
        });
        assert_eq!(
            line,
            "evt_1,2025-01-01T10:30:00Z,US,desktop,macos,chrome,,qr,v1,B\r\n"
        );
        assert_eq!(
            CSV_HEADER.trim_end().split(',').count(),
            line.trim_end().split(',').count()
        );
    }

    #[test]
    fn floor_and_ceil() {
        assert_eq!(floor_to(7_199_999, HOUR_MS), HOUR_MS);
        assert_eq!(ceil_to(HOUR_MS + 1, HOUR_MS), 2 * HOUR_MS);
        assert_eq!(ceil_to(HOUR_MS, HOUR_MS), HOUR_MS);
        assert_eq!(floor_to(-1, HOUR_MS), -HOUR_MS);
    }
}
