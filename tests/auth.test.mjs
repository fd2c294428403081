// Operator bootstrap, API keys, bearer errors, tenant isolation and the
// D1-backed per-key rate limit, against the built wasm worker.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startWorker, expectError, inThisMinute, ADMIN_TOKEN } from "./helpers.mjs";

let w;

async function api(method, path, opts = {}) {
  const r = await w.api(method, path, opts);
  assert.ok(r.status < 500, `${method} ${path} answered ${r.status}: ${r.text}`);
  return r;
}

const sha256 = (s) => createHash("sha256").update(s).digest("hex");


before(async () => {
  w = await startWorker();
});

after(async () => {
  await w?.close();
});

describe("operator bootstrap", () => {
  test("POST /api/v1/admin/workspaces → 201 with workspace and a go2_ key shown once", async () => {
    const r = await api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "Acme", plan: "free" } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.success, true);
    const { workspace, apiKey } = r.body.data;
    assert.match(workspace.id, /^ws_[0-9A-Za-z]+$/);
    assert.equal(workspace.name, "Acme");
    assert.equal(workspace.plan, "free");
    assert.match(apiKey.key, /^go2_[0-9A-Za-z]{32}$/);
    assert.equal(apiKey.key.startsWith(apiKey.prefix), true);
    assert.deepEqual(apiKey.scopes, ["read", "write"]);
    // The key works at once and is never shown again.
    const list = await api("GET", "/api/v1/keys", { key: apiKey.key });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.data.length, 1);
    assert.equal(list.body.data[0].id, apiKey.id);
    assert.ok(!list.text.includes(apiKey.key));
    assert.equal("key" in list.body.data[0], false);
    // Only its hash is stored.
    const row = await w.db.prepare("SELECT * FROM api_keys WHERE id = ?").bind(apiKey.id).first();
    assert.equal(row.key_hash, sha256(apiKey.key));
    assert.ok(!JSON.stringify(row).includes(apiKey.key));
  });

  test("plan defaults to free; pro and business accepted", async () => {
    let r = await api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "Default" } });
    assert.equal(r.body.data.workspace.plan, "free");
    for (const plan of ["pro", "business"]) {
      r = await api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: plan, plan } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.data.workspace.plan, plan);
    }
  });

  test("operator errors", async () => {
    const body = { name: "X", plan: "free" };
    expectError(assert, await api("POST", "/api/v1/admin/workspaces", { body }), 401, "UNAUTHORIZED");
    expectError(assert, await api("POST", "/api/v1/admin/workspaces", { key: "wrong", body }), 401, "UNAUTHORIZED");
    const { key } = await w.workspace("Tenant");
    expectError(assert, await api("POST", "/api/v1/admin/workspaces", { key, body }), 401, "UNAUTHORIZED");
    let e = expectError(assert, await api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "X", plan: "gold" } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "plan");
    e = expectError(assert, await api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { plan: "free" } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "name");
    e = expectError(assert, await api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "  " } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "name");
    e = expectError(assert, await api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "X", owner: "me" } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "owner");
    e = expectError(assert, await api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "X", linkQuota: -1 } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "linkQuota");
    e = expectError(assert, await api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, raw: "{oops", headers: { "Content-Type": "application/json" } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "body");
  });

  test("PATCH /api/v1/admin/workspaces/{id} changes plan, name and quota", async () => {
    const { workspace, key } = await w.workspace("Grower", "free");
    const r = await api("PATCH", `/api/v1/admin/workspaces/${workspace.id}`, { key: ADMIN_TOKEN, body: { plan: "pro", name: "Grown", linkQuota: 5 } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.plan, "pro");
    assert.equal(r.body.data.name, "Grown");
    assert.equal(r.body.data.linkQuota, 5);
    const l = await api("GET", "/api/v1/links", { key });
    assert.equal(l.headers.get("x-ratelimit-limit"), "300");
    expectError(assert, await api("PATCH", "/api/v1/admin/workspaces/ws_nope", { key: ADMIN_TOKEN, body: { plan: "pro" } }), 404, "NOT_FOUND");
    expectError(assert, await api("PATCH", `/api/v1/admin/workspaces/${workspace.id}`, { key, body: { plan: "business" } }), 401, "UNAUTHORIZED");
  });

  test("without ADMIN_TOKEN configured the operator API fails loudly (500, logged), never open", async () => {
    const w2 = await startWorker({ vars: { ADMIN_TOKEN: "" } });
    try {
      const r = await w2.api("POST", "/api/v1/admin/workspaces", { key: "", body: { name: "X" } });
      expectError(assert, r, 500, "INTERNAL");
      const r2 = await w2.api("POST", "/api/v1/admin/workspaces", { key: "anything", body: { name: "X" } });
      expectError(assert, r2, 500, "INTERNAL");
    } finally {
      await w2.close();
    }
  });
});

describe("bearer errors", () => {
  let key;
  before(async () => {
    ({ key } = await w.workspace("Bearer", "business"));
  });

  test("missing, malformed, unknown keys → 401 UNAUTHORIZED", async () => {
    const cases = [
      {},
      { Authorization: "" },
      { Authorization: "Bearer" },
      { Authorization: "Bearer " },
      { Authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
      { Authorization: key },
      { Authorization: "Bearer go2_doesnotexist" },
      { Authorization: "Bearer not-a-go2-key" },
      { Authorization: `Bearer ${key}x` },
      { Authorization: `Bearer go2_${"a".repeat(5000)}` },
      { Authorization: `Token ${key}` },
    ];
    for (const headers of cases) {
      const r = await api("GET", "/api/v1/links", { headers });
      expectError(assert, r, 401, "UNAUTHORIZED");
      assert.equal(r.headers.get("x-ratelimit-limit"), null);
    }
  });

  test("made-up keys leave no rate-limit rows behind", async () => {
    for (let i = 0; i < 3; i++) {
      expectError(assert, await api("GET", "/api/v1/links", { key: "go2_madeup" }), 401, "UNAUTHORIZED");
    }
    const row = await w.db.prepare("SELECT COUNT(*) AS n FROM rate_limits WHERE bucket = ?").bind(`key:${sha256("go2_madeup")}`).first();
    assert.equal(row.n, 0);
  });

  test("the scheme is case-insensitive and spaces are forgiven", async () => {
    for (const a of [`bearer ${key}`, `BEARER ${key}`, `Bearer   ${key}  `]) {
      const r = await api("GET", "/api/v1/links", { headers: { Authorization: a } });
      assert.equal(r.status, 200, `${a}: ${r.text}`);
    }
  });

  test("unknown endpoints answer 404 before asking for a key", async () => {
    expectError(assert, await api("GET", "/api/v1/nothing-here"), 404, "NOT_FOUND");
    expectError(assert, await api("GET", "/api/v1/links"), 401, "UNAUTHORIZED");
  });
});

describe("keys", () => {
  let ws;
  before(async () => {
    ws = await w.workspace("Keys Co", "business");
  });

  test("create full and read-only keys; list, read, revoke", async () => {
    const full = await api("POST", "/api/v1/keys", { key: ws.key, body: { name: "CI", scopes: "full" } });
    assert.equal(full.status, 201, full.text);
    assert.match(full.body.data.key, /^go2_[0-9A-Za-z]{32}$/);
    assert.match(full.body.data.id, /^key_/);
    assert.equal(full.body.data.name, "CI");
    assert.deepEqual(full.body.data.scopes, ["read", "write"]);

    const ro = await api("POST", "/api/v1/keys", { key: ws.key, body: { name: "Dashboard", scopes: "read-only" } });
    assert.equal(ro.status, 201, ro.text);
    assert.deepEqual(ro.body.data.scopes, ["read"]);
    const ro2 = await api("POST", "/api/v1/keys", { key: ws.key, body: { scopes: ["read"] } });
    assert.deepEqual(ro2.body.data.scopes, ["read"]);
    const dflt = await api("POST", "/api/v1/keys", { key: ws.key, body: {} });
    assert.equal(dflt.status, 201, dflt.text);
    assert.deepEqual(dflt.body.data.scopes, ["read", "write"]);

    const list = await api("GET", "/api/v1/keys", { key: ws.key });
    assert.equal(list.status, 200, list.text);
    const ids = list.body.data.map((k) => k.id);
    for (const k of [full, ro, ro2, dflt]) assert.ok(ids.includes(k.body.data.id));
    assert.equal(list.body.data.length, 5);
    for (const k of list.body.data) {
      assert.equal("key" in k, false);
      assert.equal("keyHash" in k, false);
      assert.equal("key_hash" in k, false);
    }
    assert.deepEqual(list.body.meta, { page: 1, perPage: 20, total: 5, totalPages: 1 });
    for (const k of [full, ro]) assert.ok(!list.text.includes(k.body.data.key));

    const one = await api("GET", `/api/v1/keys/${ro.body.data.id}`, { key: ws.key });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.data.name, "Dashboard");
    assert.equal("key" in one.body.data, false);

    // The read-only key reads, but cannot write anything (keys included).
    const roKey = ro.body.data.key;
    assert.equal((await api("GET", "/api/v1/keys", { key: roKey })).status, 200);
    assert.equal((await api("GET", "/api/v1/links", { key: roKey })).status, 200);
    assert.equal((await api("GET", "/api/v1/groups", { key: roKey })).status, 200);
    expectError(assert, await api("POST", "/api/v1/keys", { key: roKey, body: { name: "escalate", scopes: "full" } }), 403, "FORBIDDEN");
    expectError(assert, await api("DELETE", `/api/v1/keys/${full.body.data.id}`, { key: roKey }), 403, "FORBIDDEN");
    expectError(assert, await api("POST", "/api/v1/links", { key: roKey, body: { destinationUrl: "https://e.com" } }), 403, "FORBIDDEN");
    expectError(assert, await api("POST", "/api/v1/groups", { key: roKey, body: { name: "G" } }), 403, "FORBIDDEN");

    // Revoke: 204, the key stops working at once, and is gone from the list.
    const del = await api("DELETE", `/api/v1/keys/${full.body.data.id}`, { key: ws.key });
    assert.equal(del.status, 204);
    assert.equal(del.text, "");
    expectError(assert, await api("GET", "/api/v1/links", { key: full.body.data.key }), 401, "UNAUTHORIZED");
    expectError(assert, await api("DELETE", `/api/v1/keys/${full.body.data.id}`, { key: ws.key }), 404, "NOT_FOUND");
    expectError(assert, await api("GET", `/api/v1/keys/${full.body.data.id}`, { key: ws.key }), 404, "NOT_FOUND");
    const after = await api("GET", "/api/v1/keys", { key: ws.key });
    assert.ok(!after.body.data.some((k) => k.id === full.body.data.id));
    assert.equal(after.body.meta.total, 4);
  });

  test("a key may revoke itself", async () => {
    const k = await api("POST", "/api/v1/keys", { key: ws.key, body: { name: "self" } });
    const r = await api("DELETE", `/api/v1/keys/${k.body.data.id}`, { key: k.body.data.key });
    assert.equal(r.status, 204);
    expectError(assert, await api("GET", "/api/v1/keys", { key: k.body.data.key }), 401, "UNAUTHORIZED");
  });

  test("bad key bodies", async () => {
    for (const scopes of ["admin", ["admin"], [], 5, { read: true }]) {
      const e = expectError(assert, await api("POST", "/api/v1/keys", { key: ws.key, body: { scopes } }), 400, "VALIDATION_ERROR");
      assert.equal(e.field, "scopes");
    }
    let e = expectError(assert, await api("POST", "/api/v1/keys", { key: ws.key, body: { name: 5 } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "name");
    e = expectError(assert, await api("POST", "/api/v1/keys", { key: ws.key, body: { name: "n".repeat(101) } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "name");
    e = expectError(assert, await api("POST", "/api/v1/keys", { key: ws.key, body: { workspaceId: "ws_x" } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "workspaceId");
    expectError(assert, await api("PATCH", "/api/v1/keys", { key: ws.key, body: {} }), 405, "METHOD_NOT_ALLOWED");
  });
});

describe("tenant isolation", () => {
  let a;
  let b;
  const ids = {};

  before(async () => {
    a = await w.workspace("Tenant A", "business");
    b = await w.workspace("Tenant B", "business");
    const g = await api("POST", "/api/v1/groups", { key: a.key, body: { name: "A group" } });
    ids.group = g.body.data.id;
    const l = await api("POST", "/api/v1/links", {
      key: a.key,
      body: { destinationUrl: "https://a.example.com", slug: "tenant-a", tags: ["shared-tag"], groupId: ids.group },
    });
    assert.equal(l.status, 201, l.text);
    ids.link = l.body.data.id;
    const k = await api("POST", "/api/v1/keys", { key: a.key, body: { name: "A second" } });
    ids.key = k.body.data.id;
    // B has its own data with the same tag.
    const bl = await api("POST", "/api/v1/links", { key: b.key, body: { destinationUrl: "https://b.example.com", tags: ["shared-tag"] } });
    assert.equal(bl.status, 201, bl.text);
  });

  test("another workspace's link id → 404 for read, update, delete, stats", async () => {
    expectError(assert, await api("GET", `/api/v1/links/${ids.link}`, { key: b.key }), 404, "NOT_FOUND");
    expectError(assert, await api("GET", `/api/v1/links/${ids.link}/stats`, { key: b.key }), 404, "NOT_FOUND");
    expectError(assert, await api("PATCH", `/api/v1/links/${ids.link}`, { key: b.key, body: { destinationUrl: "https://evil.example" } }), 404, "NOT_FOUND");
    expectError(assert, await api("DELETE", `/api/v1/links/${ids.link}`, { key: b.key }), 404, "NOT_FOUND");
    const mine = await api("GET", `/api/v1/links/${ids.link}`, { key: a.key });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.data.destinationUrl, "https://a.example.com");
    assert.equal((await w.kvRecord("localhost:8787", "tenant-a")).url, "https://a.example.com");
  });

  test("another workspace's group id → 404", async () => {
    expectError(assert, await api("GET", `/api/v1/groups/${ids.group}`, { key: b.key }), 404, "NOT_FOUND");
    expectError(assert, await api("PATCH", `/api/v1/groups/${ids.group}`, { key: b.key, body: { name: "Mine now" } }), 404, "NOT_FOUND");
    expectError(assert, await api("DELETE", `/api/v1/groups/${ids.group}`, { key: b.key }), 404, "NOT_FOUND");
    const g = await api("GET", `/api/v1/groups/${ids.group}`, { key: a.key });
    assert.equal(g.body.data.name, "A group");
    assert.equal(g.body.data.linkCount, 1);
  });

  test("another workspace's key id → 404, and it keeps working", async () => {
    expectError(assert, await api("GET", `/api/v1/keys/${ids.key}`, { key: b.key }), 404, "NOT_FOUND");
    expectError(assert, await api("DELETE", `/api/v1/keys/${ids.key}`, { key: b.key }), 404, "NOT_FOUND");
    assert.equal((await api("GET", `/api/v1/keys/${ids.key}`, { key: a.key })).status, 200);
  });

  test("lists and counts never include another workspace", async () => {
    const bl = await api("GET", "/api/v1/links", { key: b.key });
    assert.equal(bl.body.meta.total, 1);
    assert.ok(!bl.text.includes(ids.link));
    const byTag = await api("GET", "/api/v1/links?tag=shared-tag", { key: b.key });
    assert.equal(byTag.body.meta.total, 1);
    const bySearch = await api("GET", "/api/v1/links?search=tenant-a", { key: b.key });
    assert.equal(bySearch.body.meta.total, 0);
    const byGroup = await api("GET", `/api/v1/links?groupId=${ids.group}`, { key: b.key });
    assert.equal(byGroup.body.meta.total, 0);
    const bg = await api("GET", "/api/v1/groups", { key: b.key });
    assert.equal(bg.body.meta.total, 0);
    assert.deepEqual(bg.body.data, []);
    const bk = await api("GET", "/api/v1/keys", { key: b.key });
    assert.equal(bk.body.data.length, 1);
    assert.ok(!bk.text.includes(ids.key));
    // B cannot attach A's group to its links either.
    const e = expectError(assert, await api("POST", "/api/v1/links", { key: b.key, body: { destinationUrl: "https://b.example.com/2", groupId: ids.group } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "groupId");
    // And a B group with a B link does not change A's count.
    const g = await api("POST", "/api/v1/groups", { key: b.key, body: { name: "B group" } });
    await api("POST", "/api/v1/links", { key: b.key, body: { destinationUrl: "https://b.example.com/3", groupId: g.body.data.id } });
    assert.equal((await api("GET", `/api/v1/groups/${ids.group}`, { key: a.key })).body.data.linkCount, 1);
    assert.equal((await api("GET", `/api/v1/groups/${g.body.data.id}`, { key: b.key })).body.data.linkCount, 1);
  });

  test("an operator ban works across workspaces, a tenant cannot ban", async () => {
    expectError(assert, await api("PATCH", `/api/v1/admin/links/${ids.link}`, { key: b.key, body: { banned: true } }), 401, "UNAUTHORIZED");
    const r = await api("PATCH", `/api/v1/admin/links/${ids.link}`, { key: ADMIN_TOKEN, body: { banned: true } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await api("GET", `/api/v1/links/${ids.link}`, { key: a.key })).body.data.banned, true);
  });
});

describe("rate limit", () => {
  test("a free key: 60 a minute with X-RateLimit-* headers, then 429 with Retry-After", async () => {
    const { key } = await w.workspace("Limited", "free");
    // One pinned clock: the burst stays in one window, however slow.
    const t = inThisMinute();
    for (let i = 1; i <= 60; i++) {
      const r = await api("GET", "/api/v1/links?perPage=1", { key, now: t });
      assert.equal(r.status, 200, `request ${i}: ${r.text}`);
      assert.equal(r.headers.get("x-ratelimit-limit"), "60");
      assert.equal(r.headers.get("x-ratelimit-remaining"), String(60 - i));
      const reset = Number(r.headers.get("x-ratelimit-reset"));
      const now = t / 1000;
      assert.ok(reset > now - 1 && reset <= now + 61, `reset ${reset} now ${now}`);
    }
    const r = await api("GET", "/api/v1/links", { key, now: t });
    expectError(assert, r, 429, "RATE_LIMITED");
    const retry = Number(r.headers.get("retry-after"));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.equal(r.headers.get("x-ratelimit-limit"), "60");
    assert.equal(r.headers.get("x-ratelimit-remaining"), "0");
    assert.ok(Number(r.headers.get("x-ratelimit-reset")) > t / 1000 - 1);

    // A write is refused before it happens.
    const post = await api("POST", "/api/v1/links", { key, now: t, body: { destinationUrl: "https://e.com", slug: "after-limit" } });
    expectError(assert, post, 429, "RATE_LIMITED");
    assert.equal(await w.kvRecord("localhost:8787", "after-limit"), null);

    // The counter lives in D1.
    const row = await w.db
      .prepare("SELECT count, window_start FROM rate_limits WHERE bucket = ?")
      .bind(`key:${sha256(key)}`)
      .first();
    assert.equal(row.count, 62);
    assert.equal(row.window_start % 60_000, 0);
  });

  test("the limit is per key", async () => {
    const ws = await w.workspace("Two keys", "free");
    const t = inThisMinute();
    const other = await api("POST", "/api/v1/keys", { key: ws.key, now: t, body: { name: "other" } });
    assert.equal(other.status, 201, other.text);
    await w.db
      .prepare("INSERT INTO rate_limits (bucket, window_start, count) VALUES (?, ?, 60) ON CONFLICT (bucket, window_start) DO UPDATE SET count = 60")
      .bind(`key:${sha256(ws.key)}`, t - (t % 60_000))
      .run();
    expectError(assert, await api("GET", "/api/v1/links", { key: ws.key, now: t }), 429, "RATE_LIMITED");
    const r = await api("GET", "/api/v1/links", { key: other.body.data.key, now: t });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get("x-ratelimit-remaining"), "59");
  });

  test("it holds across isolates: counts made elsewhere (in D1) are honoured", async () => {
    const { key } = await w.workspace("Shared counter", "free");
    const t = inThisMinute();
    const first = await api("GET", "/api/v1/links", { key, now: t });
    assert.equal(first.headers.get("x-ratelimit-remaining"), "59");
    // Another isolate (or a second dispatchFetch anywhere) counted 58 more.
    const bucket = `key:${sha256(key)}`;
    await w.db.prepare("UPDATE rate_limits SET count = count + 58 WHERE bucket = ?").bind(bucket).run();
    const last = await api("GET", "/api/v1/links", { key, now: t });
    assert.equal(last.status, 200, last.text);
    assert.equal(last.headers.get("x-ratelimit-remaining"), "0");
    const over = await api("GET", "/api/v1/links", { key, now: t });
    expectError(assert, over, 429, "RATE_LIMITED");
    // A second, separate Miniflare instance sharing nothing but this D1
    // state would see the same row: the count is not kept in memory.
    const row = await w.db.prepare("SELECT count FROM rate_limits WHERE bucket = ?").bind(bucket).first();
    assert.equal(row.count, 61);
  });

  test("a pro key gets 300 a minute", async () => {
    const { key } = await w.workspace("Pro", "pro");
    const r = await api("GET", "/api/v1/links", { key });
    assert.equal(r.headers.get("x-ratelimit-limit"), "300");
    assert.equal(r.headers.get("x-ratelimit-remaining"), "299");
  });

  test("operator endpoints are not counted against keys", async () => {
    const r = await api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "Op" } });
    assert.equal(r.headers.get("x-ratelimit-limit"), null);
  });
});

test("a wrong method on an operator path is 405, an unknown operator path 404", async () => {
  for (const [m, p] of [
    ["GET", "/api/v1/admin/workspaces"],
    ["DELETE", "/api/v1/admin/workspaces/ws_x"],
    ["GET", "/api/v1/admin/links/lnk_x"],
  ]) {
    expectError(assert, await w.api(m, p, { key: ADMIN_TOKEN }), 405, "METHOD_NOT_ALLOWED");
  }
  expectError(assert, await w.api("GET", "/api/v1/admin/nothing", { key: ADMIN_TOKEN }), 404, "NOT_FOUND");
});
