// Spins up the built wasm worker in Miniflare/workerd with fresh D1, KV and
// Queue state, applies schema.sql, and offers small HTTP helpers.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ADMIN_TOKEN = "test-admin-token";
export const BASE = "http://localhost:8787";

/**
 * `assets: "<dir>"` serves that folder as Workers static assets in front of
 * the worker, as wrangler.toml's `[assets]` does (no SPA fallback; files
 * first, everything else reaches the worker). `port`/`host` open a real
 * HTTP listener (e.g. for a browser); `w.url` is its address. The folder is
 * served from a snapshot taken at start, so a rebuild of the dashboard
 * while tests run cannot pull files from under the asset manifest.
 *
 * `spy: true` replaces the analytics consumer with a tiny JS worker that
 * stores every queued message body in its own KV (`w.spied()` reads them),
 * so tests can see exactly what the redirect sent.
 */
export async function startWorker({
  vars = {},
  country = "US",
  queueConsumer = true,
  spy = false,
  assets,
  port,
  host,
} = {}) {
  let assetsDir;
  const main = {
    name: "edgelink",
    modules: [
      { type: "ESModule", path: path.join(root, "build/index.js") },
      { type: "CompiledWasm", path: path.join(root, "build/index_bg.wasm") },
    ],
    modulesRoot: path.join(root, "build"),
    compatibilityDate: "2025-09-01",
    bindings: {
      SHORT_DOMAIN: "localhost:8787",
      SHORT_SCHEME: "http",
      HOT_CACHE_TTL_SECONDS: "0",
      ADMIN_TOKEN,
      VISITOR_HASH_SECRET: "test-visitor-secret",
      ...vars,
    },
    kvNamespaces: ["LINKS"],
    d1Databases: ["DB"],
    queueProducers: { EVENTS: "edgelink-events", WEBHOOKS: "edgelink-webhooks" },
    ...(assets
      ? {
          assets: {
            directory: (assetsDir = snapshot(path.resolve(root, assets))),
            routerConfig: { has_user_worker: true },
            assetConfig: { html_handling: "auto-trailing-slash", not_found_handling: "none" },
          },
        }
      : {}),
    queueConsumers: {
      ...(queueConsumer && !spy
        ? { "edgelink-events": { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 3 } }
        : {}),
      "edgelink-webhooks": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 10 },
    },
  };
  const spyWorker = {
    name: "spy",
    modules: true,
    script: `export default { async queue(batch, env) {
      for (const m of batch.messages) await env.SPY.put(m.id, JSON.stringify(m.body));
      batch.ackAll();
    } }`,
    compatibilityDate: "2025-09-01",
    kvNamespaces: ["SPY"],
    queueConsumers: { "edgelink-events": { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 0 } },
  };
  const shared = { cf: { country }, ...(port !== undefined ? { port } : {}), ...(host ? { host } : {}) };
  const mf = new Miniflare(
    convertV4MiniflareOptions(spy ? { ...shared, workers: [main, spyWorker] } : { ...shared, ...main }),
  );
  const url = await mf.ready;
  const db = await mf.getD1Database("DB");
  const schema = readFileSync(path.join(root, "schema.sql"), "utf8")
    .split("\n")
    .map((l) => l.replace(/--.*$/, ""))
    .join("\n");
  for (const stmt of schema.split(";").map((s) => s.trim()).filter(Boolean)) {
    await db.prepare(stmt).run();
  }
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

  /** Raw request; `cf` sets request.cf (country etc.). */
  fetch(pathOrUrl, init = {}) {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : BASE + pathOrUrl;
    return this.mf.dispatchFetch(url, { redirect: "manual", ...init });
  }

  /** JSON API call: returns { status, headers, body } with body parsed when JSON. */
  async api(method, p, { key, body, headers = {}, raw } = {}) {
    const h = { ...headers };
    if (key) h.Authorization = `Bearer ${key}`;
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      h["Content-Type"] ??= "application/json";
    }
    const res = await this.fetch(p, { method, headers: h, body: payload });
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

/** Asserts the error envelope and returns the error object. */
export function expectError(assert, r, status, code) {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status}: ${r.text}`);
  assert.equal(r.body?.success, false, r.text);
  assert.equal(r.body.error.code, code, r.text);
  assert.equal(typeof r.body.error.message, "string");
  return r.body.error;
}
