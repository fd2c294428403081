// Spins up the built wasm worker in Miniflare/workerd with fresh D1, KV and
// Queue state, applies schema.sql, and offers small HTTP helpers.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ADMIN_TOKEN = "test-admin-token";
export const BASE = "http://localhost:8787";

/**
 * `spy: true` replaces the analytics consumer with a tiny JS worker that
 * stores every queued message body in its own KV (`w.spied()` reads them),
 * so tests can see exactly what the redirect sent.
 * `configure(main)` may return changed options for the main worker before
 * Miniflare starts (the cost benchmark puts a metering entry module in front
 * of the build and points at another build directory with it).
 */
export async function startWorker({ vars = {}, country = "US", queueConsumer = true, spy = false, configure } = {}) {
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
    queueConsumers: {
      ...(queueConsumer && !spy
        ? { "edgelink-events": { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 3 } }
        : {}),
      "edgelink-webhooks": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 10 },
    },
  };
  if (configure) Object.assign(main, configure(main));
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
  const mf = new Miniflare(
    convertV4MiniflareOptions(spy ? { cf: { country }, workers: [main, spyWorker] } : { cf: { country }, ...main }),
  );
  await mf.ready;
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
  return w;
}

export class TestWorker {
  constructor(mf, db, kv) {
    this.mf = mf;
    this.db = db;
    this.kv = kv;
  }

  async close() {
    await this.mf.dispose();
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
