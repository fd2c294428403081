// Spins up the worker in Miniflare/workerd with fresh D1, KV and Queue
// state, configured from wrangler.toml (bindings, vars, queues, assets:
// `workerOptions` below, shared with the benchmark), the schema applied
// from migrations/ as `npm run dev` applies it, and offers one request
// helper. Tests run the test build (build-test/, the `test-hooks` feature:
// `now` pins the request's clock, see src/clock.rs).
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ADMIN_TOKEN = "test-admin-token";
export const BASE = "http://localhost:8787";

/** The wasm the tests run: the test-hooks build (scripts/build-test-worker.sh). */
const TEST_BUILD = process.env.EDGELINK_TEST_BUILD ?? "build-test";

/** Settings every test worker gets on top of wrangler.toml's [vars]. */
const TEST_VARS = {
  SHORT_DOMAIN: "localhost:8787",
  SHORT_SCHEME: "http",
  HOT_CACHE_TTL_SECONDS: "0",
  ADMIN_TOKEN,
  VISITOR_HASH_SECRET: "test-visitor-secret",
  // The click aggregator commits each call at once and flushes to D1
  // every second, so tests that read D1 right after clicks see them
  // (docs/SCALE.md §4).
  ANALYTICS_COMMIT_MS: "0",
  ANALYTICS_FLUSH_SECONDS: "1",
};

/**
 * The worker's Miniflare options (v4 shape) from wrangler.toml, running the
 * wasm in `build` (`build-test` for tests, `build` for the benchmark).
 * `queueConsumers: false` leaves the queues without consumers; `assets:
 * false` leaves out wrangler.toml's [assets].
 */
export function workerOptions({ build = TEST_BUILD, vars = {}, queueConsumers = true, assets = true } = {}) {
  const { workerOptions: o } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  const out = {
    ...o,
    name: "edgelink",
    modules: [
      { type: "ESModule", path: path.join(root, build, "index.js") },
      { type: "CompiledWasm", path: path.join(root, build, "index_bg.wasm") },
    ],
    modulesRoot: path.join(root, build),
    bindings: { ...o.bindings, ...TEST_VARS, ...vars },
    // Crons are triggered by tests when they want them.
    cronTriggers: [],
  };
  if (!queueConsumers) delete out.queueConsumers;
  if (!assets) delete out.assets;
  return out;
}

/** The SQL statements of migrations/ (or `dir`), in order (as wrangler applies them). */
export function migrationStatements(dir = path.join(root, "migrations")) {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => ({ name: f, statements: unstable_splitSqlQuery(readFileSync(path.join(dir, f), "utf8")) }));
}

/**
 * Applies migrations/ (or `dir`) to a D1 binding and records them as
 * wrangler does: each one once, skipping those `d1_migrations` lists
 * (`upTo`: stop after that file).
 */
export async function applyMigrations(db, { upTo, dir } = {}) {
  await db
    .prepare(
      "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
    )
    .run();
  const { results } = await db.prepare("SELECT name FROM d1_migrations").all();
  const applied = new Set(results.map((r) => r.name));
  for (const m of migrationStatements(dir)) {
    if (upTo && m.name > upTo) break;
    if (applied.has(m.name)) continue;
    for (const stmt of m.statements) await db.prepare(stmt).run();
    await db.prepare("INSERT INTO d1_migrations (name) VALUES (?1)").bind(m.name).run();
  }
}

/**
 * `spy: true` replaces the analytics consumer with a tiny JS worker that
 * stores every queued message body in its own KV (`w.spied()` reads them),
 * so tests can see exactly what the redirect sent. `port` also serves it
 * over HTTP on 127.0.0.1 (tests/serve.mjs, the dashboard's browser tests);
 * `w.url` is its address. `build` picks the wasm (default: the test build;
 * the benchmark runs the release `build`).
 *
 * `assets: "<dir>"` serves a snapshot of that folder, taken at start, as the
 * static assets (instead of wrangler.toml's directory as it is), so a
 * dashboard rebuild while tests run cannot pull files from under them.
 *
 * `configure(main)` may return changed options for the main worker before
 * Miniflare starts (the cost benchmark puts a metering entry module in front
 * of the build and points at another build directory with it);
 * `migrations` applies another migrations/ directory (an older build's).
 */
export async function startWorker({ vars = {}, country = "US", queueConsumer = true, spy = false, port, build, assets, configure, migrations } = {}) {
  const main = workerOptions({ vars, build });
  let assetsDir;
  if (assets && main.assets) main.assets = { ...main.assets, directory: (assetsDir = snapshot(path.resolve(root, assets))) };
  if (!queueConsumer || spy) delete main.queueConsumers[main.queueProducers.EVENTS.queueName];
  // The spy sees what the redirect queues: without the click aggregator
  // binding every click goes to the Queue, as before the aggregator.
  if (spy) delete main.durableObjects;
  if (configure) Object.assign(main, configure(main));
  const spyWorker = {
    name: "spy",
    modules: true,
    script: `export default { async queue(batch, env) {
      for (const m of batch.messages) await env.SPY.put(m.id, JSON.stringify(m.body));
      batch.ackAll();
    } }`,
    compatibilityDate: main.compatibilityDate,
    kvNamespaces: ["SPY"],
    queueConsumers: { [main.queueProducers.EVENTS.queueName]: { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 0 } },
  };
  const shared = { cf: { country }, ...(port === undefined ? {} : { host: "127.0.0.1", port }) };
  const mf = new Miniflare(
    convertV4MiniflareOptions(spy ? { ...shared, workers: [main, spyWorker] } : { ...shared, ...main }),
  );
  const url = await mf.ready;
  const db = await mf.getD1Database("DB");
  await applyMigrations(db, { dir: migrations });
  const w = new TestWorker(mf, db, await mf.getKVNamespace("LINKS"));
  if (spy) w.spyKv = await mf.getKVNamespace("SPY", "spy");
  w.url = url;
  w.assetsDir = assetsDir;
  return w;
}

/** Copies a static-assets folder to a temporary one (waiting out a build in progress). */
function snapshot(dir) {
  for (let i = 0; ; i++) {
    const ready = !existsSync(path.join(dir, "dashboard")) || dashboardComplete(path.join(dir, "dashboard"));
    if (ready || i >= 50) break;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
  const to = mkdtempSync(path.join(tmpdir(), "edgelink-assets-"));
  cpSync(dir, to, { recursive: true });
  return to;
}

/** index.html is there and every file it references too. */
function dashboardComplete(dir) {
  const index = path.join(dir, "index.html");
  if (!existsSync(index)) return false;
  const html = readFileSync(index, "utf8");
  return [...html.matchAll(/(?:src|href)="\/dashboard\/([^"]+)"/g)].every((m) => existsSync(path.join(dir, m[1])));
}

export class TestWorker {
  constructor(mf, db, kv) {
    this.mf = mf;
    this.db = db;
    this.kv = kv;
  }

  async close() {
    await this.mf.dispose();
    if (this.assetsDir) rmSync(this.assetsDir, { recursive: true, force: true });
  }

  /**
   * The one request helper. Raw request; `cf` sets request.cf (country
   * etc.); `now` (ms since the epoch) pins the worker's clock for it.
   */
  fetch(pathOrUrl, { now, ...init } = {}) {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : BASE + pathOrUrl;
    if (now !== undefined) init.headers = { ...headersObject(init.headers), "X-Test-Now": String(now) };
    return this.mf.dispatchFetch(url, { redirect: "manual", ...init });
  }

  /** JSON API call: returns { status, headers, body, text } with body parsed when JSON. */
  async api(method, p, { key, body, headers = {}, raw, now } = {}) {
    const h = { ...headers };
    if (key) h.Authorization = `Bearer ${key}`;
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      h["Content-Type"] ??= "application/json";
    }
    const res = await this.fetch(p, { method, headers: h, body: payload, now });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, body: json, text };
  }

  /** Bootstraps a workspace; returns { workspace, key }. */
  async workspace(name = "Acme", plan = "free", extra = {}) {
    const r = await this.api("POST", "/api/v1/admin/workspaces", {
      key: ADMIN_TOKEN,
      body: { name, plan, ...extra },
    });
    if (r.status !== 201) throw new Error(`bootstrap failed: ${r.status} ${r.text}`);
    return { workspace: r.body.data.workspace, key: r.body.data.apiKey.key };
  }

  /** Message bodies the spy consumer received so far. */
  async spied() {
    const { keys } = await this.spyKv.list();
    return Promise.all(keys.map(async (k) => JSON.parse(await this.spyKv.get(k.name))));
  }

  /** Polls `spied()` until `n` messages arrived (or ~5 s passed). */
  async waitForSpied(n, ms = 5000) {
    const end = Date.now() + ms;
    for (;;) {
      const got = await this.spied();
      if (got.length >= n || Date.now() > end) return got;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async kvRecord(domain, slug) {
    const raw = await this.kv.get(`l1:${domain}/${slug}`);
    return raw === null ? null : JSON.parse(raw);
  }
}

function headersObject(h) {
  if (!h) return {};
  if (typeof h.entries === "function" && !Array.isArray(h)) return Object.fromEntries(h.entries());
  return Array.isArray(h) ? Object.fromEntries(h) : { ...h };
}

/**
 * A time `ms` into the current one-minute window, for `now`: requests
 * pinned to it share one rate-limit window however long the test takes.
 */
export function inThisMinute(ms = 1_000) {
  const t = Date.now();
  return t - (t % 60_000) + ms;
}

/** Asserts the error envelope and returns the error object. */
export function expectError(assert, r, status, code) {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status}: ${r.text}`);
  assert.equal(r.body?.success, false, r.text);
  assert.equal(r.body.error.code, code, r.text);
  assert.equal(typeof r.body.error.message, "string");
  return r.body.error;
}
