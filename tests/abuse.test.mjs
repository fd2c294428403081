// The abuse guard (issue #11) against the wasm worker in Miniflare: the
// operator's blocklist endpoints, link writes refused on blocked hosts and
// self-loops, existing links of every workspace banned by a block through
// the JOBS queue (in chunks) and freed by an unblock, an operator's own ban
// kept, and `link.updated` webhooks to a real HTTP receiver.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startWorker, expectError, ADMIN_TOKEN } from "./helpers.mjs";

const DOMAIN = "localhost:8787";

class Receiver {
  constructor() {
    this.events = [];
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        this.events.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        res.writeHead(200);
        res.end("ok");
      });
    });
  }
  async start() {
    await new Promise((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${this.server.address().port}/hook`;
  }
  stop() {
    return new Promise((r) => this.server.close(r));
  }
  updates(linkId) {
    return this.events.filter((e) => e.event === "link.updated" && e.data.id === linkId);
  }
}

let w;
let rx;
let a; // workspace A's key
let b; // workspace B's key

before(async () => {
  rx = new Receiver();
  await rx.start();
  w = await startWorker({ vars: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_SCHEDULE: "1,1,1,1" } });
  ({ key: a } = await w.workspace("Workspace A", "business"));
  ({ key: b } = await w.workspace("Workspace B", "business"));
  const hook = await w.api("POST", "/api/v1/webhooks", { key: a, body: { url: rx.url, events: ["link.updated"] } });
  assert.equal(hook.status, 201, hook.text);
});

after(async () => {
  await w?.close();
  await rx?.stop();
});

async function waitFor(what, fn, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const admin = (method, path, body) => w.api(method, path, { key: ADMIN_TOKEN, body });
const link = async (key, body) => {
  const r = await w.api("POST", "/api/v1/links", { key, body });
  assert.equal(r.status, 201, r.text);
  return r.body.data;
};
const row = (id) => w.db.prepare("SELECT banned, banned_by_block FROM links WHERE id = ?1").bind(id).first();
const status = async (slug) =>
  (await w.fetch(`/${slug}`, { headers: { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" } })).status;
const count = async (table) => (await w.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first()).n;

test("bad blocklist requests are refused and write nothing", async () => {
  expectError(assert, await w.api("POST", "/api/v1/admin/blocklist", { key: a, body: { host: "evil.example" } }), 401, "UNAUTHORIZED");
  expectError(assert, await w.api("GET", "/api/v1/admin/blocklist", { key: a }), 401, "UNAUTHORIZED");
  expectError(assert, await w.api("DELETE", "/api/v1/admin/blocklist/evil.example", { key: a }), 401, "UNAUTHORIZED");
  for (const host of ["https://evil.example", "evil", "evil.example/path", "evil.example:8080", "", "ev il.example", 5]) {
    const e = expectError(assert, await admin("POST", "/api/v1/admin/blocklist", { host }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "host", JSON.stringify(host));
  }
  const e = expectError(assert, await admin("POST", "/api/v1/admin/blocklist", { host: "evil.example", note: 1 }), 400, "VALIDATION_ERROR");
  assert.equal(e.field, "note");
  assert.equal(await count("blocked_hosts"), 0);
  expectError(assert, await admin("DELETE", "/api/v1/admin/blocklist/nothing.example"), 404, "NOT_FOUND");
});

test("self-loops: a short link of this platform is not a destination", async () => {
  for (const [body, field] of [
    [{ destinationUrl: `http://${DOMAIN}/some-slug` }, "destinationUrl"],
    [{ destinationUrl: "https://example.com/", geoTargets: { FR: `http://${DOMAIN}/x` } }, "geoTargets.FR"],
    [{ destinationUrl: "https://example.com/", iosUrl: "https://go.brand.example/promo" }, "iosUrl"],
  ]) {
    // go.brand.example: a verified custom domain of another workspace.
    await w.db
      .prepare("INSERT OR IGNORE INTO domains (id, workspace_id, domain, verification_token, verified, created_at) VALUES ('dom_x', (SELECT id FROM workspaces LIMIT 1), 'go.brand.example', 't', 1, 0)")
      .run();
    const before = await count("links");
    const e = expectError(assert, await w.api("POST", "/api/v1/links", { key: b, body }), 400, "INVALID_URL");
    assert.equal(e.field, field);
    assert.equal(await count("links"), before);
  }
  // The platform's other pages are fine destinations.
  await link(b, { destinationUrl: `http://${DOMAIN}/bio/someone` });
  const ok = await link(b, { destinationUrl: "https://go.brand.example/" });
  const p = await w.api("PATCH", `/api/v1/links/${ok.id}`, { key: b, body: { destinationUrl: "https://go.brand.example/loop" } });
  assert.equal(expectError(assert, p, 400, "INVALID_URL").field, "destinationUrl");
});

test("a block bans existing links in every workspace, refuses new ones, and an unblock frees only its bans", async () => {
  const evilA = await link(a, { destinationUrl: "https://evil.example/login", slug: "evil-a" });
  const geoA = await link(a, { destinationUrl: "https://fine.example/", slug: "geo-a", geoTargets: { DE: "https://a.b.evil.example/x" } });
  const abA = await link(a, {
    destinationUrl: "https://fine.example/",
    slug: "ab-a",
    testVariants: [
      { url: "https://fine.example/1", weight: 50 },
      { url: "https://EVIL.example/2", weight: 50 },
    ],
  });
  const manual = await link(a, { destinationUrl: "https://evil.example/manual", slug: "manual-a" });
  const safe = await link(a, { destinationUrl: "https://notevil.example/", slug: "safe-a" });
  const evilB = await link(b, { destinationUrl: "https://www.evil.example/", slug: "evil-b" });
  // The operator bans one by hand first.
  assert.equal((await admin("PATCH", `/api/v1/admin/links/${manual.id}`, { banned: true })).status, 200);

  const r = await admin("POST", "/api/v1/admin/blocklist", { host: "Evil.Example" });
  assert.equal(r.status, 201, r.text);
  assert.match(r.body.data.id, /^blk_/);
  assert.equal(r.body.data.host, "evil.example");
  expectError(assert, await admin("POST", "/api/v1/admin/blocklist", { host: "*.evil.example" }), 409, "CONFLICT");
  const blk = r.body.data.id;

  const banned = [evilA, geoA, abA, evilB];
  await waitFor("bans", async () => (await Promise.all(banned.map((l) => row(l.id)))).every((x) => x.banned === 1));
  for (const l of banned) {
    assert.equal((await row(l.id)).banned_by_block, blk);
    assert.equal(await status(l.slug), 451, l.slug);
    assert.equal((await w.kvRecord(DOMAIN, l.slug)).ban, true);
  }
  assert.equal(await status("safe-a"), 302);
  assert.deepEqual(await row(manual.id), { banned: 1, banned_by_block: null });
  const list = await admin("GET", "/api/v1/admin/blocklist");
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(
    list.body.data.map((x) => [x.host, x.bannedLinks]),
    [["evil.example", 4]],
  );
  assert.equal(list.body.meta.total, 1);

  // Each of A's banned links raised link.updated (B has no webhook).
  await waitFor("webhooks", async () => [evilA, geoA, abA].every((l) => rx.updates(l.id).length >= 1));
  for (const l of [evilA, geoA, abA]) {
    const [e] = rx.updates(l.id);
    assert.equal(e.data.banned, true);
    assert.equal(e.data.slug, l.slug);
  }

  // New links and changes pointing there are refused, naming the field.
  const refusals = [
    [{ destinationUrl: "https://login.evil.example/" }, "destinationUrl"],
    [{ destinationUrl: "https://fine.example/", deviceTargets: { mobile: "https://evil.example/m" } }, "deviceTargets.mobile"],
    [{ destinationUrl: "https://fine.example/", androidUrl: "https://evil.example/app" }, "androidUrl"],
    [
      { destinationUrl: "https://fine.example/", testVariants: [{ url: "https://fine.example/", weight: 50 }, { url: "https://x.evil.example/", weight: 50 }] },
      "testVariants[1].url",
    ],
  ];
  const before = await count("links");
  for (const [body, field] of refusals) {
    const e = expectError(assert, await w.api("POST", "/api/v1/links", { key: b, body }), 400, "DESTINATION_BLOCKED");
    assert.equal(e.field, field);
  }
  assert.equal(await count("links"), before);
  const p = await w.api("PATCH", `/api/v1/links/${safe.id}`, { key: a, body: { geoTargets: { US: "https://evil.example/us" } } });
  assert.equal(expectError(assert, p, 400, "DESTINATION_BLOCKED").field, "geoTargets.US");
  assert.equal((await w.db.prepare("SELECT geo_targets FROM links WHERE id = ?1").bind(safe.id).first()).geo_targets, "{}");

  // Unblock (by host): the block's bans are lifted, the operator's stays.
  const d = await admin("DELETE", "/api/v1/admin/blocklist/evil.example");
  assert.equal(d.status, 204, d.text);
  await waitFor("unbans", async () => (await Promise.all(banned.map((l) => row(l.id)))).every((x) => x.banned === 0));
  for (const l of banned) {
    assert.equal(await status(l.slug), 302, l.slug);
    assert.equal((await row(l.id)).banned_by_block, null);
  }
  assert.equal(await status("manual-a"), 451);
  await waitFor("unban webhooks", async () => [evilA, geoA, abA].every((l) => rx.updates(l.id).length >= 2));
  assert.equal(rx.updates(evilA.id)[1].data.banned, false);
  assert.equal((await admin("GET", "/api/v1/admin/blocklist")).body.data.length, 0);
  // And the host may be linked again.
  await link(b, { destinationUrl: "https://evil.example/again" });
});

test("a block walks every link in chunks; an overlapping block keeps its bans on unblock", async () => {
  // 130 links: more than one chunk of 100.
  const many = [];
  for (let i = 0; i < 130; i++) {
    const r = await w.api("POST", "/api/v1/links", { key: i % 2 ? a : b, body: { destinationUrl: `https://s${i}.bulk.example/p` } });
    assert.equal(r.status, 201, r.text);
    many.push(r.body.data.id);
  }
  const wide = (await admin("POST", "/api/v1/admin/blocklist", { host: "bulk.example" })).body.data;
  const banned = async () =>
    (await w.db.prepare("SELECT COUNT(*) AS n FROM links WHERE banned = 1 AND banned_by_block = ?1").bind(wide.id).first()).n;
  await waitFor("130 bans", async () => (await banned()) === 130, 30_000);
  // A narrower block on one of them, then the wide one goes: that link
  // stays banned on the narrow block's account.
  const narrow = (await admin("POST", "/api/v1/admin/blocklist", { host: "s7.bulk.example" })).body.data;
  assert.equal((await admin("DELETE", `/api/v1/admin/blocklist/${wide.id}`)).status, 204);
  await waitFor("lifted", async () => (await w.db.prepare("SELECT COUNT(*) AS n FROM links WHERE banned = 1 AND id IN (SELECT value FROM json_each(?1))").bind(JSON.stringify(many)).first()).n === 1, 30_000);
  assert.deepEqual(await row(many[7]), { banned: 1, banned_by_block: narrow.id });
  assert.equal((await row(many[8])).banned, 0);
});
