#!/usr/bin/env node
// Redirect throughput: our wasm worker against minimal JS workers. Every
// side runs in its own Miniflare (workerd) instance on a local HTTP port;
// all are started by this one process and measured back to back in the
// same run, sides alternating, over several rounds (medians reported).
//
//   (a) full path, cold cache: ours with HOT_CACHE_TTL_SECONDS=0 vs a JS
//       worker doing one KV get + 302, over many distinct slugs;
//   (b) hot path: ours with HOT_CACHE_TTL_SECONDS=60 (served from the
//       hot-link cache) vs a JS worker answering a constant 302, one slug;
//   (c) the same hot path vs the workers-rs floor (bench/floor, when
//       built), and (d) that without any click event (no Queue, no
//       aggregator binding) vs the floor.
// Diagnostics, measured once (round 1), to show where the time goes:
//   ours cold/hot sending each click on its own (CLICK_BATCH_MS=0, no
//   coalescing), a JS worker doing KV get + one Queue send per click + 302,
//   and ours cold/hot with no EVENTS producer binding at all (the redirect
//   then sends no click event).
//
// Each ratio line gives ours/baseline of the median req/s and "paired",
// the median of the per-round ratios (the two sides run back to back in a
// round, so slow drift of the machine cancels out of it).
//
// Load comes from autocannon in a separate Node process (this file run
// with `--load`). Latencies are per response from autocannon's own hrtime
// measurement (its histogram would round them to whole milliseconds);
// req/s counts 302 answers only.
//
// Knobs: BENCH_SECONDS (4), BENCH_WARMUP (0.5), BENCH_ROUNDS (3),
// BENCH_CONNECTIONS ("1,16"), BENCH_LINKS (10000), BENCH_DIAGNOSTICS (1),
// BENCH_SCENARIOS (keys to run, e.g. "floor,floorNoEvent"; all by default),
// BENCH_AGAINST (another build of ours, a directory under the checkout such
// as .bench/prev/build: adds (e) and (f), this build's hot and cold paths
// against that one's, to tell a change from this machine's drift).
//
// `--profile [keys]` (BENCH_PROFILE=1 in `npm run bench`) instead takes a
// V8 CPU profile through workerd's inspector of each side under load
// (default: the JS and workers-rs constant 302s and ours on the hot path
// without a click event) and prints CPU time per request by kind (wasm,
// the wasm-bindgen glue, other JS, V8/workerd native, GC), the floor's
// extra time over the JS floor, and the top functions. Profiles are saved
// in target/profiles/*.cpuprofile (Chrome DevTools opens them).
//
// Exits non-zero only when a side answers the pre-flight requests wrongly
// (or the build is missing); ratios below target are reported, never fatal.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations, workerOptions } from "../tests/helpers.mjs";

const SELF = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(SELF), "..");
const DOMAIN = "localhost:8787";
const COMPAT = "2025-09-01";
/** Every request, on every side, comes from desktop Chrome. */
const UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 4);
const WARMUP = Number(env.BENCH_WARMUP ?? 0.5);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = (env.BENCH_CONNECTIONS ?? "1,16").split(",").map(Number);
const LINKS = Number(env.BENCH_LINKS ?? 10000);
const DIAGNOSTICS = (env.BENCH_DIAGNOSTICS ?? "1") !== "0";
const ONLY = env.BENCH_SCENARIOS ? env.BENCH_SCENARIOS.split(",") : null;
const AGAINST = env.BENCH_AGAINST || null;
const TARGETS = { cold: 0.9, hot: 0.8, floor: 0.9, floorNoEvent: 0.9 };
const PROFILE_AT = process.argv.indexOf("--profile");
/** Sides to profile (`--profile a,b`), or null for the throughput run. */
const PROFILE =
  PROFILE_AT < 0 ? null : (process.argv[PROFILE_AT + 1] ?? "jsConst,rustConst,oursHotNoEvent").split(",");

// ---------------------------------------------------------------- slugs

const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** 7 random-looking characters, distinct for i < 62^6 (the multiplier is coprime to 62). */
function slugFor(i) {
  let n = (BigInt(i) * 2654435761n + 12345n) % 56800235584n; // 62^6
  let s = "";
  for (let k = 0; k < 6; k++) {
    s = B62[Number(n % 62n)] + s;
    n /= 62n;
  }
  return "b" + s;
}

/** A RedirectRecord as the API writes it for a plain link with one UTM field. */
function recordFor(i) {
  return JSON.stringify({
    v: 1,
    id: `lnk_${slugFor(i)}${i.toString(36).padStart(4, "0")}`,
    ws: `ws_bench${(i % 50).toString().padStart(2, "0")}`,
    url: `https://example.com/p/${i}`,
    utm: "utm_source=bench",
  });
}

// ------------------------------------------------------- load generator child

if (process.argv[2] === "--load") {
  await loadChild(JSON.parse(process.argv[3]));
  process.exit(0);
}

async function loadChild({ port, connections, seconds, warmup, links }) {
  const { default: autocannon } = await import("autocannon");
  // Cold: a shuffled walk over all the links, each connection its own
  // share; hot: always the first link.
  const order = links === 1 ? [0] : shuffled(links);
  const share = Math.ceil(order.length / connections);
  const run = (duration, record) =>
    new Promise((resolve, reject) => {
      let conn = 0;
      const lat = [];
      const inst = autocannon(
        {
          url: `http://127.0.0.1:${port}`,
          connections,
          duration,
          headers: { host: DOMAIN, "user-agent": UA },
          requests: [{ method: "GET", path: `/${slugFor(order[0])}` }],
          setupClient(client) {
            if (order.length === 1) return;
            const mine = order.slice(conn * share, (conn + 1) * share);
            conn++;
            if (mine.length) client.setRequests(mine.map((i) => ({ method: "GET", path: `/${slugFor(i)}` })));
          },
        },
        (err, res) => (err ? reject(err) : resolve({ res, lat })),
      );
      if (record) inst.on("response", (_client, _status, _bytes, ms) => lat.push(ms));
    });
  let warm = 0;
  if (warmup > 0) warm = (await run(warmup, false)).res.statusCodeStats["302"]?.count ?? 0;
  const { res, lat } = await run(seconds, true);
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN);
  const codes = Object.fromEntries(Object.entries(res.statusCodeStats).map(([k, v]) => [k, v.count]));
  const ok = codes["302"] ?? 0;
  process.stdout.write(
    JSON.stringify({
      rps: ok / res.duration,
      p50: q(0.5),
      p99: q(0.99),
      codes,
      errors: res.errors,
      timeouts: res.timeouts,
      duration: res.duration,
      redirects: warm + ok,
    }) + "\n",
  );
}

function shuffled(n) {
  const a = Array.from({ length: n }, (_, i) => i);
  let s = 42;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// ------------------------------------------------------------------ servers

const JS_KV = `export default { async fetch(req, env) {
  const url = new URL(req.url);
  const v = await env.LINKS.get("l1:localhost:8787" + url.pathname);
  if (!v) return new Response("nf", { status: 404 });
  const r = JSON.parse(v);
  return new Response(null, { status: 302, headers: { Location: r.url, "Cache-Control": "private, max-age=0" } });
} }`;

// What the per-click Queue send alone costs a JS worker (a diagnostic).
const JS_KV_SEND = `export default { async fetch(req, env, ctx) {
  const url = new URL(req.url);
  const v = await env.LINKS.get("l1:localhost:8787" + url.pathname);
  if (!v) return new Response("nf", { status: 404 });
  const r = JSON.parse(v);
  ctx.waitUntil(env.EVENTS.send({ type: "click", id: crypto.randomUUID(), link_id: r.id, ts: Date.now() }));
  return new Response(null, { status: 302, headers: { Location: r.url, "Cache-Control": "private, max-age=0" } });
} }`;

const JS_CONST = `export default { async fetch(req) {
  return new Response(null, { status: 302, headers: { Location: "https://example.com/p/0", "Cache-Control": "private, max-age=0" } });
} }`;

// Acks every batch; counts what it saw so the run can show the events flowed.
const ACK_CONSUMER = `let seen = 0;
export default {
  async queue(batch) { seen += batch.messages.length; batch.ackAll(); },
  async fetch() { return new Response(String(seen)); },
}`;

function ours(ttl, { producer = true, batchMs, build = "build" } = {}) {
  // The same options as the tests (tests/helpers.mjs, from wrangler.toml),
  // on the release build; no consumers (the ack worker drains the queue),
  // no static assets in front, and the seeded KV store (id "LINKS").
  const o = workerOptions({
    build,
    queueConsumers: false,
    assets: false,
    vars: {
      SHORT_DOMAIN: DOMAIN,
      HOT_CACHE_TTL_SECONDS: String(ttl),
      ADMIN_TOKEN: "bench-admin-token",
      VISITOR_HASH_SECRET: "bench-visitor-secret",
      ...(batchMs === undefined ? {} : { CLICK_BATCH_MS: String(batchMs) }),
    },
  });
  // The click aggregator as deployed (core/src/config.rs defaults: group
  // commits of 15 s, hourly D1 flushes), not the tests' commit per call
  // and flush every second, which ran ~750 times as many commits and
  // 3,600 times as many flushes inside the measured isolate.
  delete o.bindings.ANALYTICS_COMMIT_MS;
  delete o.bindings.ANALYTICS_FLUSH_SECONDS;
  o.kvNamespaces = ["LINKS"];
  o.d1Databases = ["DB"];
  if (producer) o.queueProducers = { EVENTS: o.queueProducers.EVENTS };
  else {
    // No event at all: without the Queue and the click aggregator's
    // binding the redirect sends nothing.
    delete o.queueProducers;
    delete o.durableObjects;
  }
  return o;
}

// The workers-rs floor (bench/floor): a Rust worker answering the same
// constant 302 as JS_CONST, with no work of its own.
const FLOOR = path.join(root, "bench/floor/build");
const rustFloor = {
  name: "rust-floor",
  modules: [
    { type: "ESModule", path: path.join(FLOOR, "index.js") },
    { type: "CompiledWasm", path: path.join(FLOOR, "index_bg.wasm") },
  ],
  modulesRoot: FLOOR,
  compatibilityDate: COMPAT,
};

const ackWorker = {
  name: "ack",
  modules: true,
  script: ACK_CONSUMER,
  compatibilityDate: COMPAT,
  queueConsumers: { "edgelink-events": { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 0 } },
};

const LOCATION_OURS = "https://example.com/p/0?utm_source=bench";
const LOCATION_JS = "https://example.com/p/0";

const INSTANCES = {
  oursCold: { label: "ours, cache off", workers: [ours(0), ackWorker], kv: true, ack: true, loc: LOCATION_OURS },
  jsKv: {
    label: "JS: KV get + 302",
    workers: [{ name: "js-kv", modules: true, script: JS_KV, compatibilityDate: COMPAT, kvNamespaces: ["LINKS"] }],
    kv: true,
    loc: LOCATION_JS,
  },
  oursHot: { label: "ours, hot-link cache", workers: [ours(60), ackWorker], kv: true, ack: true, loc: LOCATION_OURS },
  jsConst: {
    label: "JS: constant 302",
    workers: [{ name: "js-const", modules: true, script: JS_CONST, compatibilityDate: COMPAT }],
    loc: LOCATION_JS,
  },
  ...(existsSync(path.join(FLOOR, "index_bg.wasm"))
    ? { rustConst: { label: "Rust floor: constant 302", workers: [rustFloor], loc: LOCATION_JS } }
    : {}),
  ...(DIAGNOSTICS
    ? {
        oursColdPerClick: { label: "ours, cache off, send per click", workers: [ours(0, { batchMs: 0 }), ackWorker], kv: true, ack: true, loc: LOCATION_OURS },
        oursHotPerClick: { label: "ours, hot cache, send per click", workers: [ours(60, { batchMs: 0 }), ackWorker], kv: true, ack: true, loc: LOCATION_OURS },
        jsKvSend: {
          label: "JS: KV get + send + 302",
          workers: [
            { name: "js-kv-send", modules: true, script: JS_KV_SEND, compatibilityDate: COMPAT, kvNamespaces: ["LINKS"], queueProducers: { EVENTS: "edgelink-events" } },
            ackWorker,
          ],
          kv: true,
          ack: true,
          loc: LOCATION_JS,
        },
        oursColdNoEvent: { label: "ours, cache off, no event", workers: [ours(0, { producer: false })], kv: true, loc: LOCATION_OURS },
      }
    : {}),
  oursHotNoEvent: { label: "ours, hot cache, no event", workers: [ours(60, { producer: false })], kv: true, loc: LOCATION_OURS },
  ...(AGAINST
    ? {
        thenHot: { label: "other build, hot cache", workers: [ours(60, { build: AGAINST }), ackWorker], kv: true, ack: true, loc: LOCATION_OURS },
        thenCold: { label: "other build, cache off", workers: [ours(0, { build: AGAINST }), ackWorker], kv: true, ack: true, loc: LOCATION_OURS },
      }
    : {}),
};

const HAS_FLOOR = existsSync(path.join(FLOOR, "index_bg.wasm"));
const ALL_SCENARIOS = [
  { key: "cold", title: "(a) full path, cold", ours: "oursCold", base: "jsKv", links: LINKS },
  { key: "hot", title: "(b) hot path", ours: "oursHot", base: "jsConst", links: 1 },
  // What is in our hands: the hot path against the workers-rs floor (the
  // same glue, no work), when bench/floor is built.
  ...(HAS_FLOOR ? [{ key: "floor", title: "(c) hot vs Rust floor", ours: "oursHot", base: "rustConst", links: 1 }] : []),
  // The same without the click event, the work the floor does not do
  // (the aggregator's object shares these cores in Miniflare; in
  // production it runs elsewhere).
  ...(HAS_FLOOR
    ? [{ key: "floorNoEvent", title: "(d) hot, no event, vs Rust floor", ours: "oursHotNoEvent", base: "rustConst", links: 1 }]
    : []),
  ...(AGAINST
    ? [
        { key: "againstHot", title: "(e) hot vs other build", ours: "oursHot", base: "thenHot", links: 1, target: null },
        { key: "againstCold", title: "(f) cold vs other build", ours: "oursCold", base: "thenCold", links: LINKS, target: null },
      ]
    : []),
];
const SCENARIOS = ALL_SCENARIOS.filter((sc) => !ONLY || ONLY.includes(sc.key));
const DIAGS = (
  DIAGNOSTICS
    ? [
        { scenario: "cold", key: "oursColdPerClick", title: "(a) diag" },
        { scenario: "cold", key: "jsKvSend", title: "(a) diag" },
        { scenario: "hot", key: "oursHotPerClick", title: "(b) diag" },
        { scenario: "cold", key: "oursColdNoEvent", title: "(a) diag" },
      ]
    : []
).filter((d) => SCENARIOS.some((sc) => sc.key === d.scenario));
/** The instances the chosen scenarios use. */
const USED = new Set([...SCENARIOS.flatMap((sc) => [sc.ours, sc.base]), ...DIAGS.map((d) => d.key)]);

// ------------------------------------------------------------ processes

function workerdPids() {
  const out = new Set();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && comm.includes("workerd")) out.add(Number(d));
    } catch {}
  }
  return out;
}

function rssMiB(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

// Local KV writes are slow (a few hundred puts/s), so the links are written
// once, by a seeding worker, into a persisted KV store cached under
// target/bench-kv/<key>/; every instance runs on its own copy of that store.
const SEEDER = `export default { async fetch(req, env) {
  const entries = await req.json();
  await Promise.all(entries.map(([k, v]) => env.LINKS.put(k, v)));
  return new Response(String(entries.length));
} }`;

async function seedCache() {
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  const key = createHash("sha256")
    .update(JSON.stringify([LINKS, slugFor(1), recordFor(0), recordFor(LINKS - 1), mfVersion()]))
    .digest("hex")
    .slice(0, 12);
  const dir = path.join(root, "target", "bench-kv", key);
  if (existsSync(path.join(dir, "kv", "LINKS"))) return { dir, seconds: 0 };
  const t = Date.now();
  const tmp = path.join(scratchRoot(), `edgelink-bench-seed-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      resourcePersistencePath: tmp,
      workers: [{ name: "seed", modules: true, script: SEEDER, compatibilityDate: COMPAT, kvNamespaces: ["LINKS"] }],
    }),
  );
  try {
    const w = await mf.getWorker("seed");
    const CHUNK = 500;
    for (let i = 0; i < LINKS; i += CHUNK) {
      const entries = [];
      for (let j = i; j < Math.min(LINKS, i + CHUNK); j++) entries.push([`l1:${DOMAIN}/${slugFor(j)}`, recordFor(j)]);
      const r = await w.fetch("http://seed/", { method: "POST", body: JSON.stringify(entries) });
      if (Number(await r.text()) !== entries.length) throw new Error("seeding failed");
    }
  } finally {
    await mf.dispose();
  }
  mkdirSync(path.dirname(dir), { recursive: true });
  rmSync(dir + ".part", { recursive: true, force: true });
  cpSync(tmp, dir + ".part", { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(dir + ".part", dir);
  rmSync(tmp, { recursive: true, force: true });
  return { dir, seconds: (Date.now() - t) / 1000 };
}

/** tmpfs when there is one, so the instances' storage never touches the disk. */
function scratchRoot() {
  return existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
}

async function start(key, seedDir, runDir, { inspectorPort } = {}) {
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  const spec = INSTANCES[key];
  const persist = path.join(runDir, key);
  if (spec.kv) cpSync(seedDir, persist, { recursive: true });
  else mkdirSync(persist, { recursive: true });
  const before = workerdPids();
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      cf: { country: "US" },
      logRequests: false,
      resourcePersistencePath: persist,
      workers: spec.workers,
      ...(inspectorPort ? { inspectorPort } : {}),
    }),
  );
  const url = await mf.ready;
  const pid = [...workerdPids()].find((p) => !before.has(p));
  const inst = { key, ...spec, mf, port: Number(url.port), pid, inspectorPort };
  if (spec.workers.some((w) => w.d1Databases)) {
    // The click aggregator flushes to D1: without the schema it fails to
    // start, and every flush would time its error path and Queue fallback.
    await applyMigrations(await mf.getD1Database("DB", spec.workers[0].name));
  }
  if (spec.kv) {
    // A decoy under the socket's own host: were the Host header we send not
    // what the worker sees, ours would answer with this record.
    const kv = await mf.getKVNamespace("LINKS");
    await kv.put(
      `l1:127.0.0.1:${inst.port}/${slugFor(0)}`,
      JSON.stringify({ v: 1, id: "lnk_decoy", ws: "ws_decoy", url: "https://decoy.invalid/" }),
    );
  }
  return inst;
}

function get(port, p) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: p, headers: { host: DOMAIN, "user-agent": UA } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, location: res.headers.location }));
    });
    req.on("error", reject);
    req.end();
  });
}

function load(inst, links, connections, seconds, warmup) {
  const cfg = { port: inst.port, connections, seconds, warmup, links };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, "--load", JSON.stringify(cfg)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      const r = JSON.parse(out.trim().split("\n").pop());
      inst.redirects = (inst.redirects ?? 0) + r.redirects;
      resolve(r);
    });
  });
}

// ------------------------------------------------------------- profiling

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = http.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A DevTools protocol session with the first user worker of `inst`. */
async function inspect(inst) {
  const name = inst.workers[0].name;
  const list = await (await fetch(`http://127.0.0.1:${inst.inspectorPort}/json/list`)).json();
  const target = list.find((t) => t.id?.endsWith(`:${name}`) || t.title?.includes(name)) ?? list[0];
  // Node 22 has a global WebSocket; Node 20 only behind a flag, so
  // Miniflare's own `ws` then.
  const WS = globalThis.WebSocket ?? (await import("ws")).default;
  const ws = new WS(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const waiting = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    msg.error ? w.reject(new Error(JSON.stringify(msg.error))) : w.resolve(msg.result);
  };
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        waiting.set(++id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** What a profile node's time counts as. */
function kindOf(frame, glueUrl) {
  const { functionName: fn, url } = frame;
  if (fn === "(idle)") return "idle";
  if (fn === "(garbage collector)") return "gc";
  if (fn === "(program)" || fn === "(root)") return "native";
  if (url.startsWith("wasm://") || /^\$?func\d+|wasm-function/.test(fn)) return "wasm";
  if (glueUrl && url.endsWith(glueUrl)) return "glue";
  if (!url) return "native";
  return "js";
}

/** Self time (µs) per node id, from the sample stream. A gap of over a
 * millisecond (20 intervals; every profile has one of about 1.5 s, where
 * sampling starts) is a stall of the sampler, not time spent in whatever
 * frame it lands on: left out. */
function selfTimes(profile) {
  const t = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0;
    if (dt > 1000) continue;
    t.set(samples[i], (t.get(samples[i]) ?? 0) + dt);
  }
  return t;
}

const KINDS = ["wasm", "glue", "js", "native", "gc"];

async function profileAll(inst) {
  const outDir = path.join(root, "target", "profiles");
  mkdirSync(outDir, { recursive: true });
  const rows = {};
  for (const key of PROFILE) {
    const i = inst[key];
    const r0 = await get(i.port, `/${slugFor(0)}`);
    if (r0.status !== 302 || r0.location !== i.loc) throw new Error(`${i.label}: ${r0.status} ${r0.location}`);
    const links = i.kv && !key.includes("Hot") ? LINKS : 1;
    await load(i, links, 16, 2, 0);
    const s = await inspect(i);
    await s.send("Profiler.enable");
    await s.send("Profiler.setSamplingInterval", { interval: 50 });
    await s.send("Profiler.start");
    const r = await load(i, links, 16, SECONDS, 0);
    const { profile } = await s.send("Profiler.stop");
    s.close();
    writeFileSync(path.join(outDir, `${key}.cpuprofile`), JSON.stringify(profile));
    const glueUrl = i.workers[0].modules?.[0]?.path ? path.basename(i.workers[0].modules[0].path) : null;
    const self = selfTimes(profile);
    const byKind = Object.fromEntries([...KINDS, "idle"].map((k) => [k, 0]));
    const byFn = new Map();
    for (const node of profile.nodes) {
      const us = self.get(node.id) ?? 0;
      if (!us) continue;
      const kind = kindOf(node.callFrame, glueUrl);
      byKind[kind] += us;
      if (kind === "idle") continue;
      const name = `${node.callFrame.functionName || "(anonymous)"} [${kind}]`;
      byFn.set(name, (byFn.get(name) ?? 0) + us);
    }
    const n = r.redirects;
    const per = Object.fromEntries(KINDS.map((k) => [k, byKind[k] / n]));
    per.total = KINDS.reduce((a, k) => a + per[k], 0);
    rows[key] = { label: i.label, rps: r.rps, requests: n, per, top: [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 12) };
    console.log(`  ${pad(i.label, 29)} ${n} redirects at ${f(r.rps)} req/s, CPU sampled ${f(per.total, 1)} µs per request`);
  }
  console.log("");
  console.log(`CPU per request in the worker's isolate (µs, V8 sampling profile at 50 µs, ${SECONDS} s at 16 connections):`);
  const head = `${pad("side", 29)} ${KINDS.map((k) => lpad(k, 7)).join(" ")} ${lpad("total", 7)}`;
  console.log(head);
  console.log("-".repeat(head.length));
  for (const row of Object.values(rows)) {
    console.log(`${pad(row.label, 29)} ${KINDS.map((k) => lpad(f(row.per[k], 1), 7)).join(" ")} ${lpad(f(row.per.total, 1), 7)}`);
  }
  const base = rows.jsConst;
  for (const [key, row] of Object.entries(rows)) {
    if (!base || key === "jsConst") continue;
    const d = (k) => row.per[k] - base.per[k];
    console.log(
      `${pad(`${row.label} - JS floor`, 29)} ${KINDS.map((k) => lpad(f(d(k), 1), 7)).join(" ")} ${lpad(f(d("total"), 1), 7)}`,
    );
  }
  for (const row of Object.values(rows)) {
    console.log("");
    console.log(`top self time, ${row.label} (µs per request):`);
    for (const [name, us] of row.top) console.log(`  ${lpad(f(us / row.requests, 2), 7)}  ${name}`);
  }
  writeFileSync(path.join(outDir, "summary.json"), JSON.stringify(rows, null, 2));
  console.log(`\n(profiles in ${path.relative(root, outDir)}/; open one in Chrome DevTools > Performance)`);
  return 0;
}

// --------------------------------------------------------------- helpers

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

function mfVersion() {
  try {
    return JSON.parse(readFileSync(path.join(root, "node_modules/miniflare/package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

function note(r, label, c) {
  const other = Object.keys(r.codes).filter((k) => k !== "302");
  const extra = other.length || r.errors ? `  codes ${JSON.stringify(r.codes)} errors ${r.errors}` : "";
  console.log(`    ${pad(label, 29)} c=${lpad(c, 2)} ${lpad(f(r.rps), 6)} req/s  p50 ${f(r.p50, 2)} ms  p99 ${f(r.p99, 2)} ms${extra}`);
}

// --------------------------------------------------------------------- main

async function main() {
  for (const file of ["build/index.js", "build/index_bg.wasm"]) {
    if (!existsSync(path.join(root, file))) {
      console.error(`${file} missing: run scripts/build-worker.sh first`);
      return 2;
    }
  }
  const t0 = Date.now();
  const seed = await seedCache();
  console.log(
    seed.seconds
      ? `seeded ${LINKS} links once in ${seed.seconds.toFixed(1)} s (cached in ${path.relative(root, seed.dir)})`
      : `${LINKS} seeded links from ${path.relative(root, seed.dir)} (cached)`,
  );
  const runDir = mkdtempSync(path.join(scratchRoot(), "edgelink-bench-"));
  const inst = {};
  const cleanup = async () => {
    await Promise.allSettled(Object.values(inst).map((i) => i.mf.dispose()));
    rmSync(runDir, { recursive: true, force: true });
  };
  process.once("SIGINT", () => cleanup().finally(() => process.exit(130)));
  try {
    if (PROFILE) {
      for (const [n, key] of PROFILE.entries()) {
        inst[key] = await start(key, seed.dir, runDir, { inspectorPort: await freePort() });
        if (n === 0) console.log(`profiling ${PROFILE.join(", ")}: ${SECONDS} s under load each, after 2 s of warm-up`);
      }
      return await profileAll(inst);
    }
    // One at a time, so each workerd's pid can be told apart.
    for (const key of Object.keys(INSTANCES).filter((k) => USED.has(k))) inst[key] = await start(key, seed.dir, runDir);
    console.log(
      `started ${Object.keys(inst).length} Miniflare instances (each its own workerd and copy of the KV data) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    return await bench(inst, t0);
  } finally {
    await cleanup();
  }
}

async function bench(inst, t0) {
  // ---- correctness before timing
  let failed = false;
  const check = (label, p, r, ok, want) => {
    console.log(`check ${pad(label, 29)} GET ${pad(p, 14)} -> ${r.status} ${r.location ?? ""} ${ok ? "ok" : `FAIL (want ${want})`}`);
    if (!ok) failed = true;
  };
  for (const i of Object.values(inst)) {
    // Twice: the second answer of the hot instances comes from the cache.
    for (let n = 0; n < 2; n++) {
      const p = `/${slugFor(0)}`;
      const r = await get(i.port, p);
      check(i.label, p, r, r.status === 302 && r.location === i.loc, `302 ${i.loc}`);
    }
    if (i.redirects === undefined) i.redirects = 2;
  }
  for (const key of ["oursCold", "jsKv", "thenCold"].filter((k) => inst[k])) {
    const i = inst[key];
    const n = LINKS - 1;
    const p = `/${slugFor(n)}`;
    const r = await get(i.port, p);
    const want = `https://example.com/p/${n}${i.loc === LOCATION_JS ? "" : "?utm_source=bench"}`;
    check(i.label, p, r, r.status === 302 && r.location === want, `302 ${want}`);
    i.redirects++;
    const nf = await get(i.port, "/no-such-slug");
    check(i.label, "/no-such-slug", nf, nf.status === 404, "404");
  }
  if (failed) {
    console.error("correctness check failed: nothing timed");
    return 1;
  }

  for (const i of Object.values(inst)) i.rssStart = rssMiB(i.pid);

  // ---- warm every instance once (JIT, wasm tier-up)
  for (const sc of SCENARIOS) for (const k of [sc.ours, sc.base]) await load(inst[k], sc.links, Math.max(...CONNECTIONS), 2, 0);
  for (const d of DIAGS) await load(inst[d.key], SCENARIOS.find((s) => s.key === d.scenario).links, Math.max(...CONNECTIONS), 1, 0);

  // ---- timed runs: rounds x connections x scenarios, sides alternating
  const runs = [];
  const cells = ROUNDS * CONNECTIONS.length * SCENARIOS.length * 2 + CONNECTIONS.length * DIAGS.length;
  console.log(
    `timing ${cells} runs of ${SECONDS} s (each after ${WARMUP} s of warm-up): ${ROUNDS} rounds x connections ${CONNECTIONS.join(",")}, ` +
      `sides alternating; load average now ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of CONNECTIONS) {
      for (const sc of SCENARIOS) {
        const sides = round % 2 ? [sc.ours, sc.base] : [sc.base, sc.ours];
        for (const k of sides) {
          const r = await load(inst[k], sc.links, c, SECONDS, WARMUP);
          runs.push({ scenario: sc.key, key: k, c, round, ...r });
          note(r, inst[k].label, c);
        }
      }
      if (round === 1) {
        for (const d of DIAGS) {
          const r = await load(inst[d.key], SCENARIOS.find((s) => s.key === d.scenario).links, c, SECONDS, WARMUP);
          runs.push({ scenario: d.scenario, key: d.key, c, round, ...r });
          note(r, inst[d.key].label, c);
        }
      }
    }
    console.log(`  round ${round}/${ROUNDS} done (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }

  // ---- report
  const agg = (scenario, key, c) => {
    const rs = runs.filter((r) => r.scenario === scenario && r.key === key && r.c === c);
    return {
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      each: rs.map((r) => r.rps),
    };
  };
  console.log("");
  console.log(
    `Redirect benchmark: Miniflare ${mfVersion()} (workerd), autocannon ${acVersion()} in a separate process, ${os.cpus().length} CPUs; ` +
      `${SECONDS} s runs, medians of ${ROUNDS} rounds; ${LINKS} links seeded; load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
  );
  const head = `${pad("scenario", 20)} ${pad("side", 29)} ${lpad("conns", 5)} ${lpad("req/s", 7)} ${lpad("p50 ms", 7)} ${lpad("p99 ms", 7)}  req/s per round`;
  console.log(head);
  console.log("-".repeat(head.length + 6));
  const rows = [];
  const lines = [
    ...SCENARIOS.flatMap((sc) => CONNECTIONS.flatMap((c) => [[sc.key, sc.title, sc.ours, c], [sc.key, sc.title, sc.base, c]])),
    ...DIAGS.flatMap((d) => CONNECTIONS.map((c) => [d.scenario, d.title, d.key, c])),
  ];
  for (const [scenario, title, key, c] of lines) {
    const a = agg(scenario, key, c);
    rows.push({ scenario, title, side: inst[key].label, connections: c, rps: a.rps, p50: a.p50, p99: a.p99, rounds: a.each });
    console.log(
      `${pad(title, 20)} ${pad(inst[key].label, 29)} ${lpad(c, 5)} ${lpad(f(a.rps), 7)} ${lpad(f(a.p50, 2), 7)} ${lpad(f(a.p99, 2), 7)}  ${a.each.map((x) => f(x)).join(" / ")}`,
    );
  }
  console.log("");
  const ratios = [];
  for (const sc of SCENARIOS) {
    for (const c of CONNECTIONS) {
      const o = agg(sc.key, sc.ours, c);
      const b = agg(sc.key, sc.base, c);
      const ratio = o.rps / b.rps;
      const perRound = o.each.map((x, i) => x / b.each[i]);
      const target = TARGETS[sc.key] ?? null;
      const paired = median(perRound);
      ratios.push({ scenario: sc.key, connections: c, ratio, paired, target, met: target === null ? null : ratio >= target, perRound });
      const verdict = target === null ? "(no target)" : `target >= ${target}: ${ratio >= target ? "met" : "NOT met"}`;
      console.log(
        `ratio ${pad(sc.title, 20)} c=${lpad(c, 2)}: ours/baseline = ${ratio.toFixed(2)}, paired ${paired.toFixed(2)}  ${verdict}  (per round ${perRound.map((x) => x.toFixed(2)).join(" / ")})`,
      );
    }
  }
  for (const d of DIAGS) {
    const sc = SCENARIOS.find((s) => s.key === d.scenario);
    for (const c of CONNECTIONS) {
      const x = agg(d.scenario, d.key, c).rps;
      const b1 = runs.find((r) => r.key === sc.base && r.c === c && r.round === 1)?.rps;
      console.log(`diag  ${pad(inst[d.key].label, 29)} c=${lpad(c, 2)}: ${f(x)} req/s = ${(x / b1).toFixed(2)} x ${inst[sc.base].label} (round 1)`);
    }
  }

  // ---- health: non-302 answers, errors, queue delivery, memory
  for (const r of runs.filter((r) => r.errors > 0 || Object.keys(r.codes).some((k) => k !== "302"))) {
    console.log(
      `WARNING ${inst[r.key].label} c=${r.c} round ${r.round}: codes ${JSON.stringify(r.codes)} errors ${r.errors} timeouts ${r.timeouts} (only 302s are counted)`,
    );
  }
  await new Promise((r) => setTimeout(r, 2000)); // the last batches flush after 1 s
  for (const i of Object.values(inst).filter((i) => i.ack)) {
    const seen = Number(await (await (await i.mf.getWorker("ack")).fetch("http://ack/")).text());
    console.log(`queue ${pad(i.label, 29)} click events delivered to the acking consumer: ${seen} for ${i.redirects} redirects counted (+ in-flight at each stop)`);
  }
  console.log("memory workerd RSS, MiB, before warm-up -> after the runs:");
  for (const i of Object.values(inst)) console.log(`  ${pad(i.label, 29)} ${lpad(f(i.rssStart), 4)} -> ${lpad(f(rssMiB(i.pid)), 4)}`);

  const outDir = path.join(root, "target");
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    path.join(outDir, "bench-redirect.json"),
    JSON.stringify({ when: new Date().toISOString(), seconds: SECONDS, rounds: ROUNDS, links: LINKS, rows, ratios, runs }, null, 2),
  );
  console.log(`(every run in target/bench-redirect.json; ${((Date.now() - t0) / 1000).toFixed(0)} s in all)`);
  return 0;
}

function acVersion() {
  try {
    return JSON.parse(readFileSync(path.join(root, "node_modules/autocannon/package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

process.exitCode = await main();
