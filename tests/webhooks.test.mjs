// Webhooks against the built wasm worker in Miniflare: CRUD and bad input,
// the test endpoint, signed deliveries through the WEBHOOKS queue to a real
// HTTP receiver on 127.0.0.1, retries and the delivery log, click and
// qr.scanned events from real redirects, and private-address refusal.
// Every delivery is also verified with the Standard Webhooks reference
// package (`standardwebhooks`, used as published).
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { startWorker, expectError } from "./helpers.mjs";
import { sleep, webhookWorld } from "./receiver.mjs";

const SEED_BODY = { name: "Click Tracker", url: "https://your-server.com/webhook", events: ["click", "link.created"] };

let uniq = 0;
const path = (kind) => `/${kind}/${++uniq}`;

function verify(req, secret) {
  const expected = createHmac("sha256", secret).update(req.body).digest("hex");
  assert.equal(req.headers["x-webhook-signature"], expected, "signature is hex HMAC-SHA256 of the raw body");
  verifyStandard(req, secret);
}

/** Standard Webhooks: the reference package accepts the delivery as sent. */
function verifyStandard(req, secret) {
  assert.equal(req.headers["webhook-id"], req.headers["x-webhook-delivery"], "webhook-id is the delivery id");
  assert.equal(req.headers["webhook-timestamp"], req.headers["x-webhook-timestamp"]);
  assert.match(req.headers["webhook-signature"], /^v1,[A-Za-z0-9+/]{43}=$/);
  const payload = new Webhook(secret).verify(req.body, req.headers);
  assert.deepEqual(payload, JSON.parse(req.body));
}

let rx;
let w; // allows private targets (the receiver is on 127.0.0.1), fast retries
let key;
let otherKey;
let readOnlyKey;

let world;
before(async () => {
  world = await webhookWorld({ WEBHOOK_RETRY_SCHEDULE: "1,1,1,1" }, ["Hooks Co", "Other Co"]);
  ({ rx, w, key, otherKey, readOnlyKey } = world);
});

after(() => world?.close());

async function api(method, p, opts = {}) {
  const r = await w.api(method, p, { key, ...opts });
  assert.ok(r.status < 500, `${method} ${p} answered ${r.status}: ${r.text}`);
  return r;
}

async function hook(events, kind = "ok", extra = {}) {
  const p = path(kind);
  const r = await api("POST", "/api/v1/webhooks", { body: { name: "t", url: rx.base + p, events, ...extra } });
  assert.equal(r.status, 201, r.text);
  return { ...r.body.data, path: p };
}

async function deliveries(h, query = "") {
  const r = await api("GET", `/api/v1/webhooks/${h.id}/deliveries${query}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** Polls the delivery log until `pred(items)` holds. */
async function logUntil(h, pred, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const { data } = await deliveries(h);
    if (pred(data) || Date.now() > end) return data;
    await sleep(100);
  }
}

describe("CRUD", () => {
  test("the seed's create answers 201 with a wh_ id and the secret, shown once", async () => {
    // Its own workspace: nothing here must try to reach your-server.com.
    const { key: k } = await w.workspace("Seed Co", "business");
    const api = (m, p, o = {}) => w.api(m, p, { key: k, ...o });
    const r = await api("POST", "/api/v1/webhooks", { body: SEED_BODY });
    assert.equal(r.status, 201, r.text);
    const d = r.body.data;
    assert.match(d.id, /^wh_[0-9A-Za-z]{16}$/);
    assert.equal(d.name, "Click Tracker");
    assert.equal(d.url, "https://your-server.com/webhook");
    assert.deepEqual(d.events, ["click", "link.created"]);
    assert.equal(d.isActive, true);
    // Standard Webhooks secrets: base64 of 24 random bytes after the prefix.
    assert.match(d.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.equal(Buffer.from(d.secret.slice(6), "base64").length, 24);
    const row = await w.db.prepare("SELECT secret, events FROM webhooks WHERE id = ?1").bind(d.id).first();
    assert.equal(row.secret, d.secret);
    assert.equal(row.events, '["click","link.created"]');

    const got = await api("GET", `/api/v1/webhooks/${d.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.data.secret, undefined, "the secret is not shown again");
    const list = await api("GET", "/api/v1/webhooks");
    assert.equal(list.status, 200);
    assert.ok(list.body.data.some((x) => x.id === d.id));
    assert.ok(list.body.data.every((x) => x.secret === undefined));
    assert.equal(typeof list.body.meta.total, "number");
  });

  test("PATCH changes name, events and isActive; DELETE answers 204 and removes it", async () => {
    const h = await hook(["link.created"]);
    const r = await api("PATCH", `/api/v1/webhooks/${h.id}`, {
      body: { name: "Renamed", events: ["*"], isActive: false },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.name, "Renamed");
    assert.deepEqual(r.body.data.events, ["*"]);
    assert.equal(r.body.data.isActive, false);
    assert.equal(r.body.data.url, rx.base + h.path, "url untouched");
    const del = await api("DELETE", `/api/v1/webhooks/${h.id}`);
    assert.equal(del.status, 204);
    assert.equal(del.text, "");
    expectError(assert, await api("GET", `/api/v1/webhooks/${h.id}`), 404, "NOT_FOUND");
    expectError(assert, await api("DELETE", `/api/v1/webhooks/${h.id}`), 404, "NOT_FOUND");
  });

  test("another workspace's webhook is a 404 everywhere; a read-only key cannot write", async () => {
    const h = await hook(["*"]);
    for (const [m, p] of [
      ["GET", `/api/v1/webhooks/${h.id}`],
      ["PATCH", `/api/v1/webhooks/${h.id}`],
      ["DELETE", `/api/v1/webhooks/${h.id}`],
      ["POST", `/api/v1/webhooks/${h.id}/test`],
      ["GET", `/api/v1/webhooks/${h.id}/deliveries`],
    ]) {
      const r = await w.api(m, p, { key: otherKey, body: m === "PATCH" ? { name: "x" } : undefined });
      expectError(assert, r, 404, "NOT_FOUND");
    }
    const other = await w.api("GET", "/api/v1/webhooks", { key: otherKey });
    assert.ok(!other.body.data.some((x) => x.id === h.id));
    expectError(assert, await w.api("POST", "/api/v1/webhooks", { key: readOnlyKey, body: SEED_BODY }), 403, "FORBIDDEN");
    expectError(assert, await w.api("DELETE", `/api/v1/webhooks/${h.id}`, { key: readOnlyKey }), 403, "FORBIDDEN");
    assert.equal((await w.api("GET", `/api/v1/webhooks/${h.id}`, { key: readOnlyKey })).status, 200);
    expectError(assert, await w.api("GET", "/api/v1/webhooks"), 401, "UNAUTHORIZED");
  });

  test("bad input gets a 4xx naming the field, and nothing is written", async () => {
    const before = (await w.db.prepare("SELECT COUNT(*) AS n FROM webhooks").first()).n;
    const cases = [
      [{ events: ["click"] }, 400, "INVALID_URL", "url"],
      [{ url: "not a url", events: ["click"] }, 400, "INVALID_URL", "url"],
      [{ url: "ftp://example.com/x", events: ["click"] }, 400, "INVALID_URL", "url"],
      [{ url: "https://u:p@example.com/x", events: ["click"] }, 400, "INVALID_URL", "url"],
      [{ url: 42, events: ["click"] }, 400, "VALIDATION_ERROR", "url"],
      [{ url: "https://example.com/" + "a".repeat(2100), events: ["click"] }, 400, "VALIDATION_ERROR", "url"],
      [{ url: "https://example.com/x" }, 400, "VALIDATION_ERROR", "events"],
      [{ url: "https://example.com/x", events: [] }, 400, "VALIDATION_ERROR", "events"],
      [{ url: "https://example.com/x", events: "click" }, 400, "VALIDATION_ERROR", "events"],
      [{ url: "https://example.com/x", events: ["clicked"] }, 400, "VALIDATION_ERROR", "events"],
      [{ url: "https://example.com/x", events: [null] }, 400, "VALIDATION_ERROR", "events"],
      [{ url: "https://example.com/x", events: ["*"], name: "n".repeat(101) }, 400, "VALIDATION_ERROR", "name"],
      [{ url: "https://example.com/x", events: ["*"], isActive: "yes" }, 400, "VALIDATION_ERROR", "isActive"],
      [{ url: "https://example.com/x", events: ["*"], target: "x" }, 400, "VALIDATION_ERROR", "target"],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await api("POST", "/api/v1/webhooks", { body });
      const e = expectError(assert, r, status, code);
      assert.match(JSON.stringify(e), new RegExp(field), `${JSON.stringify(body).slice(0, 80)} → ${r.text}`);
    }
    expectError(assert, await api("POST", "/api/v1/webhooks", { raw: "{nope", headers: { "Content-Type": "application/json" } }), 400, "VALIDATION_ERROR");
    expectError(assert, await api("POST", "/api/v1/webhooks", { raw: "[1]", headers: { "Content-Type": "application/json" } }), 400, "VALIDATION_ERROR");
    const h = await hook(["*"]);
    expectError(assert, await api("PATCH", `/api/v1/webhooks/${h.id}`, { body: { events: [] } }), 400, "VALIDATION_ERROR");
    expectError(assert, await api("PATCH", `/api/v1/webhooks/${h.id}`, { body: { url: "mailto:a@b.c" } }), 400, "INVALID_URL");
    expectError(assert, await api("GET", `/api/v1/webhooks/${h.id}/deliveries?status=done`), 400, "VALIDATION_ERROR");
    expectError(assert, await api("GET", `/api/v1/webhooks/${h.id}/deliveries?perPage=1000`), 400, "VALIDATION_ERROR");
    expectError(assert, await api("PUT", `/api/v1/webhooks/${h.id}`, { body: {} }), 405, "METHOD_NOT_ALLOWED");
    const after = (await w.db.prepare("SELECT COUNT(*) AS n FROM webhooks").first()).n;
    assert.equal(after, before + 1, "only the one valid webhook was written");
  });

  test("a workspace has at most 25 webhooks (LIMIT_REACHED)", async () => {
    const { key: k } = await w.workspace("Many Hooks", "business");
    for (let i = 0; i < 25; i++) {
      const r = await w.api("POST", "/api/v1/webhooks", { key: k, body: { url: `https://example.com/${i}`, events: ["*"] } });
      assert.equal(r.status, 201, r.text);
    }
    const r = await w.api("POST", "/api/v1/webhooks", { key: k, body: { url: "https://example.com/26", events: ["*"] } });
    expectError(assert, r, 403, "LIMIT_REACHED");
  });
});

describe("test endpoint", () => {
  test("POST /{id}/test sends a signed webhook.test now and logs it", async () => {
    const h = await hook(["click"]);
    const r = await api("POST", `/api/v1/webhooks/${h.id}/test`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.success, true);
    assert.equal(r.body.data.statusCode, 200);
    assert.match(r.body.data.deliveryId, /^whd_/);
    const [req] = rx.got(h.path);
    assert.ok(req, "the receiver got the test event");
    assert.equal(req.method, "POST");
    assert.equal(req.headers["content-type"], "application/json");
    assert.equal(req.headers["x-webhook-event"], "webhook.test");
    assert.equal(req.headers["x-webhook-delivery"], r.body.data.deliveryId);
    assert.match(req.headers["x-webhook-timestamp"], /^\d{10}$/);
    assert.ok(Math.abs(Number(req.headers["x-webhook-timestamp"]) - Date.now() / 1000) < 60);
    verify(req, h.secret);
    const body = JSON.parse(req.body);
    assert.equal(body.event, "webhook.test");
    assert.equal(body.data.webhookId, h.id);
    assert.match(body.id, /^evt_/);
    const log = await deliveries(h);
    assert.equal(log.data.length, 1);
    assert.equal(log.data[0].id, r.body.data.deliveryId);
    assert.equal(log.data[0].status, "success");
    assert.equal(log.data[0].attempts, 1);
    assert.equal(log.data[0].lastStatusCode, 200);
    const one = await api("GET", `/api/v1/webhooks/${h.id}/deliveries/${r.body.data.deliveryId}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.data.payload.event, "webhook.test");
    assert.equal(one.body.data.lastResponse, "thanks");
    expectError(assert, await api("GET", `/api/v1/webhooks/${h.id}/deliveries/whd_nope`), 404, "NOT_FOUND");
  });

  test("a failing target: success false with its status, logged as failed, no retries", async () => {
    const h = await hook(["domain.verified"], "fail");
    const r = await api("POST", `/api/v1/webhooks/${h.id}/test`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.success, false);
    assert.equal(r.body.data.statusCode, 500);
    const [d] = (await deliveries(h)).data;
    assert.equal(d.status, "failed");
    assert.equal(d.lastStatusCode, 500);
    await sleep(1500);
    assert.equal(rx.got(h.path).length, 1, "a test is not retried");
  });

  test("a redirecting target is not followed and counts as a failure", async () => {
    const h = await hook(["domain.verified"], "redirect");
    const r = await api("POST", `/api/v1/webhooks/${h.id}/test`);
    assert.equal(r.body.data.success, false);
    assert.equal(r.body.data.statusCode, 302);
    assert.equal(rx.got("/ok/redirected").length, 0);
  });
});

describe("Standard Webhooks", () => {
  test("a delivery carries webhook-id, webhook-timestamp and webhook-signature, verified by the reference package", async () => {
    const h = await hook(["link.created"]);
    const link = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/std", title: "Ünïcødé ✓" } });
    assert.equal(link.status, 201, link.text);
    const [req] = await rx.waitFor(h.path, 1);
    assert.ok(req, "delivered");
    assert.match(req.headers["webhook-id"], /^whd_/);
    assert.match(req.headers["webhook-timestamp"], /^\d{10}$/);
    assert.ok(Math.abs(Number(req.headers["webhook-timestamp"]) - Date.now() / 1000) < 60);
    // The reference package, as a receiver would use it.
    const wh = new Webhook(h.secret);
    const payload = wh.verify(req.body, req.headers);
    assert.equal(payload.event, "link.created");
    assert.equal(payload.data.title, "Ünïcødé ✓");
    // Exactly the spec's construction: base64 HMAC-SHA256 under the
    // base64-decoded secret of "{id}.{timestamp}.{body}".
    const key = Buffer.from(h.secret.slice("whsec_".length), "base64");
    const mac = createHmac("sha256", key)
      .update(`${req.headers["webhook-id"]}.${req.headers["webhook-timestamp"]}.${req.body}`)
      .digest("base64");
    assert.equal(req.headers["webhook-signature"], `v1,${mac}`);
    // Anything changed fails verification.
    const refuses = (body, headers, secret = h.secret) =>
      assert.throws(() => new Webhook(secret).verify(body, headers), WebhookVerificationError);
    refuses(req.body.replace("link.created", "link.deleted"), req.headers);
    refuses(req.body, { ...req.headers, "webhook-id": "whd_other" });
    refuses(req.body, { ...req.headers, "webhook-timestamp": String(Number(req.headers["webhook-timestamp"]) + 1) });
    refuses(req.body, req.headers, "whsec_" + Buffer.alloc(24, 7).toString("base64"));
  });

  test("a secret issued before (whsec_ + 32 base62 characters) keeps working: its base64 decoding is the key", async () => {
    const h = await hook(["click"]);
    const old = "whsec_" + "0aZ9".repeat(8); // the old generator's shape
    await w.db.prepare("UPDATE webhooks SET secret = ?1 WHERE id = ?2").bind(old, h.id).run();
    const r = await api("POST", `/api/v1/webhooks/${h.id}/test`);
    assert.equal(r.body.data.success, true, r.text);
    const [req] = rx.got(h.path);
    verify(req, old);
    const key = Buffer.from(old.slice(6), "base64");
    assert.equal(key.length, 24);
    const mac = createHmac("sha256", key)
      .update(`${req.headers["webhook-id"]}.${req.headers["webhook-timestamp"]}.${req.body}`)
      .digest("base64");
    assert.equal(req.headers["webhook-signature"], `v1,${mac}`);
  });
});

describe("deliveries through the queue", () => {
  test("link.created / updated / deleted reach subscribers, signed, once each", async () => {
    const created = await hook(["link.created"]);
    const all = await hook(["*"]);
    const off = await hook(["*"], "ok", { isActive: false });
    const { key: otherWs } = await w.workspace("Quiet Co", "business");
    const slug = `wh-${uniq}`;
    const link = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/a", slug } });
    assert.equal(link.status, 201, link.text);
    const id = link.body.data.id;
    await api("PATCH", `/api/v1/links/${id}`, { body: { title: "New title" } });
    assert.equal((await api("DELETE", `/api/v1/links/${id}`)).status, 204);

    const [c] = await rx.waitFor(created.path, 1);
    assert.ok(c, "link.created delivered");
    verify(c, created.secret);
    const cb = JSON.parse(c.body);
    assert.equal(cb.event, "link.created");
    assert.equal(c.headers["x-webhook-event"], "link.created");
    assert.equal(cb.data.id, id);
    assert.equal(cb.data.slug, slug);
    assert.equal(cb.data.destinationUrl, "https://example.com/a");

    const got = await rx.waitFor(all.path, 3);
    const events = got.map((r) => JSON.parse(r.body).event).sort();
    assert.deepEqual(events, ["link.created", "link.deleted", "link.updated"]);
    for (const r of got) verify(r, all.secret);
    const updated = got.map((r) => JSON.parse(r.body)).find((b) => b.event === "link.updated");
    assert.equal(updated.data.title, "New title");

    await sleep(1000);
    assert.equal(rx.got(created.path).length, 1, "link.created only");
    assert.equal(rx.got(off.path).length, 0, "inactive webhooks get nothing");
    const log = await logUntil(all, (d) => d.length === 3 && d.every((x) => x.status === "success"));
    assert.ok(log.every((x) => x.status === "success" && x.attempts === 1), JSON.stringify(log));
    // Another workspace's links raise nothing here.
    await w.api("POST", "/api/v1/links", { key: otherWs, body: { destinationUrl: "https://example.com/b" } });
    await sleep(1000);
    assert.equal(rx.got(all.path).length, 3);
  });

  test("a failing target is retried on the schedule and succeeds on attempt 3", async () => {
    const h = await hook(["link.created"], "flaky/2");
    await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/retry" } });
    const got = await rx.waitFor(h.path, 3, 20000);
    assert.equal(got.length, 3, "two failures, then success");
    assert.deepEqual(got.map((r) => r.headers["x-webhook-attempt"]), ["1", "2", "3"]);
    const ids = new Set(got.map((r) => r.headers["x-webhook-delivery"]));
    assert.equal(ids.size, 1, "the same delivery each time");
    assert.equal(new Set(got.map((r) => r.headers["webhook-id"])).size, 1, "the same webhook-id each time");
    assert.equal(new Set(got.map((r) => r.body)).size, 1, "the same body each time");
    for (const r of got) verify(r, h.secret);
    const [d] = await logUntil(h, (d) => d[0]?.status === "success");
    assert.equal(d.status, "success");
    assert.equal(d.attempts, 3);
    assert.equal(d.lastStatusCode, 200);
    assert.ok(d.deliveredAt);
  });

  test("after five failed attempts the delivery is marked failed in the log", async () => {
    const h = await hook(["link.created"], "fail");
    await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/fail" } });
    const [d] = await logUntil(h, (d) => d[0]?.status === "failed", 30000);
    assert.equal(d?.status, "failed", JSON.stringify(d));
    assert.equal(d.attempts, 5);
    assert.equal(d.lastStatusCode, 500);
    assert.equal(d.lastError, "HTTP 500");
    assert.equal(d.nextAttemptAt, null);
    await sleep(2500);
    assert.equal(rx.got(h.path).length, 5, "no sixth attempt");
    const failed = await deliveries(h, "?status=failed");
    assert.equal(failed.meta.total, 1);
    const pending = await deliveries(h, "?status=pending");
    assert.equal(pending.meta.total, 0);
  });

  test("a duplicated queue message sends once", async () => {
    const h = await hook(["link.created"]);
    await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/dup" } });
    const [first] = await rx.waitFor(h.path, 1);
    const id = first.headers["x-webhook-delivery"];
    const producer = await w.mf.getQueueProducer("WEBHOOKS");
    await producer.send({ delivery: id, attempt: 1 });
    await producer.send({ delivery: id, attempt: 1 });
    await producer.send({ nonsense: true });
    await sleep(2000);
    assert.equal(rx.got(h.path).length, 1);
    const [d] = (await deliveries(h)).data;
    assert.equal(d.attempts, 1);
  });
});

describe("cron sweep", () => {
  test("deliveries whose queue message was lost are sent by the sweep, at the attempt they were at", async () => {
    const h = await hook(["domain.verified"]);
    const { workspace_id: ws } = await w.db.prepare("SELECT workspace_id FROM webhooks WHERE id = ?1").bind(h.id).first();
    const now = Date.now();
    const rows = [
      // never attempted: its message was never sent
      ["whd_lost_never", 0, null, now - 300_000],
      // attempt 1 failed long ago and scheduled attempt 2, whose message was lost
      ["whd_lost_next", 1, now - 400_000, now - 300_000],
      // attempt 1 claimed, never finished (the run died)
      ["whd_lost_crash", 1, now - 200_000, now - 300_000],
      // not overdue yet: left alone
      ["whd_not_due", 0, null, now + 60_000],
    ];
    for (const [id, attempts, last, next] of rows) {
      const payload = JSON.stringify({ id: `evt_${id}`, event: "domain.verified", createdAt: "2026-01-01T00:00:00Z", data: {} });
      await w.db
        .prepare(
          "INSERT INTO webhook_deliveries (id, webhook_id, workspace_id, event, event_id, payload, status, attempts, last_attempt_at, next_attempt_at, created_at) " +
            "VALUES (?1, ?2, ?3, 'domain.verified', ?4, ?5, 'pending', ?6, ?7, ?8, ?8)",
        )
        .bind(id, h.id, ws, `evt_${id}`, payload, attempts, last, next)
        .run();
    }
    const worker = await w.mf.getWorker();
    await worker.scheduled({ cron: "* * * * *" });
    const got = await rx.waitFor(h.path, 3);
    await sleep(1000);
    const byId = Object.fromEntries(rx.got(h.path).map((r) => [r.headers["x-webhook-delivery"], r]));
    assert.deepEqual(Object.keys(byId).sort(), ["whd_lost_crash", "whd_lost_never", "whd_lost_next"]);
    assert.equal(got.length, 3);
    assert.equal(byId.whd_lost_never.headers["x-webhook-attempt"], "1");
    assert.equal(byId.whd_lost_next.headers["x-webhook-attempt"], "2");
    assert.equal(byId.whd_lost_crash.headers["x-webhook-attempt"], "1");
    for (const r of got) verify(r, h.secret);
    const log = Object.fromEntries((await logUntil(h, (d) => d.filter((x) => x.status === "success").length === 3)).map((d) => [d.id, d]));
    assert.equal(log.whd_lost_never.status, "success");
    assert.equal(log.whd_lost_next.attempts, 2);
    assert.equal(log.whd_not_due.status, "pending");
    assert.equal(log.whd_not_due.attempts, 0);
    // A second sweep finds nothing overdue.
    await worker.scheduled({ cron: "* * * * *" });
    await sleep(1500);
    assert.equal(rx.got(h.path).length, 3);
  });
});

describe("click and qr.scanned", () => {
  test("a link with webhook: true sends click events with its webhookScene; others do not", async () => {
    const h = await hook(["click"]);
    const slug = `clk-${uniq}`;
    const link = await api("POST", "/api/v1/links", {
      body: { destinationUrl: "https://example.com/c", slug, webhook: true, webhookScene: "spring-promo" },
    });
    assert.equal(link.status, 201, link.text);
    const plain = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/p", slug: `${slug}-plain` } });
    const ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const r = await w.fetch(`/${slug}`, { headers: { "User-Agent": ua, Referer: "https://news.example.org/x" }, cf: { country: "DE" } });
    assert.equal(r.status, 302);
    await w.fetch(`/${slug}-plain`, { headers: { "User-Agent": ua } });
    await w.fetch(`/${slug}`, { headers: { "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" } });
    const [req] = await rx.waitFor(h.path, 1);
    assert.ok(req, "click delivered");
    verify(req, h.secret);
    const b = JSON.parse(req.body);
    assert.equal(b.event, "click");
    assert.equal(b.data.scene, "spring-promo");
    assert.equal(b.data.link.id, link.body.data.id);
    assert.equal(b.data.link.slug, slug);
    assert.equal(b.data.link.shortUrl, link.body.data.shortUrl);
    assert.equal(b.data.click.country, "DE");
    assert.equal(b.data.click.device, "mobile");
    assert.equal(b.data.click.os, "ios");
    assert.equal(b.data.click.referrer, "news.example.org");
    assert.equal(b.data.click.qr, false);
    assert.equal(b.id, b.data.click.id);
    assert.ok(!/visitor/i.test(req.body), "no visitor hash in the payload");
    // The plain link's click and the bot's click raise nothing.
    await sleep(1500);
    assert.equal(rx.got(h.path).length, 1);
    assert.equal(plain.status, 201);
  });

  test("a scan of a saved QR raises qr.scanned (and only a scan does)", async () => {
    const h = await hook(["qr.scanned"]);
    const link = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/menu", slug: `menu-${uniq}` } });
    const qr = await api("POST", "/api/v1/qr", { body: { name: "Table card", linkId: link.body.data.id } });
    assert.equal(qr.status, 201, qr.text);
    const scanUrl = qr.body.data.url;
    assert.ok(scanUrl.endsWith("?qr=1"));
    const headers = { "User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36" };
    await w.fetch(link.body.data.shortUrl, { headers }); // a plain visit
    const r = await w.fetch(scanUrl, { headers });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get("location"), "https://example.com/menu", "the marker does not change where the visitor lands");
    const [req] = await rx.waitFor(h.path, 1);
    assert.ok(req, "qr.scanned delivered");
    verify(req, h.secret);
    assert.equal(req.headers["x-webhook-event"], "qr.scanned");
    const b = JSON.parse(req.body);
    assert.equal(b.event, "qr.scanned");
    assert.equal(b.data.click.qr, true);
    assert.equal(b.data.link.id, link.body.data.id);
    await sleep(1500);
    assert.equal(rx.got(h.path).length, 1, "the plain visit raised nothing");
  });

  test("a redelivered click batch raises no second delivery", async () => {
    const h = await hook(["*"]);
    const link = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/once", webhook: true } });
    await rx.waitFor(h.path, 1); // link.created
    const row = await w.db.prepare("SELECT workspace_id FROM links WHERE id = ?1").bind(link.body.data.id).first();
    const events = await w.mf.getQueueProducer("EVENTS");
    const click = {
      type: "click", id: "evt_wh_dup_1", link_id: link.body.data.id, workspace_id: row.workspace_id,
      ts: Date.now(), country: "US", device: "desktop", os: "macos", browser: "chrome", referrer: null,
      bot: false, visitor: "v", qr: true, webhook: true, scene: "s",
    };
    await events.send(click);
    await rx.waitFor(h.path, 3);
    await events.send(click);
    await sleep(2500);
    const got = rx.got(h.path).map((r) => JSON.parse(r.body));
    assert.deepEqual(got.map((b) => b.event).sort(), ["click", "link.created", "qr.scanned"]);
    assert.deepEqual(got.filter((b) => b.event !== "link.created").map((b) => b.id).sort(), ["evt_wh_dup_1", "evt_wh_dup_1.qr"]);
  });
});

describe("private targets", () => {
  let strict;
  let strictKey;
  before(async () => {
    strict = await startWorker({ vars: { WEBHOOK_RETRY_SCHEDULE: "1,1,1,1" } });
    ({ key: strictKey } = await strict.workspace("Strict Co", "business"));
  });
  after(async () => {
    await strict?.close();
  });

  test("private and loopback targets are refused unless the deployment allows them", async () => {
    for (const url of [
      "http://127.0.0.1:9/x",
      "http://localhost/x",
      "http://10.0.0.8/x",
      "http://192.168.0.1/x",
      "http://169.254.169.254/latest/meta-data",
      "http://[::1]/x",
      "http://2130706433/x",
      "http://printer.local/x",
    ]) {
      const r = await strict.api("POST", "/api/v1/webhooks", { key: strictKey, body: { url, events: ["*"] } });
      const e = expectError(assert, r, 400, "INVALID_URL");
      assert.match(e.message + JSON.stringify(e), /url/);
    }
    const ok = await strict.api("POST", "/api/v1/webhooks", { key: strictKey, body: { url: "https://hooks.example.com/x", events: ["domain.verified"] } });
    assert.equal(ok.status, 201);
    const patch = await strict.api("PATCH", `/api/v1/webhooks/${ok.body.data.id}`, { key: strictKey, body: { url: "http://127.0.0.1/x" } });
    expectError(assert, patch, 400, "INVALID_URL");
  });

  test("a stored private target is refused at send time, logged as failed, never contacted", async () => {
    const ok = await strict.api("POST", "/api/v1/webhooks", { key: strictKey, body: { url: "https://hooks.example.com/y", events: ["link.created"] } });
    const p = path("ok");
    // As if stored while private targets were allowed.
    await strict.db.prepare("UPDATE webhooks SET url = ?1 WHERE id = ?2").bind(rx.base + p, ok.body.data.id).run();
    const t = await strict.api("POST", `/api/v1/webhooks/${ok.body.data.id}/test`, { key: strictKey });
    assert.equal(t.body.data.success, false);
    assert.match(t.body.data.error, /not allowed/);
    await strict.api("POST", "/api/v1/links", { key: strictKey, body: { destinationUrl: "https://example.com/z" } });
    const end = Date.now() + 8000;
    let log;
    while (Date.now() < end) {
      log = (await strict.api("GET", `/api/v1/webhooks/${ok.body.data.id}/deliveries`, { key: strictKey })).body.data;
      if (log.length === 2 && log.every((d) => d.status === "failed")) break;
      await sleep(100);
    }
    assert.equal(log.length, 2, JSON.stringify(log));
    assert.ok(log.every((d) => d.status === "failed" && /not allowed/.test(d.lastError)), JSON.stringify(log));
    assert.equal(rx.got(p).length, 0);
  });
});
