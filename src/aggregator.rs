//! The `ClickAggregator` Durable Object (docs/SCALE.md §4) and the calls
//! the redirect, the Queue consumer and the stats API make to it.
//!
//! A click reaches its shard's object (`clicks-{fnv1a(link) % shards}`)
//! from the redirect's `wait_until`, or from the Queue consumer when that
//! call failed. The object
//! - dedupes by event id against every click stored in the click's hour
//!   (memory, and D1's block of that hour, loaded on first need);
//! - group-commits: clicks gathered for `ANALYTICS_COMMIT_MS` are written
//!   as ONE row of its own SQLite `log` (a ring: a slot whose commit is in
//!   D1 is rewritten in place), then counted in memory (hour blocks, first
//!   visits of the day, link totals), and only then does `record` answer;
//! - flips a link's KV record at the commit that reaches its click limit,
//!   and creates the clicks' webhook deliveries;
//! - flushes on an alarm every `ANALYTICS_FLUSH_SECONDS`: the hour blocks'
//!   changed parts (written whole), the links' absolute counts (one
//!   `link_totals` row per bucket touched) and its watermark (the last commit included), in one D1 transaction.
//!
//! A restart rebuilds from the `log` rows after the watermark (D1's, or the
//! object's own `flushed` if higher), so a commit is counted once whether
//! the object died before the flush, or after D1 committed and before it
//! noted that. The stats API adds the object's unflushed commits
//! ([`live`]) to D1's blocks, dropping those D1's watermark already holds.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use edgelink_core::aggregate::{from_raw_row, raw_row, shard_of, Agg, LinkInfo, LiveEntry};
use edgelink_core::events::ClickEvent;
use edgelink_core::ids::DeliveryId;
use edgelink_core::time::{DAY_MS, HOUR_MS};
use edgelink_core::ApiResult;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::wasm_bindgen::JsValue;
use worker::{
    console_error, durable_object, DurableObject, Env, Method, Request, RequestInit, Response,
    SqlStorageValue, State,
};

use crate::store::{clicks, links, records, webhooks};

/// The Durable Object namespace binding (wrangler.toml).
const BINDING: &str = "CLICKS";
/// A group commit takes at most this many clicks.
const GROUP_MAX: usize = 256;
/// The error a fault hook returns to reset the object (test builds).
const ABORT: &str = "aggregator reset by a fault hook";

// ---------------------------------------------------------------------------
// Callers
// ---------------------------------------------------------------------------

/// Whether this deployment has the aggregator (without it the redirect
/// keeps the Queue path of old, and the consumer cannot count).
/// Asked once per isolate: bindings only change with a new deployment.
pub fn available(env: &Env) -> bool {
    thread_local! {
        static BOUND: std::cell::OnceCell<bool> = const { std::cell::OnceCell::new() };
    }
    BOUND.with(|b| *b.get_or_init(|| env.durable_object(BINDING).is_ok()))
}

async fn call(env: &Env, shard: u32, path: &str, body: Option<String>) -> worker::Result<Response> {
    let stub = env
        .durable_object(BINDING)?
        .id_from_name(&format!("clicks-{shard}"))?
        .get_stub()?;
    let mut init = RequestInit::new();
    if let Some(b) = body {
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&b)));
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    let req = Request::new_with_init(
        &format!("https://aggregator{path}{sep}shard={shard}"),
        &init,
    )?;
    stub.fetch_with_request(req).await
}

/// Where and how long callers reach the objects (from `Config`, copied
/// into the redirect's `waitUntil` futures).
#[derive(Clone, Copy)]
pub struct Client {
    pub shards: u32,
    pub timeout_ms: u64,
}

impl Client {
    pub fn new(cfg: &edgelink_core::config::Config) -> Client {
        Client {
            shards: cfg.analytics_shards,
            timeout_ms: cfg.analytics_call_timeout_ms(),
        }
    }
}

/// Hands clicks to their shards' objects; `Ok` once every shard has
/// committed them (or found them already counted). An object that has not
/// answered within the client's timeout counts as failed: the caller falls
/// back, and if the object commits later the ids dedupe.
pub async fn record(env: &Env, client: Client, batch: &[ClickEvent]) -> worker::Result<()> {
    let call = std::pin::pin!(record_all(env, client.shards, batch));
    let timeout = std::pin::pin!(worker::Delay::from(std::time::Duration::from_millis(
        client.timeout_ms
    )));
    match futures_util::future::select(call, timeout).await {
        futures_util::future::Either::Left((result, _)) => result,
        futures_util::future::Either::Right(_) => Err(worker::Error::RustError(format!(
            "aggregator did not answer within {} ms",
            client.timeout_ms
        ))),
    }
}

async fn record_all(env: &Env, shards: u32, batch: &[ClickEvent]) -> worker::Result<()> {
    let mut by_shard: BTreeMap<u32, Vec<&ClickEvent>> = BTreeMap::new();
    for c in batch {
        by_shard
            .entry(shard_of(&c.link_id, shards))
            .or_default()
            .push(c);
    }
    for (shard, cs) in by_shard {
        let body =
            serde_json::to_string(&cs).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let mut r = call(env, shard, "/record", Some(body)).await?;
        if r.status_code() != 200 {
            let text = r.text().await.unwrap_or_default();
            return Err(worker::Error::RustError(format!(
                "aggregator {shard} answered {}: {text}",
                r.status_code()
            )));
        }
    }
    Ok(())
}

/// The unflushed commits of a link or a workspace, per shard.
pub async fn live(
    env: &Env,
    shards: u32,
    link: Option<&str>,
    workspace: Option<&str>,
) -> ApiResult<Vec<(u32, Vec<LiveEntry>)>> {
    if !available(env) {
        return Ok(Vec::new());
    }
    let (targets, query): (Vec<u32>, String) = match (link, workspace) {
        (Some(l), _) => (vec![shard_of(l, shards)], format!("/live?link={l}")),
        (None, Some(w)) => ((0..shards.max(1)).collect(), format!("/live?ws={w}")),
        (None, None) => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    for shard in targets {
        let mut r = call(env, shard, &query, None)
            .await
            .map_err(crate::http::internal("aggregator live"))?;
        let entries: Vec<LiveEntry> = r
            .json()
            .await
            .map_err(crate::http::internal("aggregator live"))?;
        out.push((shard, entries));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// The object
// ---------------------------------------------------------------------------

#[durable_object(alarm)]
pub struct ClickAggregator {
    inner: Rc<Inner>,
}

struct Inner {
    state: State,
    env: Env,
    agg: RefCell<Agg>,
    ready: Cell<bool>,
    shard: Cell<Option<u32>>,
    /// (slot, seq) of every `log` row.
    slots: RefCell<Vec<(i64, u64)>>,
    armed: Cell<bool>,
    // Group commit: clicks waiting, the generation they belong to, and
    // which generations are done (and which failed).
    pending: RefCell<Vec<ClickEvent>>,
    gen: Cell<u64>,
    done_gen: Cell<u64>,
    failed: RefCell<BTreeSet<u64>>,
    /// Callers waiting for a generation, woken once when one is done (a
    /// timer per caller would wake each of them every few ms for the whole
    /// commit window: hundreds of callers on a busy shard).
    waiters: RefCell<Vec<std::task::Waker>>,
    /// Side effects of commits not yet done (D1 or KV failed): retried at
    /// the next commit and flush.
    hooks: RefCell<Vec<Value>>,
    closes: RefCell<BTreeSet<String>>,
}

impl DurableObject for ClickAggregator {
    fn new(state: State, env: Env) -> Self {
        ClickAggregator {
            inner: Rc::new(Inner {
                state,
                env,
                agg: RefCell::new(Agg::default()),
                ready: Cell::new(false),
                shard: Cell::new(None),
                slots: RefCell::new(Vec::new()),
                armed: Cell::new(false),
                pending: RefCell::new(Vec::new()),
                gen: Cell::new(0),
                done_gen: Cell::new(0),
                failed: RefCell::new(BTreeSet::new()),
                waiters: RefCell::new(Vec::new()),
                hooks: RefCell::new(Vec::new()),
                closes: RefCell::new(BTreeSet::new()),
            }),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let url = req.url()?;
        let q: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
        let shard = q.get("shard").and_then(|s| s.parse::<u32>().ok());
        let me = self.inner.clone();
        if let Err(e) = me.ready(shard).await {
            console_error!("aggregator: start failed: {e:?}");
            return Response::error("aggregator not ready", 503);
        }
        match url.path() {
            "/record" => {
                let batch: Vec<ClickEvent> = match req.json::<Vec<ClickEvent>>().await {
                    // Bots are never counted; malformed clicks never stored.
                    Ok(b) => b
                        .into_iter()
                        .filter_map(|c| edgelink_core::stats::clean_click(c).ok())
                        .filter(|c| !c.bot)
                        .collect(),
                    Err(e) => return Response::error(format!("bad clicks: {e}"), 400),
                };
                me.record(batch).await
            }
            "/live" => {
                let v = me.agg.borrow().live_json(
                    q.get("link").map(String::as_str),
                    q.get("ws").map(String::as_str),
                );
                Response::from_json(&v)
            }
            _ => Response::error("not found", 404),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let me = self.inner.clone();
        me.armed.set(false);
        if let Err(e) = me.ready(None).await {
            console_error!("aggregator: start failed: {e:?}");
            return Response::ok("not ready");
        }
        let me2 = me.clone();
        let r = me
            .state
            .block_concurrency_while(async move {
                match me2.flush().await {
                    // An `Err` out of blockConcurrencyWhile resets the
                    // object, as a crash would (test builds' fault hooks).
                    Err(worker::Error::RustError(m)) if m == ABORT => {
                        Err(worker::Error::RustError(m))
                    }
                    r => Ok(r),
                }
            })
            .await?;
        if let Err(e) = r {
            console_error!("aggregator: flush failed, retried at the next alarm: {e:?}");
            me.arm().await;
        }
        Response::ok("flushed")
    }
}

#[derive(Deserialize)]
struct SlotRow {
    slot: i64,
    seq: i64,
}

#[derive(Deserialize)]
struct LogRow {
    seq: i64,
    body: String,
}

#[derive(Deserialize)]
struct MetaRow {
    k: String,
    v: i64,
}

fn err(e: impl std::fmt::Debug) -> worker::Error {
    worker::Error::RustError(format!("{e:?}"))
}

impl Inner {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    fn db(&self) -> worker::Result<worker::D1Database> {
        self.env.d1("DB")
    }

    fn now() -> i64 {
        worker::Date::now().as_millis() as i64
    }

    fn cfg(&self) -> Rc<crate::config::Config> {
        crate::config::get(&self.env)
    }

    /// Loads once per object start (blocking other events meanwhile).
    async fn ready(self: &Rc<Self>, shard: Option<u32>) -> worker::Result<()> {
        if self.ready.get() {
            return Ok(());
        }
        let me = self.clone();
        self.state
            .block_concurrency_while(async move { Ok(me.start(shard).await) })
            .await?
    }

    fn set_meta(&self, k: &str, v: i64) -> worker::Result<()> {
        self.sql().exec(
            "INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
            vec![
                SqlStorageValue::from(k.to_string()),
                SqlStorageValue::from(v),
            ],
        )?;
        Ok(())
    }

    async fn start(self: &Rc<Self>, shard: Option<u32>) -> worker::Result<()> {
        if self.ready.get() {
            return Ok(());
        }
        let sql = self.sql();
        sql.exec(
            "CREATE TABLE IF NOT EXISTS log (slot INTEGER PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL)",
            None,
        )?;
        sql.exec(
            "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL)",
            None,
        )?;
        let meta: BTreeMap<String, i64> = sql
            .exec("SELECT k, v FROM meta", None)?
            .to_array::<MetaRow>()?
            .into_iter()
            .map(|m| (m.k, m.v))
            .collect();
        let shard = match (meta.get("shard"), shard) {
            (Some(s), _) => *s as u32,
            (None, Some(s)) => {
                self.set_meta("shard", s as i64)?;
                s
            }
            // An alarm before any call: nothing was ever committed here.
            (None, None) => return Ok(()),
        };
        self.shard.set(Some(shard));
        let own = meta.get("flushed").copied().unwrap_or(0).max(0) as u64;
        let d1 = clicks::watermark(&self.db()?, shard).await.map_err(err)?;
        if d1 > own {
            // D1 committed a flush the object did not get to note.
            self.set_meta("flushed", d1 as i64)?;
        }
        let base = own.max(d1);
        let slots: Vec<(i64, u64)> = sql
            .exec("SELECT slot, seq FROM log", None)?
            .to_array::<SlotRow>()?
            .into_iter()
            .map(|r| (r.slot, r.seq.max(0) as u64))
            .collect();
        let top = slots.iter().map(|s| s.1).max().unwrap_or(0).max(base);
        *self.slots.borrow_mut() = slots;
        {
            let mut agg = self.agg.borrow_mut();
            agg.seq = base;
            agg.flushed_seq = base;
            agg.started(Self::now());
        }
        let replay = sql
            .exec(
                "SELECT seq, body FROM log WHERE seq > ? ORDER BY seq",
                vec![SqlStorageValue::from(base as i64)],
            )?
            .to_array::<LogRow>()?;
        for r in replay {
            let rows: Vec<Value> = serde_json::from_str(&r.body).unwrap_or_default();
            let accepted: Vec<(ClickEvent, bool)> = rows.iter().filter_map(from_raw_row).collect();
            let batch: Vec<ClickEvent> = accepted.iter().map(|(c, _)| c.clone()).collect();
            self.prepare(shard, &batch).await?;
            self.agg.borrow_mut().apply(r.seq as u64, &accepted);
        }
        self.agg.borrow_mut().seq = top;
        self.armed
            .set(self.state.storage().get_alarm().await?.is_some());
        self.ready.set(true);
        if self.agg.borrow().dirty() {
            self.arm().await;
        }
        Ok(())
    }

    /// Loads the links, hours and visitor days the clicks need.
    async fn prepare(&self, shard: u32, batch: &[ClickEvent]) -> worker::Result<()> {
        let db = self.db()?;
        let needs = self.agg.borrow().needs(batch);
        if !needs.links.is_empty() {
            let ids = serde_json::to_string(&needs.links).unwrap_or_default();
            let rows = clicks::links_of(&db, &ids).await.map_err(err)?;
            let mut agg = self.agg.borrow_mut();
            for id in &needs.links {
                let info = rows.iter().find(|r| &r.id == id).map(|r| LinkInfo {
                    workspace_id: r.workspace_id.clone(),
                    count: r.click_count,
                    limit: r.click_limit,
                    dirty: false,
                });
                agg.load_link(id, info);
            }
        }
        let needs = self.agg.borrow().needs(batch);
        if !needs.hours.is_empty() {
            let loaded = clicks::hours(&db, shard, &needs.hours).await.map_err(err)?;
            let mut agg = self.agg.borrow_mut();
            for (h, rows) in loaded {
                agg.load_hour(h, &rows);
            }
        }
        let needs = self.agg.borrow().needs(batch);
        if !needs.days.is_empty() {
            let loaded = clicks::day_visitors(&db, &needs.days).await.map_err(err)?;
            let mut agg = self.agg.borrow_mut();
            for (day, v) in needs.days.iter().zip(loaded) {
                agg.load_day(*day, v);
            }
        }
        Ok(())
    }

    /// `POST /record`: answers once the clicks are committed.
    async fn record(self: &Rc<Self>, batch: Vec<ClickEvent>) -> worker::Result<Response> {
        #[cfg(feature = "test-hooks")]
        if crate::faults::fire(&self.env, crate::faults::BEFORE_COMMIT, &batch).await {
            return Response::error("fault injected before the commit", 500);
        }
        #[cfg(feature = "test-hooks")]
        if crate::faults::fire(&self.env, crate::faults::HANG, &batch).await {
            worker::Delay::from(std::time::Duration::from_secs(120)).await;
        }
        let n = batch.len();
        // Only the fault hook reads the clicks after the commit.
        #[cfg(feature = "test-hooks")]
        let kept = batch.clone();
        let wait_ms = self.cfg().analytics_commit_ms;
        let ok = if wait_ms == 0 || n >= GROUP_MAX {
            let me = self.clone();
            self.state
                .block_concurrency_while(async move { Ok(me.commit(batch).await) })
                .await?
                .map_err(|e| console_error!("aggregator: commit failed: {e:?}"))
                .is_ok()
        } else {
            self.group_commit(batch, wait_ms).await
        };
        if !ok {
            return Response::error("commit failed", 500);
        }
        #[cfg(feature = "test-hooks")]
        if crate::faults::fire(&self.env, crate::faults::AFTER_COMMIT, &kept).await {
            return Response::error("fault injected after the commit", 500);
        }
        Response::from_json(&json!({"recorded": n}))
    }

    /// Gathers the calls of `wait_ms` (or `GROUP_MAX` clicks) into one
    /// commit; true when the caller's clicks are committed.
    async fn group_commit(self: &Rc<Self>, batch: Vec<ClickEvent>, wait_ms: u64) -> bool {
        let mine = self.gen.get();
        let (first, full) = {
            let mut p = self.pending.borrow_mut();
            let first = p.is_empty();
            p.extend(batch);
            (first, p.len() >= GROUP_MAX)
        };
        if full {
            self.commit_pending().await;
        } else if first {
            worker::Delay::from(std::time::Duration::from_millis(wait_ms)).await;
            if self.gen.get() == mine {
                self.commit_pending().await;
            }
        }
        std::future::poll_fn(|cx| {
            if self.done_gen.get() > mine {
                return std::task::Poll::Ready(());
            }
            self.waiters.borrow_mut().push(cx.waker().clone());
            std::task::Poll::Pending
        })
        .await;
        !self.failed.borrow().contains(&mine)
    }

    async fn commit_pending(self: &Rc<Self>) {
        let g = self.gen.get();
        self.gen.set(g + 1);
        let batch = std::mem::take(&mut *self.pending.borrow_mut());
        let me = self.clone();
        let r = self
            .state
            .block_concurrency_while(async move { Ok(me.commit(batch).await) })
            .await;
        if !matches!(r, Ok(Ok(()))) {
            console_error!("aggregator: group commit failed");
            self.failed.borrow_mut().insert(g);
        }
        self.done_gen.set(g + 1);
        for w in std::mem::take(&mut *self.waiters.borrow_mut()) {
            w.wake();
        }
    }

    /// One group commit: dedupe, one `log` row, counts in memory, then the
    /// commit's side effects (click limits, webhooks).
    async fn commit(self: &Rc<Self>, batch: Vec<ClickEvent>) -> worker::Result<()> {
        let shard = self.shard.get().ok_or_else(|| err("no shard"))?;
        self.prepare(shard, &batch).await?;
        let cutoff = Self::now() - self.cfg().click_retention_days * DAY_MS;
        let plan = self.agg.borrow().plan(&batch, cutoff);
        if plan.accepted.is_empty() {
            return Ok(());
        }
        let seq = self.agg.borrow().seq + 1;
        let body = Value::Array(plan.accepted.iter().map(|(c, f)| raw_row(c, *f)).collect());
        let slot = self.free_slot();
        self.sql().exec(
            "INSERT INTO log (slot, seq, body) VALUES (?, ?, ?) \
             ON CONFLICT (slot) DO UPDATE SET seq = excluded.seq, body = excluded.body",
            vec![
                SqlStorageValue::from(slot),
                SqlStorageValue::from(seq as i64),
                SqlStorageValue::from(body.to_string()),
            ],
        )?;
        {
            let mut slots = self.slots.borrow_mut();
            slots.retain(|s| s.0 != slot);
            slots.push((slot, seq));
        }
        let reached = self.agg.borrow_mut().apply(seq, &plan.accepted);
        if !self.armed.get() {
            self.arm().await;
        }
        self.hooks
            .borrow_mut()
            .extend(webhook_events(plan.accepted.iter().map(|(c, _)| c)));
        self.closes.borrow_mut().extend(reached);
        self.effects().await;
        Ok(())
    }

    /// A `log` slot whose commit D1 holds, or a new one.
    fn free_slot(&self) -> i64 {
        let flushed = self.agg.borrow().flushed_seq;
        let slots = self.slots.borrow();
        slots
            .iter()
            .find(|s| s.1 <= flushed)
            .map(|s| s.0)
            .unwrap_or_else(|| slots.iter().map(|s| s.0 + 1).max().unwrap_or(0))
    }

    /// The next flush: at the next multiple of the interval (plus a minute
    /// at hourly flushes, for late buffers of the hour that closed).
    async fn arm(&self) {
        let step = self.cfg().analytics_flush_seconds * 1000;
        let now = Self::now();
        let grace = if step >= HOUR_MS { 60_000 } else { 0 };
        let at = now - now.rem_euclid(step) + step + grace;
        match self.state.storage().set_alarm(at - now).await {
            Ok(()) => self.armed.set(true),
            Err(e) => console_error!("aggregator: could not set the alarm: {e:?}"),
        }
    }

    /// Click limits reached and webhook deliveries of past commits.
    async fn effects(&self) {
        let Ok(db) = self.db() else { return };
        let hooks = std::mem::take(&mut *self.hooks.borrow_mut());
        if !hooks.is_empty() {
            if let Err(e) = self.deliver_hooks(&db, &hooks).await {
                console_error!("aggregator: webhook deliveries not created, retried later: {e}");
                self.hooks.borrow_mut().extend(hooks);
            }
        }
        let closes = std::mem::take(&mut *self.closes.borrow_mut());
        let Ok(kv) = self.env.kv("LINKS") else { return };
        for id in closes {
            let count = match self.agg.borrow().links.get(&id) {
                Some(Some(l)) => Some(l.count),
                _ => None,
            };
            if let Err(e) = close_link(&db, &kv, &id, count).await {
                console_error!("aggregator: link {id} at its limit not closed, retried later: {e}");
                self.closes.borrow_mut().insert(id);
            }
        }
    }

    async fn deliver_hooks(&self, db: &worker::D1Database, hooks: &[Value]) -> ApiResult<()> {
        let cfg = self.cfg();
        let ids: Vec<&Value> = hooks.iter().map(|e| &e["id"]).collect();
        let results = db
            .batch(vec![
                webhooks::queue_click_events_stmt(
                    db,
                    &Value::Array(hooks.to_vec()).to_string(),
                    &cfg.short_scheme,
                    Self::now(),
                )?,
                webhooks::unsent_stmt(db, &serde_json::to_string(&ids).unwrap_or_default())?,
            ])
            .await
            .map_err(crate::http::internal("webhook deliveries"))?;
        #[derive(Deserialize)]
        struct IdRow {
            id: String,
        }
        let unsent: Vec<DeliveryId> = results
            .get(1)
            .and_then(|r| r.results::<IdRow>().ok())
            .unwrap_or_default()
            .into_iter()
            .map(|r| DeliveryId::from(r.id))
            .collect();
        crate::webhooks::enqueue(&self.env, &unsent).await;
        Ok(())
    }

    /// Writes everything committed since the last flush to D1.
    async fn flush(self: &Rc<Self>) -> worker::Result<()> {
        let Some(shard) = self.shard.get() else {
            return Ok(());
        };
        self.effects().await;
        if !self.agg.borrow().dirty() {
            return Ok(());
        }
        let plan = self.agg.borrow().flush_plan();
        #[cfg(feature = "test-hooks")]
        let in_plan = self.plan_clicks(&plan);
        #[cfg(feature = "test-hooks")]
        if crate::faults::fire(&self.env, crate::faults::ABORT_BEFORE_FLUSH, &in_plan).await {
            return Err(worker::Error::RustError(ABORT.into()));
        }
        let db = self.db()?;
        let cutoff = Self::now() - self.cfg().click_retention_days * DAY_MS;
        #[allow(unused_mut)]
        let mut stmts = clicks::flush_stmts(&db, shard, &plan, cutoff).map_err(err)?;
        #[cfg(feature = "test-hooks")]
        if crate::faults::fire(&self.env, crate::faults::IN_TX, &in_plan).await {
            stmts.insert(1, clicks::fail_stmt(&db).map_err(err)?);
        }
        clicks::run(&db, stmts).await.map_err(err)?;
        #[cfg(feature = "test-hooks")]
        if crate::faults::fire(&self.env, crate::faults::ABORT_AFTER_FLUSH, &in_plan).await {
            return Err(worker::Error::RustError(ABORT.into()));
        }
        self.set_meta("flushed", plan.seq as i64)?;
        let now = Self::now();
        self.agg
            .borrow_mut()
            .flushed(&plan, now - now.rem_euclid(HOUR_MS) - HOUR_MS);
        if self.agg.borrow().dirty() {
            self.arm().await;
        }
        Ok(())
    }

    /// The clicks a flush writes (for the fault hooks).
    #[cfg(feature = "test-hooks")]
    fn plan_clicks(&self, plan: &edgelink_core::aggregate::FlushPlan) -> Vec<ClickEvent> {
        plan.parts
            .iter()
            .flat_map(|p| serde_json::from_str::<Vec<Value>>(&p.2).unwrap_or_default())
            .filter_map(|r| from_raw_row(&r).map(|(c, _)| c))
            .collect()
    }
}

/// The webhook events of newly counted clicks, as the JSON rows
/// `queue_click_events_stmt` reads: `{"id", "link", "event", "payload"}`.
fn webhook_events<'a>(clicks: impl Iterator<Item = &'a ClickEvent>) -> Vec<Value> {
    use edgelink_core::webhooks::{click_data, click_events, payload_value};
    clicks
        .flat_map(|c| {
            click_events(c).into_iter().map(move |(id, event)| {
                json!({
                    "id": id,
                    "link": c.link_id.as_str(),
                    "event": event,
                    "payload": payload_value(&id, event, c.ts, click_data(c)),
                })
            })
        })
        .collect()
}

/// Rewrites the KV record of a link that reached its click limit (with
/// the object's count, ahead of D1's), so the next redirect answers 410.
async fn close_link(
    db: &worker::D1Database,
    kv: &worker::KvStore,
    id: &str,
    count: Option<i64>,
) -> ApiResult<()> {
    if let Some(mut link) = links::get_any(db, id).await? {
        link.click_count = link.click_count.max(count.unwrap_or(0));
        if link.record().limit_reached {
            records::put(kv, &link).await?;
        }
    }
    Ok(())
}
