// xiaomark's POST /v2/sl/link/batch_get: exact request and response shape
// of the seed, paging by offset/count, errors in xiaomark's shape.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, inThisMinute, ADMIN_TOKEN, BASE } from "./helpers.mjs";

const PATH = "/v2/sl/link/batch_get";
const LINK_FIELDS = {
  url: "string",
  domain: "string",
  create_time: "number",
  project_id: "string",
  group_id: "string",
  name: "string",
  target_url: "string",
  escape_from_wechat: "boolean",
  advanced_bot_detection: "boolean",
  webhook: "boolean",
  webhook_scene: "string",
  suspended: "boolean",
  banned: "boolean",
};

let w;
let ws; // { workspace, key }
let group;
const made = []; // links of `group`, in creation order

async function batch(body, opts = {}) {
  const r = await w.api("POST", PATH, { body, ...opts });
  assert.ok(r.status < 500, `${PATH} answered ${r.status}: ${r.text}`);
  return r;
}

/** xiaomark-shaped error: non-zero code equal to the HTTP status, data null. */
function expectXmError(r, status, messagePattern) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get("content-type"), /^application\/json/);
  assert.deepEqual(Object.keys(r.body).sort(), ["code", "data", "message"]);
  assert.equal(r.body.code, status, r.text);
  assert.notEqual(r.body.code, 0);
  assert.equal(r.body.data, null);
  assert.equal(typeof r.body.message, "string");
  assert.ok(r.body.message.length > 0);
  if (messagePattern) assert.match(r.body.message, messagePattern);
  assert.equal("success" in r.body, false, "not the go2 envelope");
}

async function link(key, body) {
  const r = await w.api("POST", "/api/v1/links", { key, body });
  assert.equal(r.status, 201, r.text);
  return r.body.data;
}

before(async () => {
  w = await startWorker();
  ws = await w.workspace("Xiaomark", "business");
  group = (await w.api("POST", "/api/v1/groups", { key: ws.key, body: { name: "81myhfrn" } })).body.data;
  // The seed's three links, in its order.
  made.push(
    await link(ws.key, {
      destinationUrl: "https://xiaomark.com/shortlink",
      slug: "6GtdVb",
      groupId: group.id,
      advancedBotDetection: true,
      suspended: true,
    }),
  );
  made.push(
    await link(ws.key, {
      destinationUrl: "https://docsmall.com/image-compress",
      slug: "biMfBE",
      title: "图片压缩",
      groupId: group.id,
      escapeFromWechat: true,
      webhook: true,
      webhookScene: "image-compress",
    }),
  );
  made.push(
    await link(ws.key, {
      destinationUrl: "https://xiaomark.com/plan/shortlink",
      slug: "cVh7rh",
      title: "产品套餐定价方案",
      groupId: group.id,
      advancedBotDetection: true,
      webhook: true,
      webhookScene: "plan",
    }),
  );
  // Not in the group: never listed.
  await link(ws.key, { destinationUrl: "https://example.com/ungrouped" });
});

after(async () => {
  await w?.close();
});

describe("batch_get", () => {
  test("the seed's request answers the seed's response shape", async () => {
    const r = await batch({ apikey: ws.key, group_id: group.id, offset: 0, count: 20 });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get("content-type"), /^application\/json/);
    assert.deepEqual(Object.keys(r.body).sort(), ["code", "data", "message"]);
    assert.equal(r.body.code, 0);
    assert.equal(r.body.message, "请求成功");
    assert.deepEqual(Object.keys(r.body.data).sort(), ["count", "links", "total"]);
    assert.equal(r.body.data.count, 3);
    assert.equal(r.body.data.total, 3);
    const links = r.body.data.links;
    assert.equal(links.length, 3);
    for (const l of links) {
      assert.deepEqual(Object.keys(l).sort(), Object.keys(LINK_FIELDS).sort());
      for (const [k, t] of Object.entries(LINK_FIELDS)) assert.equal(typeof l[k], t, `${k} of ${JSON.stringify(l)}`);
      assert.ok(Number.isInteger(l.create_time));
    }
    const [a, b, c] = links;
    const createdSecs = Math.floor(Date.parse(made[0].createdAt) / 1000);
    assert.deepEqual(a, {
      url: `${BASE}/6GtdVb`,
      domain: "localhost:8787",
      create_time: createdSecs,
      project_id: ws.workspace.id,
      group_id: group.id,
      name: "短链6GtdVb",
      target_url: "https://xiaomark.com/shortlink",
      escape_from_wechat: false,
      advanced_bot_detection: true,
      webhook: false,
      webhook_scene: "",
      suspended: true,
      banned: false,
    });
    assert.equal(b.name, "图片压缩");
    assert.equal(b.target_url, "https://docsmall.com/image-compress");
    assert.equal(b.escape_from_wechat, true);
    assert.equal(b.webhook, true);
    assert.equal(b.webhook_scene, "image-compress");
    assert.equal(b.suspended, false);
    assert.equal(c.name, "产品套餐定价方案");
    assert.equal(c.webhook_scene, "plan");
    // Seconds, not milliseconds.
    assert.ok(Math.abs(c.create_time - Date.now() / 1000) < 120, String(c.create_time));
    // Oldest first.
    assert.ok(a.create_time <= b.create_time && b.create_time <= c.create_time);
    assert.deepEqual(
      links.map((l) => l.url),
      made.map((m) => m.shortUrl),
    );
  });

  test("offset and count page through the group; defaults are 0 and 10", async () => {
    let r = await batch({ apikey: ws.key, group_id: group.id, offset: 1, count: 1 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.count, 1);
    assert.equal(r.body.data.total, 3);
    assert.equal(r.body.data.links[0].url, made[1].shortUrl);
    r = await batch({ apikey: ws.key, group_id: group.id, offset: 2 });
    assert.deepEqual(
      r.body.data.links.map((l) => l.url),
      [made[2].shortUrl],
    );
    r = await batch({ apikey: ws.key, group_id: group.id, offset: 10, count: 5 });
    assert.deepEqual(r.body.data, { links: [], count: 0, total: 3 });
    r = await batch({ apikey: ws.key, group_id: group.id, count: 0 });
    assert.deepEqual(r.body.data, { links: [], count: 0, total: 3 });
    r = await batch({ apikey: ws.key, group_id: group.id, offset: null, count: null });
    assert.equal(r.body.data.count, 3);

    // Default count is 10, maximum 100.
    const big = (await w.api("POST", "/api/v1/groups", { key: ws.key, body: { name: "big" } })).body.data;
    for (let i = 0; i < 12; i++) await link(ws.key, { destinationUrl: `https://example.com/big/${i}`, title: `big ${i}`, groupId: big.id });
    r = await batch({ apikey: ws.key, group_id: big.id });
    assert.equal(r.body.data.count, 10);
    assert.equal(r.body.data.total, 12);
    assert.deepEqual(
      r.body.data.links.map((l) => l.name),
      Array.from({ length: 10 }, (_, i) => `big ${i}`),
    );
    r = await batch({ apikey: ws.key, group_id: big.id, offset: 10, count: 100 });
    assert.deepEqual(
      r.body.data.links.map((l) => l.name),
      ["big 10", "big 11"],
    );
  });

  test("an empty group answers an empty list", async () => {
    const g = (await w.api("POST", "/api/v1/groups", { key: ws.key, body: { name: "empty" } })).body.data;
    const r = await batch({ apikey: ws.key, group_id: g.id });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { code: 0, message: "请求成功", data: { links: [], count: 0, total: 0 } });
  });

  test("link settings changed through the API show up; banned too", async () => {
    const target = made[0];
    let r = await w.api("PATCH", `/api/v1/links/${target.id}`, { key: ws.key, body: { suspended: false, title: "Renamed" } });
    assert.equal(r.status, 200, r.text);
    r = await w.api("PATCH", `/api/v1/admin/links/${target.id}`, { key: ADMIN_TOKEN, body: { banned: true } });
    assert.equal(r.status, 200, r.text);
    r = await batch({ apikey: ws.key, group_id: group.id, count: 1 });
    const l = r.body.data.links[0];
    assert.equal(l.name, "Renamed");
    assert.equal(l.suspended, false);
    assert.equal(l.banned, true);
    // Restore for the other tests.
    await w.api("PATCH", `/api/v1/admin/links/${target.id}`, { key: ADMIN_TOKEN, body: { banned: false } });
    await w.api("PATCH", `/api/v1/links/${target.id}`, { key: ws.key, body: { title: null, suspended: true } });
  });

  test("a read-only key is enough, and the call counts against the rate limit", async () => {
    const ro = (await w.api("POST", "/api/v1/keys", { key: ws.key, body: { scopes: "read-only" } })).body.data.key;
    const r = await batch({ apikey: ro, group_id: group.id });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.total, 3);
    assert.equal(r.headers.get("x-ratelimit-limit"), "1000");
    assert.equal(r.headers.get("x-ratelimit-remaining"), "999");
  });
});

describe("batch_get errors", () => {
  test("missing, invalid and revoked apikey → 401", async () => {
    expectXmError(await batch({ group_id: group.id }), 401, /apikey/);
    expectXmError(await batch({ apikey: "", group_id: group.id }), 401, /apikey/);
    expectXmError(await batch({ apikey: null, group_id: group.id }), 401, /apikey/);
    expectXmError(await batch({ apikey: "5ac55544645cf99e40b14b4e78de5d90", group_id: group.id }), 401, /apikey/);
    expectXmError(await batch({ apikey: "go2_nope", group_id: group.id }), 401, /apikey/);
    const k = (await w.api("POST", "/api/v1/keys", { key: ws.key, body: {} })).body.data;
    assert.equal((await w.api("DELETE", `/api/v1/keys/${k.id}`, { key: ws.key })).status, 204);
    expectXmError(await batch({ apikey: k.key, group_id: group.id }), 401, /apikey/);
    // A Bearer header is not the xiaomark way, and not needed.
    expectXmError(await batch({ group_id: group.id }, { key: ws.key }), 401);
  });

  test("unknown group, or another workspace's group → 404", async () => {
    expectXmError(await batch({ apikey: ws.key, group_id: "81myhfrn" }), 404, /分组/);
    const other = await w.workspace("Other", "business");
    const r = await batch({ apikey: other.key, group_id: group.id });
    expectXmError(r, 404, /分组/);
    assert.ok(!r.text.includes("6GtdVb"));
  });

  test("bad parameters → 400 naming the parameter", async () => {
    const cases = [
      [{ apikey: ws.key }, "group_id"],
      [{ apikey: ws.key, group_id: "" }, "group_id"],
      [{ apikey: ws.key, group_id: 42 }, "group_id"],
      [{ apikey: ws.key, group_id: "g".repeat(65) }, "group_id"],
      [{ apikey: ws.key, group_id: group.id, count: 101 }, "count"],
      [{ apikey: ws.key, group_id: group.id, count: -1 }, "count"],
      [{ apikey: ws.key, group_id: group.id, count: "20" }, "count"],
      [{ apikey: ws.key, group_id: group.id, count: 2.5 }, "count"],
      [{ apikey: ws.key, group_id: group.id, offset: -1 }, "offset"],
      [{ apikey: ws.key, group_id: group.id, offset: "0" }, "offset"],
      [{ apikey: 123, group_id: group.id }, "apikey"],
    ];
    for (const [body, field] of cases) {
      const r = await batch(body);
      expectXmError(r, 400, new RegExp(field));
    }
  });

  test("malformed bodies → 400/413/415 in xiaomark's shape", async () => {
    const json = { "Content-Type": "application/json" };
    for (const raw of ["{", "[]", '"apikey"', "", "null"]) {
      expectXmError(await batch(undefined, { raw, headers: json }), 400, /body/);
    }
    const big = JSON.stringify({ apikey: ws.key, group_id: group.id, pad: "x".repeat(70_000) });
    expectXmError(await batch(undefined, { raw: big, headers: json }), 413);
    expectXmError(
      await batch(undefined, { raw: `apikey=${ws.key}&group_id=${group.id}`, headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
      415,
    );
    // Unknown fields are ignored, as xiaomark does.
    const ok = await batch({ apikey: ws.key, group_id: group.id, extra: true });
    assert.equal(ok.status, 200, ok.text);
  });

  test("wrong method → 405; unknown /v2 path → 404, both in xiaomark's shape", async () => {
    expectXmError(await w.api("GET", PATH), 405);
    expectXmError(await w.api("PUT", PATH, { body: {} }), 405);
    expectXmError(await w.api("POST", "/v2/sl/link/create", { body: { apikey: ws.key } }), 404);
    expectXmError(await w.api("POST", "/v2/unknown", { body: {} }), 404);
  });

  test("rate limit: 429 with Retry-After and X-RateLimit-* in xiaomark's shape", async () => {
    const now = inThisMinute();
    const free = await w.workspace("Free xm", "free");
    const g = (await w.api("POST", "/api/v1/groups", { key: free.key, now, body: { name: "g" } })).body.data;
    // Use up the rest of the minute's 60 (the group create was one).
    const { createHash } = await import("node:crypto");
    const bucket = `key:${createHash("sha256").update(free.key).digest("hex")}`;
    await w.db.prepare("UPDATE rate_limits SET count = 60 WHERE bucket = ?").bind(bucket).run();
    const r = await batch({ apikey: free.key, group_id: g.id }, { now });
    expectXmError(r, 429);
    const retry = Number(r.headers.get("retry-after"));
    assert.ok(retry >= 1 && retry <= 60, String(retry));
    assert.equal(r.headers.get("x-ratelimit-limit"), "60");
    assert.equal(r.headers.get("x-ratelimit-remaining"), "0");
    assert.ok(r.headers.get("x-ratelimit-reset"));
  });
});
