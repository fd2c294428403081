#!/usr/bin/env node
// What a click costs (issue #13), measured from outside the code.
//
// A realistic mix of clicks goes through the REAL built worker in Miniflare
// (the redirect, then the Queue consumer into D1). Nothing in the Rust code
// is changed or instrumented: a small JS entry module (`meter.mjs`, below)
// sits between the runtime and the build's own entry module and hands the
// worker wrapped bindings that count what they are asked to do:
//   - Workers requests: every fetch / queue / scheduled invocation;
//   - KV: reads (get, getWithMetadata) and writes (put, delete);
//   - Queue: messages sent (one write operation per started 64 KB, body
//     JSON + ~100 B metadata), each delivery to the consumer (one read),
//     each message acknowledged (one delete), retries;
//   - D1: `rows_read` / `rows_written` from D1's own `meta` of every
//     statement (`first()` is answered through `all()` so its meta is seen),
//     per invocation kind and per SQL statement;
//   - Durable Object requests and Analytics Engine data points: any binding
//     of those kinds would be counted; today's build has none (0).
// Bytes stored per retained click come from D1's `meta.size_after` (the
// database file size) before and after the clicks, and from SQLite's
// `dbstat` table per table/index when the local D1 has it.
//
// Traffic: COST_LINKS links in COST_WORKSPACES workspaces with Zipf-like
// popularity (exponent COST_ZIPF), 24 countries, real browser/OS/device UA
// strings, referrers, ~7 % QR scans, a visitor pool with repeat visitors
// (same IP + UA, often the same link), ~5 % bots (crawler UAs, curl).
//
// Shapes (COST_SHAPES, default "busy,sparse"):
//   busy:   COST_CONCURRENCY (64) clicks in flight at once in one isolate,
//           hot-link cache on (HOT_CACHE_TTL_SECONDS=5, the production
//           default), click batching at its default 20 ms: one sendBatch
//           carries every click of a flush window. This is a viral link or
//           a busy PoP: many clicks per isolate per 20 ms.
//   sparse: one click at a time, the next sent CLICK_BATCH_MS + 15 ms after
//           the previous answer, so each click is alone in its isolate's
//           flush window (one Queue message per sendBatch), and the hot
//           cache off (HOT_CACHE_TTL_SECONDS=0): every click pays its KV
//           read. This is production for most links: Cloudflare spreads
//           traffic over many isolates in many locations, so an isolate
//           rarely sees a second click of the same link within 20 ms or
//           within the cache TTL. The consumer keeps the production
//           settings (batches of up to 100, 1 s timeout), so its batches
//           hold what the whole deployment sends in a second (here ~25).
//   trickle (optional): sparse, and the consumer takes one message per
//           batch: a small deployment (the Free plan's 100,000 clicks a
//           day are ~1.2 a second, so its consumer batches hold 1 or 2).
//
// Designs (COST_DESIGNS or --designs): comma-separated `label=builddir`
// (vars after a colon: `label=dir:VAR=1;VAR2=x`). Default `today=build`.
// Every design runs every shape in the same run and prints as one column,
// so a later design prints next to today's.
//
// Prices (USD, Workers Paid, beyond the included usage) and Free-plan daily
// limits: see PRICES / FREE below, with their sources and the date read.
//
// Run after `bash scripts/build-worker.sh`:
//   node scripts/bench-cost.mjs            (3,000 clicks per shape)
//   COST_CLICKS=300 node scripts/bench-cost.mjs --designs today=build
import path from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync, readFileSync } from "node:fs";
import { startWorker } from "../tests/helpers.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);

const env = process.env;
const argDesigns = (() => {
  const i = process.argv.indexOf("--designs");
  if (i >= 0) return process.argv[i + 1];
  const a = process.argv.find((x) => x.startsWith("--designs="));
  return a ? a.slice("--designs=".length) : undefined;
})();
const CLICKS = Number(env.COST_CLICKS ?? 3000);
const LINKS = Number(env.COST_LINKS ?? 400);
const WORKSPACES = Number(env.COST_WORKSPACES ?? 4);
const ZIPF = Number(env.COST_ZIPF ?? 1.0);
const CONCURRENCY = Number(env.COST_CONCURRENCY ?? 64);
const BOT_SHARE = Number(env.COST_BOTS ?? 0.05);
const SEED = Number(env.COST_SEED ?? 13);
const SHAPES = (env.COST_SHAPES ?? "busy,sparse").split(",").map((s) => s.trim()).filter(Boolean);
// The aggregator keeps its production group commit (15 s); its D1 flush
// runs every COST_FLUSH_SECONDS (default 120) instead of hourly so that a
// run ends with its clicks in D1: a run of 3,000 clicks flushes once or
// twice, where production flushes an hour of clicks at once, so the
// per-flush rows (one link_totals row per bucket touched, the changed block
// parts, the watermark) weigh more here than in production (the
// conservative side).
const AGGREGATOR_VARS = { ANALYTICS_COMMIT_MS: "15000", ANALYTICS_FLUSH_SECONDS: String(env.COST_FLUSH_SECONDS ?? 120) };
const DESIGNS = (argDesigns ?? env.COST_DESIGNS ?? "today=build").split(",").map((d) => {
  const [label, rest = "build"] = d.split("=", 2).length === 2 ? [d.slice(0, d.indexOf("=")), d.slice(d.indexOf("=") + 1)] : [d, "build"];
  const [dir, varList = ""] = rest.split(":");
  const vars = Object.fromEntries(varList.split(";").filter(Boolean).map((kv) => kv.split("=")));
  const abs = path.resolve(root, dir);
  // The design's own schema: migrations/ next to its build directory.
  const migrations = existsSync(path.join(abs, "..", "migrations")) ? path.join(abs, "..", "migrations") : undefined;
  const hasAggregator = existsSync(path.join(abs, "index.js")) && readFileSync(path.join(abs, "index.js"), "utf8").includes("ClickAggregator");
  return { label, dir: abs, vars: { ...AGGREGATOR_VARS, ...vars }, migrations, hasAggregator };
});
const CLICK_BATCH_MS = 20; // the redirect's default flush window

// ---------------------------------------------------------------------------
// Published prices and Free-plan limits. Read 2026-12-02 from Cloudflare's
// docs (developers.cloudflare.com; the same text is in the cloudflare-docs
// repository): workers/platform/pricing, d1/platform/pricing (partial
// d1-pricing), queues/platform/pricing (partial queues_pricing),
// durable-objects/platform/pricing (partial durable-objects-pricing),
// kv/platform/pricing (partial kv_pricing), analytics/analytics-engine/pricing,
// workers/platform/limits, kv/platform/limits.
export const PRICES_DATE = "2026-12-02";
export const PRICES = {
  workersRequest: 0.3 / 1e6, // $0.30 per million beyond 10M/month
  d1RowWritten: 1.0 / 1e6, // $1.00 per million beyond 50M/month
  d1RowRead: 0.001 / 1e6, // $0.001 per million beyond 25B/month
  d1StorageGbMonth: 0.75, // beyond 5 GB
  queueOperation: 0.4 / 1e6, // per 64 KB written, read or deleted, beyond 1M/month
  doRequest: 0.15 / 1e6, // beyond 1M/month; plus duration $12.50/M GB-s (not measured here)
  doRowWritten: 1.0 / 1e6, // SQLite-backed DO storage, same as D1
  doRowRead: 0.001 / 1e6,
  kvRead: 0.5 / 1e6, // beyond 10M/month
  kvWrite: 5.0 / 1e6, // beyond 1M/month
  aeDataPoint: 0.25 / 1e6, // beyond 10M/month
};
export const FREE = {
  workersRequests: { perDay: 100_000, name: "Workers requests (100,000/day)" },
  queueOperations: { perDay: 10_000, name: "Queue operations (10,000/day)" },
  d1RowsWritten: { perDay: 100_000, name: "D1 rows written (100,000/day)" },
  d1RowsRead: { perDay: 5_000_000, name: "D1 rows read (5,000,000/day)" },
  kvReads: { perDay: 100_000, name: "KV reads (100,000/day)" },
  kvWrites: { perDay: 1_000, name: "KV writes (1,000/day)" },
  doRequests: { perDay: 100_000, name: "Durable Object requests (100,000/day)" },
  doRowsWritten: { perDay: 100_000, name: "Durable Object rows written (100,000/day)" },
  aeDataPoints: { perDay: 100_000, name: "Analytics Engine data points (100,000/day)" },
};
// The webhook sweep cron (`* * * * *` in wrangler.toml) spends 1,440
// Workers requests a day whatever the traffic.
const CRON_REQUESTS_PER_DAY = 1440;
const D1_FREE_DB_BYTES = 500e6; // Free: 500 MB per database
const RETENTION_DAYS = 90; // CLICK_RETENTION_DAYS default

// ---------------------------------------------------------------------------
// The metering entry module. It imports the build's own entry (index.js) and
// calls it with wrapped bindings; /__meter answers the counters.
const METER_JS = String.raw`
import Inner, * as All from "./index.js";

const M = {};
const CURSORS = [];
function reset() {
  M.invocations = { fetch: 0, queue: 0, scheduled: 0 };
  M.kv = { reads: 0, writes: 0, deletes: 0, lists: 0 };
  M.queue = { sendCalls: 0, messagesSent: 0, writeOps: 0, bytesSent: 0, deliveries: 0, readOps: 0, acked: 0, deleteOps: 0, retried: 0, consumerErrors: 0 };
  M.d1 = {
    fetch: { statements: 0, rowsRead: 0, rowsWritten: 0, noMeta: 0 },
    queue: { statements: 0, rowsRead: 0, rowsWritten: 0, noMeta: 0 },
    scheduled: { statements: 0, rowsRead: 0, rowsWritten: 0, noMeta: 0 },
    do: { statements: 0, rowsRead: 0, rowsWritten: 0, noMeta: 0 },
    bySql: {},
  };
  // requests: calls to a stub (fetch); alarms: alarm invocations (billed
  // as requests too); sql: the objects' own SQLite statements and rows
  // (from each cursor's rowsRead / rowsWritten, read when metered).
  M.durableObjects = { requests: 0, alarms: 0, setAlarms: 0, sql: { statements: 0, rowsRead: 0, rowsWritten: 0 } };
  CURSORS.length = 0;
  M.analyticsEngine = { dataPoints: 0 };
}
reset();

const OVERHEAD = 100; // bytes of internal metadata per Queue message
const chunks = (bytes) => Math.max(1, Math.ceil((bytes + OVERHEAD) / 64000));
const sizeOf = (body) => {
  try { return new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body)).length; } catch { return 0; }
};

function addMeta(kind, sql, meta) {
  const b = M.d1[kind];
  b.statements += 1;
  const key = sql.replace(/\s+/g, " ").trim().slice(0, 90);
  const s = (M.d1.bySql[key] ??= { kind, n: 0, rowsRead: 0, rowsWritten: 0 });
  s.n += 1;
  if (!meta) { b.noMeta += 1; return; }
  b.rowsRead += meta.rows_read ?? 0;
  b.rowsWritten += meta.rows_written ?? 0;
  s.rowsRead += meta.rows_read ?? 0;
  s.rowsWritten += meta.rows_written ?? 0;
}

// workers-rs checks the constructor name of D1 and Queue bindings, so the
// wrappers carry the runtime's class names.
class D1PreparedStatement {
  constructor(real, sql, kind) { this.real = real; this.sql = sql; this.kind = kind; }
  bind(...args) { return new D1PreparedStatement(this.real.bind(...args), this.sql, this.kind); }
  async first(col) {
    const r = await this.real.all();
    addMeta(this.kind, this.sql, r.meta);
    const row = r.results?.[0];
    if (row === undefined) return null;
    return col === undefined || col === null ? row : row[col] ?? null;
  }
  async run() { const r = await this.real.run(); addMeta(this.kind, this.sql, r.meta); return r; }
  async all() { const r = await this.real.all(); addMeta(this.kind, this.sql, r.meta); return r; }
  async raw(opts) { const r = await this.real.raw(opts); addMeta(this.kind, this.sql, null); return r; }
}
class D1Database {
  constructor(real, kind) { this.real = real; this.kind = kind; }
  prepare(sql) { return new D1PreparedStatement(this.real.prepare(sql), sql, this.kind); }
  async batch(stmts) {
    const res = await this.real.batch(stmts.map((s) => s.real ?? s));
    res.forEach((r, i) => addMeta(this.kind, stmts[i].sql ?? "?", r.meta));
    return res;
  }
  async exec(sql) { const r = await this.real.exec(sql); addMeta(this.kind, sql, null); return r; }
  dump() { return this.real.dump(); }
}
class WorkerQueue {
  constructor(real) { this.real = real; }
  async send(body, opts) {
    const n = sizeOf(body);
    M.queue.sendCalls += 1; M.queue.messagesSent += 1; M.queue.bytesSent += n; M.queue.writeOps += chunks(n);
    return this.real.send(body, opts);
  }
  async sendBatch(msgs, opts) {
    M.queue.sendCalls += 1;
    for (const m of msgs) {
      const n = sizeOf(m.body);
      M.queue.messagesSent += 1; M.queue.bytesSent += n; M.queue.writeOps += chunks(n);
    }
    return this.real.sendBatch(msgs, opts);
  }
}
function wrapKv(real) {
  return {
    get: (...a) => { M.kv.reads += 1; return real.get(...a); },
    getWithMetadata: (...a) => { M.kv.reads += 1; return real.getWithMetadata(...a); },
    put: (...a) => { M.kv.writes += 1; return real.put(...a); },
    delete: (...a) => { M.kv.deletes += 1; return real.delete(...a); },
    list: (...a) => { M.kv.lists += 1; return real.list(...a); },
  };
}
function wrapEnv(env, kind) {
  const out = {};
  for (const [k, v] of Object.entries(env)) {
    const ctor = v?.constructor?.name;
    if (ctor === "D1Database" || ctor === "BetaDatabase") out[k] = new D1Database(v, kind);
    else if (ctor === "WorkerQueue") out[k] = new WorkerQueue(v);
    else if (ctor === "KvNamespace") out[k] = wrapKv(v);
    else if (ctor === "DurableObjectNamespace") out[k] = new Proxy(v, { get(t, p) {
      const f = Reflect.get(t, p);
      if (p === "constructor") return f;
      if (p !== "get") return typeof f === "function" ? f.bind(t) : f;
      return (...a) => new Proxy(t.get(...a), { get(s, q) {
        const g = Reflect.get(s, q);
        return typeof g === "function" ? (...b) => { M.durableObjects.requests += 1; return g.apply(s, b); } : g;
      } });
    } });
    else if (ctor === "AnalyticsEngineDataset") out[k] = { writeDataPoint: (p) => { M.analyticsEngine.dataPoints += 1; return v.writeDataPoint(p); } };
    else out[k] = v;
  }
  return out;
}
// The object's state with its SQL storage metered: every cursor is kept and
// its rows read / written summed when the meter is read (a cursor counts
// rows as it is consumed).
function bindAll(t, f) { return typeof f === "function" ? f.bind(t) : f; }
function wrapState(state) {
  const sql = (real) => new Proxy(real, { get(t, p) {
    if (p !== "exec") return bindAll(t, Reflect.get(t, p));
    return (...a) => { const c = t.exec(...a); M.durableObjects.sql.statements += 1; CURSORS.push(c); return c; };
  } });
  const storage = (real) => new Proxy(real, { get(t, p) {
    if (p === "sql") return sql(t.sql);
    // setAlarm is billed as a row written.
    if (p === "setAlarm") return (...a) => { M.durableObjects.sql.rowsWritten += 0; M.durableObjects.setAlarms += 1; return t.setAlarm(...a); };
    return bindAll(t, Reflect.get(t, p));
  } });
  return new Proxy(state, { get(t, p) {
    if (p === "storage") return storage(t.storage);
    return bindAll(t, Reflect.get(t, p));
  } });
}
function doSqlTotals() {
  let r = 0, w = 0;
  for (const c of CURSORS) { r += c.rowsRead ?? 0; w += c.rowsWritten ?? 0; }
  M.durableObjects.sql.rowsRead = r;
  M.durableObjects.sql.rowsWritten = w;
}
export class ClickAggregator {
  constructor(state, env) { this.inner = new All.ClickAggregator(wrapState(state), wrapEnv(env, "do")); }
  fetch(req) { return this.inner.fetch(req); }
  alarm(info) { M.durableObjects.alarms += 1; return this.inner.alarm(info); }
}

function invoke(method, arg, env, ctx, kind) {
  const wenv = wrapEnv(env, kind);
  if (typeof Inner === "function") return new Inner(ctx, wenv)[method](arg);
  return Inner[method](arg, wenv, ctx);
}

export default {
  async fetch(request, env, ctx) {
    const u = new URL(request.url);
    if (u.pathname === "/__meter") { doSqlTotals(); return Response.json(M); }
    if (u.pathname === "/__meter/reset") { reset(); return new Response("reset"); }
    M.invocations.fetch += 1;
    return invoke("fetch", request, env, ctx, "fetch");
  },
  async queue(batch, env, ctx) {
    M.invocations.queue += 1;
    const state = new Map();
    const messages = batch.messages.map((m) => {
      M.queue.deliveries += 1;
      M.queue.readOps += chunks(sizeOf(m.body));
      state.set(m, "none");
      return {
        get id() { return m.id; },
        get timestamp() { return m.timestamp; },
        get body() { return m.body; },
        get attempts() { return m.attempts; },
        ack() { state.set(m, "ack"); return m.ack(); },
        retry(o) { state.set(m, "retry"); return m.retry(o); },
      };
    });
    const wrapped = {
      get queue() { return batch.queue; },
      messages,
      ackAll() { for (const m of batch.messages) state.set(m, "ack"); return batch.ackAll(); },
      retryAll(o) { for (const m of batch.messages) state.set(m, "retry"); return batch.retryAll(o); },
    };
    let ok = true;
    try {
      return await invoke("queue", wrapped, env, ctx, "queue");
    } catch (e) {
      ok = false;
      M.queue.consumerErrors += 1;
      throw e;
    } finally {
      // An explicit ack/retry decides; otherwise the runtime acks every
      // message of a successful run and retries them after a failed one.
      for (const [m, s] of state) {
        if (s === "ack" || (s === "none" && ok)) { M.queue.acked += 1; M.queue.deleteOps += chunks(sizeOf(m.body)); }
        else M.queue.retried += 1;
      }
    }
  },
  async scheduled(event, env, ctx) {
    M.invocations.scheduled += 1;
    return invoke("scheduled", event, env, ctx, "scheduled");
  },
};
`;

// ---------------------------------------------------------------------------
// Deterministic randomness and the traffic mix.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}
function weighted(rand, items) {
  const total = items.reduce((a, [, w]) => a + w, 0);
  let x = rand() * total;
  for (const [v, w] of items) {
    if ((x -= w) < 0) return v;
  }
  return items[items.length - 1][0];
}

const COUNTRIES = [["US", 28], ["IN", 9], ["DE", 6], ["GB", 6], ["BR", 6], ["FR", 4], ["JP", 4], ["CA", 4], ["ID", 3], ["MX", 3], ["ES", 3], ["IT", 3], ["AU", 2], ["NL", 2], ["PL", 2], ["TR", 2], ["KR", 2], ["PH", 2], ["NG", 2], ["VN", 2], ["SE", 1], ["AR", 1], ["ZA", 1], ["CN", 2]];
const HUMAN_UAS = [
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 24],
  ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", 22],
  ["Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36", 18],
  ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", 9],
  ["Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", 6],
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67", 6],
  ["Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", 4],
  ["Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", 3],
  ["Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Safari/537.36", 2],
  ["Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 2],
  ["Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", 2],
  ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0", 2],
];
const BOT_UAS = [
  ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 3],
  ["Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36", 2],
  ["facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", 2],
  ["Twitterbot/1.0", 1],
  ["curl/8.5.0", 1],
  ["Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", 1],
];
const REFERRERS = [["", 38], ["https://www.google.com/", 12], ["https://t.co/abc", 9], ["https://www.facebook.com/", 7], ["https://l.instagram.com/", 6], ["https://www.reddit.com/r/x", 5], ["https://www.linkedin.com/feed/", 5], ["https://news.ycombinator.com/item?id=1", 3], ["https://www.youtube.com/", 3], ["https://duckduckgo.com/", 2], ["https://www.bing.com/", 2], ["https://mail.google.com/", 2], ["https://github.com/o/r", 2], ["https://bsky.app/profile/x", 1], ["https://substack.com/", 1], ["https://discord.com/", 1]];

/** The clicks of one shape, as request descriptions (same seed → same mix). */
function traffic(links, n, seed) {
  const rand = rng(seed);
  // Zipf-like popularity: weight 1 / rank^s, ranks shuffled over links.
  const order = links.map((l, i) => [l, rand(), i]).sort((a, b) => a[1] - b[1]).map(([l]) => l);
  const zipf = order.map((l, r) => [l, 1 / Math.pow(r + 1, ZIPF)]);
  const visitors = [];
  const out = [];
  for (let i = 0; i < n; i++) {
    if (rand() < BOT_SHARE) {
      const ua = weighted(rand, BOT_UAS);
      const ip = `198.51.100.${1 + Math.floor(rand() * 250)}`;
      out.push({ link: weighted(rand, zipf), ua, ip, country: "US", referer: "", qr: false, bot: true });
      continue;
    }
    let v;
    if (visitors.length > 20 && rand() < 0.35) {
      // A returning visitor, the recent ones more likely; half the time
      // back on a link they clicked before.
      v = visitors[visitors.length - 1 - Math.floor(Math.pow(rand(), 2) * visitors.length)];
    } else {
      const k = visitors.length;
      v = {
        ip: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`,
        ua: weighted(rand, HUMAN_UAS),
        country: weighted(rand, COUNTRIES),
        links: [],
      };
      visitors.push(v);
    }
    const link = v.links.length && rand() < 0.5 ? v.links[Math.floor(rand() * v.links.length)] : weighted(rand, zipf);
    v.links.push(link);
    out.push({ link, ua: v.ua, ip: v.ip, country: v.country, referer: weighted(rand, REFERRERS), qr: rand() < 0.07, bot: false });
  }
  return out;
}

// ---------------------------------------------------------------------------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function meter(w) {
  const r = await w.fetch("/__meter");
  return r.json();
}

async function dbSize(w) {
  const r = await w.db.prepare("SELECT 1").run();
  return r.meta?.size_after ?? null;
}

// Payload bytes and rows per analytics table (the local D1 has no `dbstat`):
// SUM(length(column)) over every column, an estimate of the row bytes
// without SQLite's per-row and per-page overhead and without indexes (the
// file growth from `size_after` includes both).
const ANALYTICS_TABLES = ["clicks", "click_visitors", "click_rollup_hour", "click_rollup_day", "click_hours", "analytics_flush"];
async function tableBytes(w) {
  const out = {};
  const { results } = await w.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
  const have = new Set(results.map((r) => r.name));
  for (const t of ANALYTICS_TABLES.filter((t) => have.has(t))) {
    const cols = (await w.db.prepare(`PRAGMA table_info(${t})`).all()).results.map((c) => c.name);
    const sum = cols.map((c) => `COALESCE(length("${c}"), 0)`).join(" + ");
    const r = await w.db.prepare(`SELECT COUNT(*) AS n, COALESCE(SUM(${sum}), 0) AS bytes FROM ${t}`).first();
    out[t] = { rows: r.n, bytes: r.bytes };
  }
  return out;
}

async function runShape(design, shape) {
  const sparse = shape !== "busy";
  const vars = {
    HOT_CACHE_TTL_SECONDS: sparse ? "0" : "5",
    CLICK_RETENTION_DAYS: String(RETENTION_DAYS),
    ...design.vars,
  };
  const w = await startWorker({
    vars,
    migrations: design.migrations,
    configure: (main) => {
      const dir = design.dir;
      const modules = [
        { type: "ESModule", path: path.join(dir, "meter.mjs"), contents: METER_JS },
        ...main.modules.map((m) => ({ ...m, path: path.join(dir, path.basename(m.path)) })),
      ];
      const out = { modules, modulesRoot: dir };
      // A build from before the click aggregator has no such class.
      if (!design.hasAggregator) out.durableObjects = {};
      if (shape === "trickle") {
        out.queueConsumers = { ...main.queueConsumers, "edgelink-events": { maxBatchSize: 1, maxBatchTimeout: 1, maxRetries: 3 } };
      }
      return out;
    },
  });
  try {
    // Setup (not metered): workspaces, links.
    const links = [];
    for (let k = 0; k < WORKSPACES; k++) {
      const { key } = await w.workspace(`Cost ${k}`, "business");
      const per = Math.ceil(LINKS / WORKSPACES);
      for (let i = 0; i < per && links.length < LINKS; i++) {
        const r = await w.api("POST", "/api/v1/links", { key, body: { destinationUrl: `https://example.com/${k}/${i}?ref=cost` } });
        if (r.status !== 201) throw new Error(`link create: ${r.status} ${r.text}`);
        links.push({ id: r.body.data.id, slug: r.body.data.slug ?? r.body.data.shortCode ?? r.body.data.key, shortUrl: r.body.data.shortUrl });
      }
    }
    // Let setup's own Queue/consumer activity (none expected) settle.
    await sleep(300);
    const sizeBefore = await dbSize(w);
    const tablesBefore = await tableBytes(w);
    await w.fetch("/__meter/reset");

    const clicks = traffic(links, CLICKS, SEED);
    const humans = clicks.filter((c) => !c.bot).length;
    const one = async (c) => {
      const url = new URL(c.link.shortUrl);
      const res = await w.fetch(`${url.pathname}${c.qr ? "?qr=1" : ""}`, {
        headers: { "User-Agent": c.ua, "CF-Connecting-IP": c.ip, ...(c.referer ? { Referer: c.referer } : {}) },
        cf: { country: c.country },
      });
      await res.arrayBuffer();
      if (res.status !== 302) throw new Error(`redirect answered ${res.status} for ${url.pathname}`);
    };
    const t0 = performance.now();
    if (sparse) {
      for (const c of clicks) {
        await one(c);
        await sleep(CLICK_BATCH_MS + 15);
      }
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < clicks.length) await one(clicks[next++]);
        }),
      );
    }
    const sendMs = performance.now() - t0;

    // Drain: every sent message delivered and acknowledged, and every
    // human click counted in D1 (the aggregator's flush), then quiet.
    let m;
    const end = Date.now() + 240_000;
    // Counts live in link_totals (read through links_counted) since 0006;
    // an older design's schema has only links.click_count.
    const packed = await w.db.prepare("SELECT 1 AS y FROM sqlite_master WHERE name = 'links_counted'").first();
    const countSql = packed
      ? "SELECT COALESCE(SUM(counted), 0) AS n FROM links_counted"
      : "SELECT COALESCE(SUM(click_count), 0) AS n FROM links";
    const countedNow = async () => (await w.db.prepare(countSql).first()).n;
    for (;;) {
      m = await meter(w);
      const q = m.queue;
      if (q.acked >= q.messagesSent && (await countedNow()) >= humans) break;
      if (Date.now() > end) throw new Error(`drain timed out: ${JSON.stringify(q)}, counted ${await countedNow()} of ${humans}`);
      await sleep(500);
    }
    await sleep(1500);
    m = await meter(w);

    const counted = await countedNow();
    const stored = (await w.db.prepare("SELECT COUNT(*) AS n FROM clicks").first()).n;
    const sizeAfter = await dbSize(w);
    const tablesAfter = await tableBytes(w);
    return { design: design.label, shape, clicks: CLICKS, humans, counted, stored, sendMs, m, sizeBefore, sizeAfter, tablesBefore, tablesAfter };
  } finally {
    await w.close();
  }
}

// ---------------------------------------------------------------------------
// Per-click units, dollars and Free-plan capacity.
function units(r) {
  const { m, clicks } = r;
  const q = m.queue;
  const d1 = m.d1;
  const b = (k) => d1[k] ?? { rowsRead: 0, rowsWritten: 0 };
  const rowsWritten = b("fetch").rowsWritten + b("queue").rowsWritten + b("scheduled").rowsWritten + b("do").rowsWritten;
  const rowsRead = b("fetch").rowsRead + b("queue").rowsRead + b("scheduled").rowsRead + b("do").rowsRead;
  const dos = m.durableObjects;
  const bytes = r.sizeAfter != null && r.sizeBefore != null ? r.sizeAfter - r.sizeBefore : null;
  return {
    workersRequests: (m.invocations.fetch + m.invocations.queue + m.invocations.scheduled) / clicks,
    redirectRequests: m.invocations.fetch / clicks,
    consumerRequests: m.invocations.queue / clicks,
    doRequests: (dos.requests + (dos.alarms ?? 0)) / clicks,
    doRowsWritten: ((dos.sql?.rowsWritten ?? 0) + (dos.setAlarms ?? 0)) / clicks,
    doRowsRead: (dos.sql?.rowsRead ?? 0) / clicks,
    kvReads: m.kv.reads / clicks,
    kvWrites: (m.kv.writes + m.kv.deletes) / clicks,
    queueMessages: q.messagesSent / clicks,
    queueSendCalls: q.sendCalls / clicks,
    queueOps: (q.writeOps + q.readOps + q.deleteOps) / clicks,
    d1RowsWritten: rowsWritten / clicks,
    d1RowsRead: rowsRead / clicks,
    aeDataPoints: m.analyticsEngine.dataPoints / clicks,
    bytesPerRetainedClick: bytes != null && r.counted > 0 ? bytes / r.counted : null,
    msgsPerConsumerBatch: m.invocations.queue ? q.deliveries / m.invocations.queue : 0,
    bytesPerMessage: q.messagesSent ? q.bytesSent / q.messagesSent : 0,
  };
}

function dollarsPerMillion(u) {
  const P = PRICES;
  const parts = {
    redirect: u.redirectRequests * P.workersRequest,
    consumer: u.consumerRequests * P.workersRequest,
    kv: u.kvReads * P.kvRead + u.kvWrites * P.kvWrite,
    queue: u.queueOps * P.queueOperation,
    d1Written: u.d1RowsWritten * P.d1RowWritten,
    d1Read: u.d1RowsRead * P.d1RowRead,
    durableObjects: u.doRequests * P.doRequest + u.doRowsWritten * P.doRowWritten + u.doRowsRead * P.doRowRead,
    analyticsEngine: u.aeDataPoints * P.aeDataPoint,
  };
  const m = (x) => x * 1e6;
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  // "Analytics": everything a click costs after its redirect answered:
  // the Queue, the consumer's invocations and D1 (the KV read and the
  // redirect request are the redirect's own).
  const analytics = parts.consumer + parts.queue + parts.d1Written + parts.d1Read + parts.durableObjects + parts.analyticsEngine;
  const storageMonth = u.bytesPerRetainedClick != null ? (u.bytesPerRetainedClick * 1e6 / 1e9) * PRICES.d1StorageGbMonth : null;
  return { total: m(total), analytics: m(analytics), parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, m(v)])), storageMonth };
}

function freePlan(u) {
  const rows = [
    ["workersRequests", u.workersRequests, CRON_REQUESTS_PER_DAY],
    ["queueOperations", u.queueOps, 0],
    ["d1RowsWritten", u.d1RowsWritten, 0],
    ["d1RowsRead", u.d1RowsRead, 0],
    ["kvReads", u.kvReads, 0],
    ["kvWrites", u.kvWrites, 0],
    ["doRequests", u.doRequests, 0],
    ["doRowsWritten", u.doRowsWritten, 0],
    ["aeDataPoints", u.aeDataPoints, 0],
  ];
  const caps = rows
    .filter(([, per]) => per > 0)
    .map(([k, per, fixed]) => ({ key: k, name: FREE[k].name, clicksPerDay: Math.floor((FREE[k].perDay - fixed) / per) }))
    .sort((a, b) => a.clicksPerDay - b.clicksPerDay);
  // Analytics alone (what the issue's target is about): the same limits
  // without the redirect's own request and KV read.
  const analyticsCaps = caps.filter((c) => !["workersRequests", "kvReads"].includes(c.key));
  return { first: caps[0], second: caps[1], caps, firstAnalytics: analyticsCaps[0] };
}

// ---------------------------------------------------------------------------
const fmt = (x, d = 2) => (x == null ? "-" : Number(x).toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));
const int = (x) => (x == null ? "-" : Math.round(x).toLocaleString("en-US"));

function printTable(results) {
  const cols = results.map((r) => ({ r, u: units(r) }));
  cols.forEach((c) => { c.d = dollarsPerMillion(c.u); c.f = freePlan(c.u); });
  const head = ["per click", ...cols.map((c) => `${c.r.design} · ${c.r.shape}`)];
  const rows = [
    ["Workers requests (redirect + consumer)", (c) => `${fmt(c.u.workersRequests, 3)} (${fmt(c.u.redirectRequests, 0)} + ${fmt(c.u.consumerRequests, 3)})`],
    ["Durable Object requests (calls + alarms)", (c) => fmt(c.u.doRequests, 3)],
    ["Durable Object SQLite rows written / read", (c) => `${fmt(c.u.doRowsWritten, 3)} / ${fmt(c.u.doRowsRead, 2)}`],
    ["KV reads", (c) => fmt(c.u.kvReads, 3)],
    ["Queue messages (sendBatch calls)", (c) => `${fmt(c.u.queueMessages, 2)} (${fmt(c.u.queueSendCalls, 3)})`],
    ["Queue operations (write+read+delete)", (c) => fmt(c.u.queueOps, 2)],
    ["D1 rows written", (c) => fmt(c.u.d1RowsWritten, c.u.d1RowsWritten < 1 ? 3 : 1)],
    ["D1 rows read", (c) => fmt(c.u.d1RowsRead, 1)],
    ["Analytics Engine data points", (c) => fmt(c.u.aeDataPoints, 2)],
    ["bytes stored per retained click", (c) => int(c.u.bytesPerRetainedClick)],
    ["$ per million clicks, all", (c) => `$${fmt(c.d.total, 2)}`],
    ["$ per million clicks, analytics only", (c) => `$${fmt(c.d.analytics, 2)}`],
    ["$ storage per million clicks kept a month", (c) => (c.d.storageMonth == null ? "-" : `$${fmt(c.d.storageMonth, 3)}`)],
    ["Free plan: clicks/day until first limit", (c) => `${int(c.f.first.clicksPerDay)}: ${c.f.first.name}`],
    ["  then", (c) => (c.f.second ? `${int(c.f.second.clicksPerDay)}: ${c.f.second.name}` : "-")],
  ];
  console.log(`| ${head.join(" | ")} |`);
  console.log(`|${head.map(() => "---").join("|")}|`);
  for (const [label, f] of rows) console.log(`| ${label} | ${cols.map(f).join(" | ")} |`);
  return cols;
}

function printDetails(cols) {
  for (const c of cols) {
    const { r, u } = c;
    const q = r.m.queue;
    console.log(`\n  ${r.design} · ${r.shape}: ${r.clicks} clicks (${r.humans} human, ${r.clicks - r.humans} bots) in ${(r.sendMs / 1000).toFixed(1)} s; ` +
      `counted ${r.counted}, raw rows ${r.stored}; consumer: ${r.m.invocations.queue} batches of ${fmt(u.msgsPerConsumerBatch, 1)} messages, ` +
      `${q.retried} retried, ${q.consumerErrors} failed runs; ${fmt(u.bytesPerMessage, 0)} B per message; ` +
      `D1 ${r.sizeBefore ?? "?"} → ${r.sizeAfter ?? "?"} bytes; D1 statements without meta: ${r.m.d1.queue.noMeta + r.m.d1.fetch.noMeta}; ` +
      `D1 from the redirect: ${r.m.d1.fetch.rowsWritten} rows written, ${r.m.d1.fetch.rowsRead} read; ` +
      `DO: ${r.m.durableObjects.requests} calls, ${r.m.durableObjects.alarms ?? 0} alarms, ${r.m.durableObjects.sql?.statements ?? 0} SQL statements`);
    const top = Object.entries(r.m.d1.bySql).sort((a, b) => b[1].rowsWritten - a[1].rowsWritten || b[1].rowsRead - a[1].rowsRead);
    console.log("    D1 per click, by statement (rows written / rows read):");
    for (const [sql, s] of top) {
      if (!s.rowsWritten && !s.rowsRead) continue;
      console.log(`      ${fmt(s.rowsWritten / r.clicks, 2).padStart(6)} / ${fmt(s.rowsRead / r.clicks, 2).padStart(6)}  ${s.kind}: ${sql}`);
    }
    if (r.tablesAfter) {
      const per = Object.entries(r.tablesAfter).map(([k, v]) => {
        const b = r.tablesBefore?.[k] ?? { rows: 0, bytes: 0 };
        return `${k} +${int(v.rows - b.rows)} rows, ${int((v.bytes - b.bytes) / Math.max(1, r.counted))} B`;
      });
      console.log(`    stored per counted click (column payload, no row/index overhead): ${per.join("; ")}`);
    }
    console.log(`    Free plan, clicks/day per limit: ${c.f.caps.map((x) => `${x.name.split(" (")[0]} ${int(x.clicksPerDay)}`).join("; ")}` +
      `; analytics alone stop first at ${c.f.firstAnalytics ? `${int(c.f.firstAnalytics.clicksPerDay)} (${c.f.firstAnalytics.name})` : "-"}`);
    if (u.bytesPerRetainedClick) {
      const days = D1_FREE_DB_BYTES / u.bytesPerRetainedClick;
      console.log(`    Free plan D1 database (500 MB) holds ${int(days)} retained clicks (${int(days / RETENTION_DAYS)} clicks/day at ${RETENTION_DAYS} days' retention, rollups aside)`);
    }
    console.log(`    $ per million clicks by part: ${Object.entries(c.d.parts).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${fmt(v, 3)}`).join(", ")}`);
  }
}

// ---------------------------------------------------------------------------
export { traffic, rng, weighted };
const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) await main();

/** Keeps the consumer's per-batch log lines ("analytics: ...") out of the report. */
function quietConsumerLog() {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    const text = String(chunk);
    if (!text.includes("analytics: ")) return write(chunk, ...rest);
    const kept = text.split("\n").filter((l) => !l.includes("analytics: ")).join("\n");
    return kept.trim() ? write(kept, ...rest) : true;
  };
}

async function main() {
quietConsumerLog();
for (const d of DESIGNS) {
  if (!existsSync(path.join(d.dir, "index_bg.wasm")) || !existsSync(path.join(d.dir, "index.js"))) {
    console.error(`design ${d.label}: no build in ${d.dir} (run bash scripts/build-worker.sh)`);
    process.exit(1);
  }
}
console.log(`cost per click (Miniflare; ${CLICKS} clicks per shape over ${LINKS} links in ${WORKSPACES} workspaces, Zipf ${ZIPF}, ~${Math.round(BOT_SHARE * 100)} % bots; prices of ${PRICES_DATE})`);
console.log(`designs: ${DESIGNS.map((d) => `${d.label} (${path.relative(root, d.dir) || "."})`).join(", ")}; shapes: ${SHAPES.join(", ")}`);
const results = [];
for (const shape of SHAPES) {
  for (const d of DESIGNS) {
    process.stdout.write(`  running ${d.label} · ${shape} ...\n`);
    results.push(await runShape(d, shape));
  }
}
console.log();
const cols = printTable(results);
printDetails(cols);
console.log(`\n  Prices (Workers Paid, beyond included usage, ${PRICES_DATE}): Workers $0.30/M requests; D1 $1.00/M rows written, $0.001/M rows read, $0.75/GB-month; ` +
  `Queues $0.40/M operations (per 64 KB written, read or deleted); DO $0.15/M requests + $12.50/M GB-s; KV $0.50/M reads, $5.00/M writes; Analytics Engine $0.25/M data points.`);
console.log(`  Free plan per day: 100,000 Workers requests (the cron spends ${CRON_REQUESTS_PER_DAY}), 10,000 Queue operations, 100,000 D1 rows written, 5M D1 rows read, ` +
  `100,000 KV reads, 1,000 KV writes, 100,000 DO requests, 100,000 AE data points; D1 500 MB per database.`);
if (process.argv.includes("--json")) console.log(JSON.stringify(results.map((r) => ({ ...r, units: units(r) }))));
}
