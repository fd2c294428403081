// /api/v1/links/bulk against the built wasm worker in Miniflare: bulk
// create, change and delete with partial failures and another workspace's
// ids, the plan quota at its boundary, webhooks per link, bad inputs, and
// KV/D1 consistency when a request dies between its D1 commit and its KV
// writes (the `BULK_FAULT_POINT` hook of test builds), repaired by the cron.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectError, ADMIN_TOKEN } from "./helpers.mjs";

const DOMAIN = "localhost:8787";

let w;
let key;
let other; // another workspace's key

async function api(method, path, opts = {}) {
  const r = await w.api(method, path, { key, ...opts });
  assert.ok(r.status < 500, `${method} ${path} answered ${r.status}: ${r.text}`);
  return r;
}

async function count(sql, ...args) {
  const row = await w.db.prepare(sql).bind(...args).first();
  return row.n;
}

before(async () => {
  w = await startWorker();
  ({ key } = await w.workspace("Bulk Co", "business"));
  ({ key: other } = await w.workspace("Other Co", "business"));
});

after(async () => {
  await w?.close();
});

describe("POST /links/bulk", () => {
  test("creates each valid link and reports each bad one at its index, in order", async () => {
    await api("POST", "/api/v1/links", { body: { destinationUrl: "https://e.com/taken", slug: "bulk-taken" } });
    const hook = await api("POST", "/api/v1/webhooks", {
      body: { name: "h", url: "https://hooks.example.com/x", events: ["link.created"] },
    });
    assert.equal(hook.status, 201, hook.text);
    const r = await api("POST", "/api/v1/links/bulk", {
      body: [
        { destinationUrl: "https://e.com/a", slug: "bulk-a", title: "A", tags: ["x"] },
        { destinationUrl: "ftp://e.com/bad" },
        { destinationUrl: "https://e.com/b" },
        { destinationUrl: "https://e.com/c", slug: "bulk-taken" },
        { destinationUrl: "https://e.com/d", slug: "bulk-a" },
        { destinationUrl: "https://e.com/e", slug: "api" },
        { destinationUrl: "https://e.com/f", groupId: "grp_nope" },
      ],
    });
    assert.equal(r.status, 200, r.text);
    const d = r.body.data;
    assert.deepEqual(
      d.map((e) => e.index),
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.equal(d[0].link.slug, "bulk-a");
    assert.equal(d[0].link.title, "A");
    assert.deepEqual(d[0].link.tags, ["x"]);
    assert.deepEqual(d[1].error, { code: "INVALID_URL", message: d[1].error.message, field: "destinationUrl" });
    assert.match(d[2].link.slug, /^[0-9A-Za-z]{7}$/);
    assert.equal(d[3].error.code, "SLUG_EXISTS");
    assert.equal(d[4].error.code, "SLUG_EXISTS", "the second of two equal slugs fails");
    assert.equal(d[5].error.code, "SLUG_RESERVED");
    assert.equal(d[6].error.field, "groupId");
    // What landed: two links, their KV records, one webhook event each.
    for (const e of [d[0], d[2]]) {
      const rec = await w.kvRecord(DOMAIN, e.link.slug);
      assert.equal(rec.id, e.link.id);
      assert.equal(rec.url, e.link.destinationUrl);
      const got = await api("GET", `/api/v1/links/${e.link.id}`);
      assert.equal(got.status, 200);
    }
    assert.equal(await count("SELECT COUNT(*) AS n FROM links WHERE destination_url LIKE 'https://e.com/%' AND slug <> 'bulk-taken'"), 2);
    assert.equal(await count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE event = 'link.created'"), 2);
    assert.equal(await count("SELECT COUNT(*) AS n FROM kv_pending"), 0, "marks are cleared");
    await api("DELETE", `/api/v1/webhooks/${hook.body.data.id}`);
  });

  test("bad bodies are refused whole, naming the problem, with nothing written", async () => {
    const before = await count("SELECT COUNT(*) AS n FROM links");
    const cases = [
      [{ destinationUrl: "https://e.com" }, 400, "body"],
      [[], 400, "body"],
      [[{ destinationUrl: "https://e.com/ok" }, "not a link"], 400, "body[1]"],
      [Array.from({ length: 101 }, (_, i) => ({ destinationUrl: `https://e.com/${i}` })), 400, "body"],
    ];
    for (const [body, status, field] of cases) {
      const r = await api("POST", "/api/v1/links/bulk", { body });
      const e = expectError(assert, r, status, "VALIDATION_ERROR");
      assert.equal(e.field, field);
    }
    expectError(assert, await api("POST", "/api/v1/links/bulk", { raw: "[{", headers: { "Content-Type": "application/json" } }), 400, "VALIDATION_ERROR");
    expectError(assert, await api("POST", "/api/v1/links/bulk", { raw: "[]", headers: { "Content-Type": "text/csv" } }), 415, "UNSUPPORTED_MEDIA_TYPE");
    const big = JSON.stringify([{ destinationUrl: "https://e.com/" + "x".repeat(1024 * 1024) }]);
    expectError(assert, await api("POST", "/api/v1/links/bulk", { raw: big, headers: { "Content-Type": "application/json" } }), 413, "PAYLOAD_TOO_LARGE");
    assert.equal(await count("SELECT COUNT(*) AS n FROM links"), before);
  });

  test("the plan quota holds for the whole request: all or nothing at the boundary", async () => {
    const r0 = await w.api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "Small", plan: "business", linkQuota: 5 } });
    assert.equal(r0.status, 201, r0.text);
    const small = r0.body.data.apiKey.key;
    const ws = r0.body.data.workspace.id;
    const links = (n, p) => Array.from({ length: n }, (_, i) => ({ destinationUrl: `https://q.com/${p}${i}` }));
    let r = await w.api("POST", "/api/v1/links/bulk", { key: small, body: links(3, "a") });
    assert.equal(r.status, 200, r.text);
    // 3 + 3 > 5: refused whole, nothing written.
    r = await w.api("POST", "/api/v1/links/bulk", { key: small, body: links(3, "b") });
    expectError(assert, r, 403, "LIMIT_REACHED");
    assert.match(r.body.error.message, /allows 5 links/);
    assert.equal(await count("SELECT COUNT(*) AS n FROM links WHERE workspace_id = ?1", ws), 3);
    // Invalid inputs do not count: 2 valid + 1 invalid fills it exactly.
    r = await w.api("POST", "/api/v1/links/bulk", { key: small, body: [...links(2, "c"), { destinationUrl: "nope" }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.filter((e) => e.link).length, 2);
    assert.equal(await count("SELECT COUNT(*) AS n FROM links WHERE workspace_id = ?1", ws), 5);
    r = await w.api("POST", "/api/v1/links/bulk", { key: small, body: links(1, "d") });
    expectError(assert, r, 403, "LIMIT_REACHED");
    assert.equal(await count("SELECT COUNT(*) AS n FROM links WHERE workspace_id = ?1", ws), 5);
  });

  test("a read-only key cannot bulk-write", async () => {
    const k = await api("POST", "/api/v1/keys", { body: { name: "ro", scopes: ["read"] } });
    const ro = k.body.data.key;
    for (const [m, body] of [["POST", [{ destinationUrl: "https://e.com" }]], ["PATCH", { ids: ["lnk_x"], changes: { archived: true } }], ["DELETE", { ids: ["lnk_x"] }]]) {
      expectError(assert, await w.api(m, "/api/v1/links/bulk", { key: ro, body }), 403, "FORBIDDEN");
    }
  });
});

describe("PATCH /links/bulk", () => {
  test("changes tags, group, archived and suspended; others' and unknown ids are not found", async () => {
    const g = await api("POST", "/api/v1/groups", { body: { name: "Spring" } });
    const hook = await api("POST", "/api/v1/webhooks", { body: { name: "u", url: "https://hooks.example.com/u", events: ["link.updated"] } });
    const updates = () => count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE event = 'link.updated'");
    const before = await updates();
    const mine = (
      await api("POST", "/api/v1/links/bulk", {
        body: [
          { destinationUrl: "https://p.com/1", tags: ["keep", "drop"] },
          { destinationUrl: "https://p.com/2", tags: ["drop"] },
        ],
      })
    ).body.data.map((e) => e.link);
    const theirs = (await w.api("POST", "/api/v1/links", { key: other, body: { destinationUrl: "https://p.com/theirs", tags: ["drop"] } })).body.data;
    const r = await api("PATCH", "/api/v1/links/bulk", {
      body: {
        ids: [mine[0].id, theirs.id, "lnk_unknown", mine[1].id],
        changes: { addTags: ["new"], removeTags: ["drop"], groupId: g.body.data.id, archived: true, suspended: true },
      },
    });
    assert.equal(r.status, 200, r.text);
    const d = r.body.data;
    assert.deepEqual(d.map((e) => [e.index, e.id]), [[0, mine[0].id], [1, theirs.id], [2, "lnk_unknown"], [3, mine[1].id]]);
    assert.deepEqual(d[0].link.tags, ["keep", "new"]);
    assert.deepEqual(d[3].link.tags, ["new"]);
    for (const e of [d[0], d[3]]) {
      assert.equal(e.link.groupId, g.body.data.id);
      assert.equal(e.link.archived, true);
      assert.equal(e.link.suspended, true);
      // Suspension is in the redirect record.
      assert.equal((await w.kvRecord(DOMAIN, e.link.slug)).sus, true);
      assert.equal((await w.fetch(`/${e.link.slug}`)).status, 410);
    }
    for (const e of [d[1], d[2]]) assert.equal(e.error.code, "NOT_FOUND");
    assert.equal(await updates(), before + 2, "one link.updated per changed link");
    await api("DELETE", `/api/v1/webhooks/${hook.body.data.id}`);
    const t = await w.api("GET", `/api/v1/links/${theirs.id}`, { key: other });
    assert.deepEqual(t.body.data.tags, ["drop"], "another workspace's link is untouched");
    assert.equal(t.body.data.suspended, false);
    assert.equal((await w.kvRecord(DOMAIN, theirs.slug)).sus, undefined);
    // Un-suspend: the record follows.
    const u = await api("PATCH", "/api/v1/links/bulk", { body: { ids: [mine[0].id], changes: { suspended: false, groupId: null } } });
    assert.equal(u.body.data[0].link.groupId, null);
    assert.equal((await w.kvRecord(DOMAIN, mine[0].slug)).sus, undefined);
  });

  test("only the bulk changes are accepted, naming the field", async () => {
    const cases = [
      [{ ids: ["lnk_a"], changes: { destinationUrl: "https://e.com" } }, "changes.destinationUrl"],
      [{ ids: ["lnk_a"], changes: { tags: ["a"] } }, "changes.tags"],
      [{ ids: ["lnk_a"], changes: {} }, "changes"],
      [{ ids: ["lnk_a"] }, "changes"],
      [{ ids: ["lnk_a"], changes: { archived: "yes" } }, "changes.archived"],
      [{ ids: ["lnk_a"], changes: { addTags: "a" } }, "changes.addTags"],
      [{ ids: ["lnk_a"], changes: { removeTags: null } }, "changes.removeTags"],
      [{ ids: ["lnk_a"], changes: { groupId: "grp_missing" } }, "changes.groupId"],
      [{ ids: [], changes: { archived: true } }, "ids"],
      [{ ids: "lnk_a", changes: { archived: true } }, "ids"],
      [{ ids: [5], changes: { archived: true } }, "ids"],
      [{ ids: ["lnk_a", "lnk_a"], changes: { archived: true } }, "ids"],
      [{ ids: Array.from({ length: 101 }, (_, i) => `lnk_${i}`), changes: { archived: true } }, "ids"],
      [{ ids: ["lnk_a"], changes: { archived: true }, extra: 1 }, "extra"],
    ];
    for (const [body, field] of cases) {
      const e = expectError(assert, await api("PATCH", "/api/v1/links/bulk", { body }), 400, "VALIDATION_ERROR");
      assert.equal(e.field, field, JSON.stringify(body));
    }
  });

  test("a link that would pass 20 tags fails alone", async () => {
    const many = Array.from({ length: 20 }, (_, i) => `t${i}`);
    const [a, b] = (await api("POST", "/api/v1/links/bulk", { body: [{ destinationUrl: "https://t.com/1", tags: many }, { destinationUrl: "https://t.com/2" }] })).body.data.map((e) => e.link);
    const r = await api("PATCH", "/api/v1/links/bulk", { body: { ids: [a.id, b.id], changes: { addTags: ["one-more"] } } });
    assert.equal(r.body.data[0].error.field, "tags");
    assert.deepEqual(r.body.data[1].link.tags, ["one-more"]);
  });
});

describe("DELETE /links/bulk", () => {
  test("deletes the workspace's links and their records; others' ids are not found", async () => {
    const mine = (await api("POST", "/api/v1/links/bulk", { body: [{ destinationUrl: "https://d.com/1" }, { destinationUrl: "https://d.com/2" }] })).body.data.map((e) => e.link);
    const hook = await api("POST", "/api/v1/webhooks", { body: { name: "d", url: "https://hooks.example.com/d", events: ["link.deleted"] } });
    const theirs = (await w.api("POST", "/api/v1/links", { key: other, body: { destinationUrl: "https://d.com/theirs" } })).body.data;
    const r = await api("DELETE", "/api/v1/links/bulk", { body: { ids: [theirs.id, mine[0].id, "lnk_nope", mine[1].id] } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.data, [
      { index: 0, id: theirs.id, error: r.body.data[0].error },
      { index: 1, id: mine[0].id, deleted: true },
      { index: 2, id: "lnk_nope", error: r.body.data[2].error },
      { index: 3, id: mine[1].id, deleted: true },
    ]);
    assert.equal(r.body.data[0].error.code, "NOT_FOUND");
    const deliveries = await w.db.prepare("SELECT payload FROM webhook_deliveries WHERE event = 'link.deleted'").all();
    assert.deepEqual(deliveries.results.map((x) => JSON.parse(x.payload).data.id).sort(), mine.map((l) => l.id).sort());
    await api("DELETE", `/api/v1/webhooks/${hook.body.data.id}`);
    for (const l of mine) {
      assert.equal(await w.kvRecord(DOMAIN, l.slug), null);
      assert.equal((await api("GET", `/api/v1/links/${l.id}`)).status, 404);
    }
    assert.equal((await w.api("GET", `/api/v1/links/${theirs.id}`, { key: other })).status, 200);
    assert.notEqual(await w.kvRecord(DOMAIN, theirs.slug), null);
    const e = expectError(assert, await api("DELETE", "/api/v1/links/bulk", { body: { ids: Array.from({ length: 101 }, (_, i) => `lnk_${i}`) } }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "ids");
    expectError(assert, await api("DELETE", "/api/v1/links/bulk", { body: {} }), 400, "VALIDATION_ERROR");
  });

  test("routes: /links/bulk is not a link id, and answers 405 with Allow for GET", async () => {
    const r = await api("GET", "/api/v1/links/bulk");
    expectError(assert, r, 405, "METHOD_NOT_ALLOWED");
    assert.deepEqual(r.headers.get("allow").split(", ").sort(), ["DELETE", "PATCH", "POST"]);
  });
});

describe("a request that dies between D1 and KV", () => {
  let f;
  let fkey;
  before(async () => {
    f = await startWorker({ vars: { BULK_FAULT_POINT: "after-d1" } });
    ({ key: fkey } = await f.workspace("Faulty", "business"));
  });
  after(async () => f?.close());

  test("leaves marks that the cron turns into the records D1 holds", async () => {
    // Pinned two minutes back, so its marks are stale for the cron now.
    const now = Date.now() - 120_000;
    const pre = (await f.api("POST", "/api/v1/links", { key: fkey, body: { destinationUrl: "https://f.com/pre", slug: "pre" } })).body.data;
    const r = await f.api("POST", "/api/v1/links/bulk", {
      key: fkey,
      now,
      body: [
        { destinationUrl: "https://f.com/1", slug: "f-one" },
        { destinationUrl: "https://f.com/2", slug: "f-two" },
      ],
    });
    expectError(assert, r, 500, "INTERNAL");
    // D1 committed (the links exist), KV did not get them.
    const rows = (await f.db.prepare("SELECT slug FROM links WHERE slug IN ('f-one', 'f-two') ORDER BY slug").all()).results;
    assert.deepEqual(rows.map((x) => x.slug), ["f-one", "f-two"]);
    assert.equal(await f.kvRecord(DOMAIN, "f-one"), null);
    assert.equal((await f.fetch("/f-one")).status, 404);
    const marks = await f.db.prepare("SELECT domain, slug FROM kv_pending ORDER BY slug").all();
    assert.deepEqual(marks.results.map((m) => m.slug), ["f-one", "f-two"]);
    // A bulk delete dies the same way: D1 lost the link, KV still has it.
    const d = await f.api("DELETE", "/api/v1/links/bulk", { key: fkey, now, body: { ids: [pre.id] } });
    expectError(assert, d, 500, "INTERNAL");
    assert.notEqual(await f.kvRecord(DOMAIN, "pre"), null);

    await f.mf.getWorker().then((wk) => wk.scheduled({ cron: "* * * * *" }));
    const one = await f.kvRecord(DOMAIN, "f-one");
    assert.equal(one.url, "https://f.com/1");
    assert.equal((await f.kvRecord(DOMAIN, "f-two")).url, "https://f.com/2");
    assert.equal(await f.kvRecord(DOMAIN, "pre"), null, "the deleted link's record is gone");
    assert.equal((await f.fetch("/f-one")).status, 302);
    assert.equal((await f.fetch("/pre")).status, 404);
    assert.equal((await f.db.prepare("SELECT COUNT(*) AS n FROM kv_pending").first()).n, 0);
  });

  test("fresh marks are left to their request (the cron only takes stale ones)", async () => {
    const r = await f.api("POST", "/api/v1/links/bulk", { key: fkey, body: [{ destinationUrl: "https://f.com/3", slug: "f-three" }] });
    expectError(assert, r, 500, "INTERNAL");
    await f.mf.getWorker().then((wk) => wk.scheduled({ cron: "* * * * *" }));
    assert.equal((await f.db.prepare("SELECT COUNT(*) AS n FROM kv_pending WHERE slug = 'f-three'").first()).n, 1);
  });
});
