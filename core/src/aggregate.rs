//! The click aggregator's pure state (docs/SCALE.md §4): packed hourly
//! blocks, exact dedupe by event id, first visits of the day, per-link
//! totals and click limits. `src/aggregator.rs` (the `ClickAggregator`
//! Durable Object) does the I/O: it loads what [`Agg::needs`] names from
//! D1, writes the group commit's `log` row, and flushes [`Agg::flush_plan`]
//! to D1; everything it decides is decided here.
//!
//! Dimensions are data-driven: a block's rollup holds `total`, `visitors`
//! and every dimension of [`BREAKDOWNS`] (value from [`dim_value`]), so a
//! new dimension is a `BREAKDOWNS` row and a `dim_value` arm.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{json, Value};

use crate::events::ClickEvent;
use crate::stats::{variant_label, RollupRow, BREAKDOWNS};
use crate::time::{DAY_MS, HOUR_MS};

/// value → clicks, per dimension (`total` and `visitors` under the value "").
pub type Dims = BTreeMap<String, BTreeMap<String, i64>>;
/// workspace → link → dimensions: the rollup of one part of an hour block.
pub type Rollup = BTreeMap<String, BTreeMap<String, Dims>>;

/// Clicks per block part: ~150 B each keeps a part under 1 MB (D1 caps a
/// row at 2 MB).
pub const PART_CLICKS: usize = 4_000;

/// FNV-1a of the link id: the shard that owns the link's analytics.
pub fn shard_of(link_id: &str, shards: u32) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in link_id.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h % shards.max(1)
}

/// The value of one breakdown dimension for a click ("" = unknown/direct);
/// `None` when the click does not count in it (`variant`: only clicks an
/// A/B variant chose, so links without a test write no variant rows).
pub fn dim_value(c: &ClickEvent, dim: &str) -> Option<String> {
    Some(match dim {
        "country" => c.country.clone().unwrap_or_default(),
        "device" => c.device.clone(),
        "browser" => c.browser.clone(),
        "os" => c.os.clone(),
        "referrer" => c.referrer.clone().unwrap_or_default(),
        "source" => if c.qr { "qr" } else { "link" }.into(),
        "variant" => return c.variant.map(variant_label),
        _ => String::new(),
    })
}

fn bump(d: &mut Dims, dim: &str, value: String, n: i64) {
    *d.entry(dim.to_string())
        .or_default()
        .entry(value)
        .or_default() += n;
}

/// Counts one click into a rollup.
pub fn add(r: &mut Rollup, c: &ClickEvent, first_visit: bool) {
    let d = r
        .entry(c.workspace_id.to_string())
        .or_default()
        .entry(c.link_id.to_string())
        .or_default();
    bump(d, "total", String::new(), 1);
    for (dim, ..) in BREAKDOWNS {
        if let Some(v) = dim_value(c, dim) {
            bump(d, dim, v, 1);
        }
    }
    if first_visit {
        bump(d, "visitors", String::new(), 1);
    }
}

/// Adds `b` into `a`.
pub fn merge(a: &mut Rollup, b: &Rollup) {
    for (ws, links) in b {
        for (link, dims) in links {
            let d = a
                .entry(ws.clone())
                .or_default()
                .entry(link.clone())
                .or_default();
            for (dim, values) in dims {
                for (v, n) in values {
                    bump(d, dim, v.clone(), *n);
                }
            }
        }
    }
}

/// A raw click as a block stores it (and the `clicks` view reads it):
/// `[id, link, workspace, ts, country, device, os, browser, referrer, qr,
/// visitor, first_visit, variant]` (variant: index or null).
pub fn raw_row(c: &ClickEvent, first_visit: bool) -> Value {
    json!([
        c.id,
        c.link_id.as_str(),
        c.workspace_id.as_str(),
        c.ts,
        c.country.as_deref().unwrap_or(""),
        c.device,
        c.os,
        c.browser,
        c.referrer.as_deref().unwrap_or(""),
        c.qr as i64,
        c.visitor,
        first_visit as i64,
        c.variant
    ])
}

/// The click of a [`raw_row`] and its first-visit flag.
pub fn from_raw_row(v: &Value) -> Option<(ClickEvent, bool)> {
    let a = v.as_array()?;
    let s = |i: usize| a.get(i).and_then(Value::as_str).map(str::to_string);
    let opt = |i: usize| s(i).filter(|x| !x.is_empty());
    let c = ClickEvent {
        id: s(0)?,
        link_id: s(1)?.into(),
        workspace_id: s(2)?.into(),
        ts: a.get(3)?.as_i64()?,
        country: opt(4),
        device: s(5)?,
        os: s(6)?,
        browser: s(7)?,
        referrer: opt(8),
        qr: a.get(9)?.as_i64()? != 0,
        visitor: s(10)?,
        bot: false,
        webhook: false,
        scene: String::new(),
        variant: a
            .get(12)
            .and_then(Value::as_u64)
            .and_then(|v| u8::try_from(v).ok()),
    };
    Some((c, a.get(11).and_then(Value::as_i64).unwrap_or(0) != 0))
}

fn row_id(v: &Value) -> Option<&str> {
    v.get(0).and_then(Value::as_str)
}

/// One part of an hour block (parts < 0 are imported or migrated rows the
/// object never rewrites).
#[derive(Debug, Clone, Default)]
pub struct Part {
    pub index: i64,
    pub rows: Vec<Value>,
    pub rollup: Rollup,
    pub dirty: bool,
}

/// An hour of the shard, as loaded from D1 and grown by commits.
#[derive(Debug, Clone, Default)]
pub struct Hour {
    /// Every event id stored in the hour (all parts): the dedupe set.
    pub ids: HashSet<String>,
    /// The writable parts (index ≥ 0), ascending.
    pub parts: Vec<Part>,
    /// Visitors per link seen in this hour (for the day's first visits).
    pub visitors: HashMap<String, HashSet<String>>,
}

impl Hour {
    /// From the D1 rows of the hour: `(part, clicks JSON, rollup JSON)`.
    pub fn load(rows: &[(i64, String, String)]) -> Hour {
        let mut h = Hour::default();
        for (index, clicks, rollup) in rows {
            let parsed: Vec<Value> = serde_json::from_str(clicks).unwrap_or_default();
            for r in &parsed {
                if let Some((c, _)) = from_raw_row(r) {
                    h.note(&c);
                } else if let Some(id) = row_id(r) {
                    h.ids.insert(id.to_string());
                }
            }
            if *index >= 0 {
                h.parts.push(Part {
                    index: *index,
                    rows: parsed,
                    rollup: serde_json::from_str(rollup).unwrap_or_default(),
                    dirty: false,
                });
            }
        }
        h.parts.sort_by_key(|p| p.index);
        h
    }

    fn note(&mut self, c: &ClickEvent) {
        self.ids.insert(c.id.clone());
        if !c.visitor.is_empty() {
            self.visitors
                .entry(c.link_id.to_string())
                .or_default()
                .insert(c.visitor.clone());
        }
    }

    fn push(&mut self, c: &ClickEvent, first_visit: bool) {
        self.note(c);
        let full = self
            .parts
            .last()
            .is_none_or(|p| p.rows.len() >= PART_CLICKS);
        if full {
            let index = self.parts.last().map_or(0, |p| p.index + 1);
            self.parts.push(Part {
                index,
                ..Part::default()
            });
        }
        let p = self.parts.last_mut().expect("a part");
        p.rows.push(raw_row(c, first_visit));
        add(&mut p.rollup, c, first_visit);
        p.dirty = true;
    }
}

/// What the aggregator knows of a link (from D1 `links`, then its own
/// commits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub workspace_id: String,
    /// Absolute click count (D1's flushed count plus commits since).
    pub count: i64,
    pub limit: Option<i64>,
    pub dirty: bool,
}

/// What a commit must have loaded before [`Agg::plan`] can decide.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub links: Vec<String>,
    pub hours: Vec<i64>,
    /// UTC days whose visitors (of every link) to load.
    pub days: Vec<i64>,
}

/// The outcome of planning a commit: the clicks to store, with their
/// first-visit flags, in order.
#[derive(Debug, Default)]
pub struct Plan {
    pub accepted: Vec<(ClickEvent, bool)>,
    pub duplicates: usize,
    /// Unknown links, a workspace that is not the link's, or older than
    /// retention: dropped, never counted.
    pub dropped: usize,
}

/// The unflushed part of one commit for one hour: what stats add to D1.
#[derive(Debug, Clone)]
pub struct Live {
    pub seq: u64,
    pub hour: i64,
    pub rollup: Rollup,
}

/// One D1 flush: the parts to write whole, absolute link counts, and the
/// watermark (the last commit it contains).
#[derive(Debug, Default)]
pub struct FlushPlan {
    /// (hour, part, clicks JSON, rollup JSON)
    pub parts: Vec<(i64, i64, String, String)>,
    pub counts: BTreeMap<String, i64>,
    pub seq: u64,
}

#[derive(Debug)]
pub struct Agg {
    pub hours: BTreeMap<i64, Hour>,
    /// (link, day) → visitors seen that day (loaded from D1, then kept).
    pub visitors: HashMap<(String, i64), HashSet<String>>,
    /// `None`: no such link (clicks for it are dropped).
    pub links: HashMap<String, Option<LinkInfo>>,
    pub live: Vec<Live>,
    /// The last commit sequence number given out, and the last one in D1.
    pub seq: u64,
    pub flushed_seq: u64,
    /// The first UTC day whose visitor sets in memory are complete: every
    /// click of it went through this object since it started, and none was
    /// evicted. Earlier days load their visitors from D1.
    pub complete_from: i64,
    /// Days before `complete_from` whose visitors were loaded from D1.
    pub loaded_days: BTreeSet<i64>,
}

impl Default for Agg {
    fn default() -> Agg {
        Agg {
            hours: BTreeMap::new(),
            visitors: HashMap::new(),
            links: HashMap::new(),
            live: Vec::new(),
            seq: 0,
            flushed_seq: 0,
            complete_from: i64::MAX,
            loaded_days: BTreeSet::new(),
        }
    }
}

impl Agg {
    /// Links, hours and visitor days the clicks need that are not loaded.
    /// Called twice by a commit: links and hours first, then (with links
    /// known) the visitor days.
    pub fn needs(&self, clicks: &[ClickEvent]) -> Needs {
        let mut links = BTreeSet::new();
        let mut hours = BTreeSet::new();
        let mut days = BTreeSet::new();
        for c in clicks {
            let link = c.link_id.to_string();
            match self.links.get(&link) {
                None => {
                    links.insert(link);
                    continue;
                }
                Some(None) => continue,
                Some(Some(_)) => {}
            }
            let hour = c.ts - c.ts.rem_euclid(HOUR_MS);
            if !self.hours.contains_key(&hour) {
                hours.insert(hour);
            }
            let day = c.ts - c.ts.rem_euclid(DAY_MS);
            if !c.visitor.is_empty() && day < self.complete_from && !self.loaded_days.contains(&day)
            {
                days.insert(day);
            }
        }
        Needs {
            links: links.into_iter().collect(),
            hours: hours.into_iter().collect(),
            days: days.into_iter().collect(),
        }
    }

    /// The object started at `now`: days after it are complete in memory.
    pub fn started(&mut self, now: i64) {
        self.complete_from = now - now.rem_euclid(DAY_MS) + DAY_MS;
    }

    /// A link's row from D1 (`None` when there is none).
    pub fn load_link(&mut self, id: &str, info: Option<LinkInfo>) {
        self.links.insert(id.to_string(), info);
    }

    pub fn load_hour(&mut self, hour: i64, rows: &[(i64, String, String)]) {
        self.hours.insert(hour, Hour::load(rows));
    }

    /// The visitors of every link on `day` stored in D1 (`(link, visitor)`
    /// pairs), joined with those of the day's hours in memory (committed,
    /// maybe not yet flushed). One scan of the day, once per object start.
    pub fn load_day(&mut self, day: i64, stored: Vec<(String, String)>) {
        for (link, v) in stored {
            self.visitors.entry((link, day)).or_default().insert(v);
        }
        for (_, h) in self.hours.range(day..day + DAY_MS) {
            for (link, vs) in &h.visitors {
                self.visitors
                    .entry((link.clone(), day))
                    .or_default()
                    .extend(vs.iter().cloned());
            }
        }
        self.loaded_days.insert(day);
    }

    /// Decides which clicks are new (exact dedupe by id within their hour,
    /// in memory and D1) and which are first visits; changes nothing.
    pub fn plan(&self, clicks: &[ClickEvent], cutoff: i64) -> Plan {
        let mut plan = Plan::default();
        let mut ids: HashSet<&str> = HashSet::new();
        let mut visitors: HashSet<(&str, i64, &str)> = HashSet::new();
        for c in clicks {
            let link = c.link_id.as_str();
            let known = matches!(self.links.get(link), Some(Some(l)) if l.workspace_id == c.workspace_id.as_str());
            if !known || c.ts < cutoff {
                plan.dropped += 1;
                continue;
            }
            let hour = c.ts - c.ts.rem_euclid(HOUR_MS);
            let stored = self.hours.get(&hour).is_some_and(|h| h.ids.contains(&c.id));
            if stored || !ids.insert(c.id.as_str()) {
                plan.duplicates += 1;
                continue;
            }
            let day = c.ts - c.ts.rem_euclid(DAY_MS);
            let first = !c.visitor.is_empty()
                && !self
                    .visitors
                    .get(&(link.to_string(), day))
                    .is_some_and(|s| s.contains(&c.visitor))
                && visitors.insert((link, day, c.visitor.as_str()));
            plan.accepted.push((c.clone(), first));
        }
        plan
    }

    /// Applies a planned (and logged) commit `seq`. Returns the links the
    /// commit took to or past their click limit.
    pub fn apply(&mut self, seq: u64, accepted: &[(ClickEvent, bool)]) -> Vec<String> {
        self.seq = self.seq.max(seq);
        let mut reached = BTreeSet::new();
        let mut live: BTreeMap<i64, Rollup> = BTreeMap::new();
        for (c, first) in accepted {
            let hour = c.ts - c.ts.rem_euclid(HOUR_MS);
            let h = self.hours.entry(hour).or_default();
            if h.ids.contains(&c.id) {
                continue;
            }
            h.push(c, *first);
            add(live.entry(hour).or_default(), c, *first);
            let link = c.link_id.to_string();
            if !c.visitor.is_empty() {
                let day = c.ts - c.ts.rem_euclid(DAY_MS);
                self.visitors
                    .entry((link.clone(), day))
                    .or_default()
                    .insert(c.visitor.clone());
            }
            if let Some(Some(l)) = self.links.get_mut(&link) {
                l.count += 1;
                l.dirty = true;
                if l.limit.is_some_and(|n| l.count >= n) {
                    reached.insert(link);
                }
            }
        }
        self.live.extend(
            live.into_iter()
                .map(|(hour, rollup)| Live { seq, hour, rollup }),
        );
        reached.into_iter().collect()
    }

    /// Whether anything awaits a flush.
    pub fn dirty(&self) -> bool {
        self.seq > self.flushed_seq
    }

    /// Everything committed since the last flush, as whole parts.
    pub fn flush_plan(&self) -> FlushPlan {
        let mut plan = FlushPlan {
            seq: self.seq,
            ..FlushPlan::default()
        };
        for (hour, h) in &self.hours {
            for p in h.parts.iter().filter(|p| p.dirty) {
                plan.parts.push((
                    *hour,
                    p.index,
                    Value::from(p.rows.clone()).to_string(),
                    serde_json::to_string(&p.rollup).unwrap_or_default(),
                ));
            }
        }
        for (id, l) in &self.links {
            if let Some(l) = l.as_ref().filter(|l| l.dirty) {
                plan.counts.insert(id.clone(), l.count);
            }
        }
        plan
    }

    /// The flush committed in D1: marks its parts clean and forgets hours
    /// and visitor days older than `keep_from` (reloaded from D1 if a late
    /// click needs them).
    pub fn flushed(&mut self, plan: &FlushPlan, keep_from: i64) {
        for (hour, index, ..) in &plan.parts {
            if let Some(p) = self
                .hours
                .get_mut(hour)
                .and_then(|h| h.parts.iter_mut().find(|p| p.index == *index))
            {
                p.dirty = false;
            }
        }
        for id in plan.counts.keys() {
            if let Some(Some(l)) = self.links.get_mut(id) {
                l.dirty = false;
            }
        }
        self.flushed_seq = self.flushed_seq.max(plan.seq);
        let flushed = self.flushed_seq;
        self.live.retain(|l| l.seq > flushed);
        self.hours
            .retain(|hour, h| *hour >= keep_from || h.parts.iter().any(|p| p.dirty));
        let keep_day = keep_from - keep_from.rem_euclid(DAY_MS);
        self.visitors.retain(|(_, day), _| *day >= keep_day);
        self.loaded_days.retain(|day| *day >= keep_day);
        if self.complete_from != i64::MAX {
            self.complete_from = self.complete_from.max(keep_day);
        }
        // Link rows are re-read when next needed (a PATCH may have
        // changed the limit; the count is D1's, just written).
        self.links
            .retain(|_, l| l.as_ref().is_some_and(|l| l.dirty));
    }

    /// The unflushed commits of a link or workspace, for the stats API:
    /// `[{"seq", "hour", "links": {link: dims}}]`.
    pub fn live_json(&self, link: Option<&str>, workspace: Option<&str>) -> Value {
        let mut out = Vec::new();
        for l in &self.live {
            let mut links = serde_json::Map::new();
            for (ws, ls) in &l.rollup {
                if workspace.is_some_and(|w| w != ws) {
                    continue;
                }
                for (id, dims) in ls {
                    if link.is_some_and(|x| x != id) {
                        continue;
                    }
                    links.insert(id.clone(), serde_json::to_value(dims).unwrap_or_default());
                }
            }
            if !links.is_empty() {
                out.push(json!({"seq": l.seq, "hour": l.hour, "links": links}));
            }
        }
        Value::Array(out)
    }
}

/// Live entries as the stats read them.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LiveEntry {
    pub seq: u64,
    pub hour: i64,
    pub links: BTreeMap<String, Dims>,
}

/// Rollup rows of live entries in `[from, to)`, after D1's watermark
/// (`flushed`: entries up to it are in D1 already).
pub fn live_rows(
    entries: &[LiveEntry],
    flushed: u64,
    from: i64,
    to: i64,
    interval: i64,
) -> Vec<RollupRow> {
    let mut out = Vec::new();
    for e in entries
        .iter()
        .filter(|e| e.seq > flushed && e.hour >= from && e.hour < to)
    {
        for dims in e.links.values() {
            for (dim, values) in dims {
                for (value, n) in values {
                    out.push(RollupRow {
                        dim: dim.clone(),
                        value: value.clone(),
                        bucket: if dim == "total" {
                            e.hour - e.hour.rem_euclid(interval)
                        } else {
                            0
                        },
                        clicks: *n,
                    });
                }
            }
        }
    }
    out
}

/// Clicks per link of live entries in `[from, to)` after `flushed`.
pub fn live_totals(
    entries: &[LiveEntry],
    flushed: u64,
    from: i64,
    to: i64,
) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for e in entries
        .iter()
        .filter(|e| e.seq > flushed && e.hour >= from && e.hour < to)
    {
        for (link, dims) in &e.links {
            let n: i64 = dims.get("total").map_or(0, |v| v.values().sum());
            *out.entry(link.clone()).or_default() += n;
        }
    }
    out
}

/// The first hour of live entries after `flushed` (for `period=all`).
pub fn live_origin(entries: &[LiveEntry], flushed: u64) -> Option<i64> {
    entries
        .iter()
        .filter(|e| e.seq > flushed)
        .map(|e| e.hour - e.hour.rem_euclid(DAY_MS))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_767_225_600_000; // 2026-01-01T00:00Z

    fn click(id: &str, link: &str, ts: i64, visitor: &str) -> ClickEvent {
        ClickEvent {
            id: id.into(),
            link_id: link.into(),
            workspace_id: "ws_1".into(),
            ts,
            country: Some("DE".into()),
            device: "mobile".into(),
            os: "ios".into(),
            browser: "safari".into(),
            referrer: None,
            bot: false,
            visitor: visitor.into(),
            qr: false,
            webhook: false,
            scene: String::new(),
            variant: None,
        }
    }

    #[test]
    fn variants_count_only_clicks_a_variant_chose_and_survive_a_block() {
        let mut r = Rollup::default();
        let plain = click("e1", "lnk_1", T, "v1");
        let chosen = ClickEvent {
            variant: Some(1),
            ..click("e2", "lnk_1", T, "v2")
        };
        add(&mut r, &plain, false);
        add(&mut r, &chosen, false);
        let dims = &r["ws_1"]["lnk_1"];
        assert_eq!(dims["variant"].len(), 1);
        assert_eq!(dims["variant"]["B"], 1);
        assert_eq!(dims["total"][""], 2);
        let (back, _) = from_raw_row(&raw_row(&chosen, false)).unwrap();
        assert_eq!(back.variant, Some(1));
        let (back, _) = from_raw_row(&raw_row(&plain, false)).unwrap();
        assert_eq!(back.variant, None);
    }

    fn agg_with(links: &[(&str, Option<i64>)]) -> Agg {
        let mut a = Agg::default();
        for (id, limit) in links {
            a.load_link(
                id,
                Some(LinkInfo {
                    workspace_id: "ws_1".into(),
                    count: 0,
                    limit: *limit,
                    dirty: false,
                }),
            );
        }
        a
    }

    fn commit(a: &mut Agg, clicks: &[ClickEvent]) -> (Plan, Vec<String>) {
        for h in a.needs(clicks).hours {
            a.load_hour(h, &[]);
        }
        for d in a.needs(clicks).days {
            a.load_day(d, vec![]);
        }
        let plan = a.plan(clicks, 0);
        let seq = a.seq + 1;
        let reached = a.apply(seq, &plan.accepted);
        (plan, reached)
    }

    #[test]
    fn raw_rows_round_trip() {
        let c = click("evt_1", "lnk_1", T, "v1");
        let (back, first) = from_raw_row(&raw_row(&c, true)).unwrap();
        assert_eq!(back, c);
        assert!(first);
        assert!(from_raw_row(&json!(["x"])).is_none());
    }

    #[test]
    fn rollup_counts_every_breakdown_and_first_visits() {
        let mut r = Rollup::default();
        add(&mut r, &click("a", "lnk_1", T, "v1"), true);
        let mut q = click("b", "lnk_1", T, "v1");
        q.qr = true;
        q.referrer = Some("t.co".into());
        add(&mut r, &q, false);
        let d = &r["ws_1"]["lnk_1"];
        assert_eq!(d["total"][""], 2);
        assert_eq!(d["visitors"][""], 1);
        assert_eq!(d["source"]["qr"], 1);
        assert_eq!(d["source"]["link"], 1);
        assert_eq!(d["referrer"][""], 1);
        assert_eq!(d["referrer"]["t.co"], 1);
        for (dim, ..) in BREAKDOWNS.iter().filter(|b| b.0 != "variant") {
            assert_eq!(d[*dim].values().sum::<i64>(), 2, "{dim}");
        }
        assert!(!d.contains_key("variant"), "no A/B test, no variant rows");
        let mut m = Rollup::default();
        merge(&mut m, &r);
        merge(&mut m, &r);
        assert_eq!(m["ws_1"]["lnk_1"]["total"][""], 4);
    }

    #[test]
    fn dedupes_within_a_batch_across_commits_and_against_d1() {
        let mut a = agg_with(&[("lnk_1", None)]);
        let c1 = click("e1", "lnk_1", T, "v1");
        let (p, _) = commit(
            &mut a,
            &[c1.clone(), c1.clone(), click("e2", "lnk_1", T, "v1")],
        );
        assert_eq!((p.accepted.len(), p.duplicates), (2, 1));
        // v1 twice the same day: one first visit.
        assert_eq!(p.accepted.iter().filter(|(_, f)| *f).count(), 1);
        let (p, _) = commit(&mut a, &[c1.clone()]);
        assert_eq!((p.accepted.len(), p.duplicates), (0, 1));
        // Stored in D1 (a flushed hour, reloaded after eviction).
        let plan = a.flush_plan();
        a.flushed(&plan, T + DAY_MS);
        assert!(a.hours.is_empty());
        let (_, _, clicks, rollup) = plan.parts[0].clone();
        a.load_link(
            "lnk_1",
            Some(LinkInfo {
                workspace_id: "ws_1".into(),
                count: 2,
                limit: None,
                dirty: false,
            }),
        );
        assert_eq!(a.needs(&[c1.clone()]).hours, vec![T]);
        a.load_hour(T, &[(0, clicks.clone(), rollup)]);
        assert_eq!(a.needs(&[c1.clone()]).days, vec![T]);
        a.load_day(T, vec![("lnk_1".into(), "v1".into())]);
        let (p, _) = commit(&mut a, &[c1, click("e3", "lnk_1", T + 1, "v1")]);
        assert_eq!((p.accepted.len(), p.duplicates), (1, 1));
        assert!(!p.accepted[0].1, "v1 visited that day already");
        // The late click lands in the same part, rewritten whole.
        let plan = a.flush_plan();
        assert_eq!(plan.parts.len(), 1);
        let rows: Vec<Value> = serde_json::from_str(&plan.parts[0].2).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(plan.counts["lnk_1"], 3);
    }

    #[test]
    fn drops_unknown_links_foreign_workspaces_and_expired_clicks() {
        let mut a = agg_with(&[("lnk_1", None)]);
        a.load_link("lnk_gone", None);
        let mut foreign = click("e2", "lnk_1", T, "v");
        foreign.workspace_id = "ws_2".into();
        let clicks = [
            click("e1", "lnk_gone", T, "v"),
            foreign,
            click("e3", "lnk_1", 5, "v"),
        ];
        assert_eq!(a.plan(&clicks, 10).dropped, 3);
    }

    #[test]
    fn limit_reached_at_the_commit() {
        let mut a = agg_with(&[("lnk_1", Some(3))]);
        let (_, r) = commit(
            &mut a,
            &[click("e1", "lnk_1", T, "a"), click("e2", "lnk_1", T, "b")],
        );
        assert!(r.is_empty());
        let (_, r) = commit(&mut a, &[click("e3", "lnk_1", T, "c")]);
        assert_eq!(r, vec!["lnk_1".to_string()]);
    }

    #[test]
    fn parts_split_and_only_dirty_parts_flush() {
        let mut a = agg_with(&[("lnk_1", None)]);
        let clicks: Vec<ClickEvent> = (0..PART_CLICKS + 1)
            .map(|i| click(&format!("e{i}"), "lnk_1", T + i as i64, ""))
            .collect();
        commit(&mut a, &clicks);
        let plan = a.flush_plan();
        assert_eq!(
            plan.parts.iter().map(|p| p.1).collect::<Vec<_>>(),
            vec![0, 1]
        );
        a.flushed(&plan, T);
        // Flushed links are re-read from D1 when next needed.
        assert_eq!(
            a.needs(&[click("late", "lnk_1", T, "")]).links,
            vec!["lnk_1"]
        );
        a.load_link(
            "lnk_1",
            Some(LinkInfo {
                workspace_id: "ws_1".into(),
                count: 4001,
                limit: None,
                dirty: false,
            }),
        );
        commit(&mut a, &[click("late", "lnk_1", T + 5, "")]);
        let plan = a.flush_plan();
        assert_eq!(plan.parts.iter().map(|p| p.1).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn live_rows_skip_what_d1_holds() {
        let mut a = agg_with(&[("lnk_1", None), ("lnk_2", None)]);
        commit(&mut a, &[click("e1", "lnk_1", T, "v")]);
        commit(
            &mut a,
            &[
                click("e2", "lnk_1", T + HOUR_MS, "v"),
                click("e3", "lnk_2", T, "w"),
            ],
        );
        let entries: Vec<LiveEntry> =
            serde_json::from_value(a.live_json(Some("lnk_1"), None)).unwrap();
        assert_eq!(entries.len(), 2);
        let rows = live_rows(&entries, 0, T, T + DAY_MS, DAY_MS);
        let total: i64 = rows
            .iter()
            .filter(|r| r.dim == "total")
            .map(|r| r.clicks)
            .sum();
        assert_eq!(total, 2);
        assert!(rows
            .iter()
            .filter(|r| r.dim == "total")
            .all(|r| r.bucket == T));
        // Commit 1 is in D1: only commit 2 is live.
        assert_eq!(live_totals(&entries, 1, T, T + DAY_MS)["lnk_1"], 1);
        assert_eq!(live_origin(&entries, 0), Some(T));
        let ws: Vec<LiveEntry> = serde_json::from_value(a.live_json(None, Some("ws_1"))).unwrap();
        assert_eq!(live_totals(&ws, 0, T, T + DAY_MS).len(), 2);
        assert!(a.dirty());
        let plan = a.flush_plan();
        a.flushed(&plan, T);
        assert!(!a.dirty());
        assert_eq!(a.live_json(None, None), json!([]));
    }

    #[test]
    fn days_after_the_start_need_no_visitor_load() {
        let mut a = agg_with(&[("lnk_1", None)]);
        a.started(T - 1);
        let today = click("e1", "lnk_1", T + 5, "v");
        let yesterday = click("e2", "lnk_1", T - 5, "v");
        assert!(a.needs(&[today.clone()]).days.is_empty());
        assert_eq!(a.needs(&[yesterday]).days, vec![T - DAY_MS]);
        commit(&mut a, &[today.clone()]);
        // Evicting a day makes it load from D1 again.
        let plan = a.flush_plan();
        a.flushed(&plan, T + DAY_MS);
        assert_eq!(a.needs(&[today]).links, vec!["lnk_1"]);
        a.load_link(
            "lnk_1",
            Some(LinkInfo {
                workspace_id: "ws_1".into(),
                count: 1,
                limit: None,
                dirty: false,
            }),
        );
        assert_eq!(a.needs(&[click("e3", "lnk_1", T + 6, "v")]).days, vec![T]);
    }

    #[test]
    fn shards_are_stable() {
        assert_eq!(shard_of("lnk_1", 1), 0);
        assert_eq!(shard_of("lnk_1", 8), shard_of("lnk_1", 8));
        assert!(shard_of("lnk_abc", 8) < 8);
    }
}
