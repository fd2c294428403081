// Webhook secret rotation (24 h overlap, both signatures verified with the
// Standard Webhooks reference package) and auto-disable after 50 failed
// deliveries in a row or 3 days of failures, through the built worker, its
// WEBHOOKS queue and a real receiver on 127.0.0.1.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { expectError } from "./helpers.mjs";
import { sleep, webhookWorld } from "./receiver.mjs";

const HOUR = 3_600_000;
let rx;
let w;
let key;
let otherKey;
let readOnlyKey;
let uniq = 0;

let world;
before(async () => {
  // One retry right away: a failed delivery is final after two attempts.
  world = await webhookWorld({ WEBHOOK_RETRY_SCHEDULE: "0" }, ["Rotate Co", "Other Co"]);
  ({ rx, w, key, otherKey, readOnlyKey } = world);
});

after(() => world?.close());

/** A webhook on the receiver's `/{kind}/…` path, in the workspace of `k`. */
async function hook(kind, k = key) {
  const p = `/${kind}/${++uniq}`;
  const events = ["link.created"];
  const r = await w.api("POST", "/api/v1/webhooks", { key: k, body: { name: "t", url: rx.base + p, events } });
  assert.equal(r.status, 201, r.text);
  return { ...r.body.data, path: p };
}

/** Creates `n` links in the workspace of `k`: a link.created event each. */
async function createLink(n = 1, k = key) {
  for (let i = 0; i < n; i++) {
    const r = await w.api("POST", "/api/v1/links", { key: k, body: { destinationUrl: `https://example.com/${++uniq}` } });
    assert.equal(r.status, 201, r.text);
  }
}

async function webhookRow(id) {
  return w.db
    .prepare("SELECT is_active, failure_streak, failing_since, disabled_reason FROM webhooks WHERE id = ?1")
    .bind(id)
    .first();
}

/** Polls until `pred()` is truthy (or `ms` passed); returns its last value. */
async function until(pred, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v || Date.now() > end) return v;
    await sleep(100);
  }
}

describe("rotate-secret", () => {
  test("a new secret is shown once; for 24 h both secrets sign, and the reference package accepts either", async () => {
    const h = await hook("ok");
    const r = await w.api("POST", `/api/v1/webhooks/${h.id}/rotate-secret`, { key });
    assert.equal(r.status, 200, r.text);
    const d = r.body.data;
    assert.match(d.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.notEqual(d.secret, h.secret);
    assert.equal(d.id, h.id);
    const expires = Date.parse(d.previousSecretExpiresAt);
    assert.ok(Math.abs(expires - (Date.now() + 24 * HOUR)) < 60_000, d.previousSecretExpiresAt);
    const row = await w.db.prepare("SELECT secret, previous_secret FROM webhooks WHERE id = ?1").bind(h.id).first();
    assert.equal(row.secret, d.secret);
    assert.equal(row.previous_secret, h.secret);
    const got = await w.api("GET", `/api/v1/webhooks/${h.id}`, { key });
    assert.equal(got.body.data.secret, undefined, "the new secret is not shown again");
    assert.equal(got.body.data.previousSecretExpiresAt, d.previousSecretExpiresAt);

    await createLink();
    const [req] = await rx.waitFor(h.path, 1);
    assert.ok(req, "a delivery arrived");
    const sigs = req.headers["webhook-signature"].split(" ");
    assert.equal(sigs.length, 2, req.headers["webhook-signature"]);
    for (const s of sigs) assert.match(s, /^v1,[A-Za-z0-9+/]{43}=$/);
    // Each secret alone verifies the delivery as sent.
    const body = JSON.parse(req.body);
    assert.deepEqual(new Webhook(d.secret).verify(req.body, req.headers), body);
    assert.deepEqual(new Webhook(h.secret).verify(req.body, req.headers), body);
    // A secret never issued does not.
    const stranger = "whsec_" + Buffer.alloc(24, 7).toString("base64");
    assert.throws(() => new Webhook(stranger).verify(req.body, req.headers), WebhookVerificationError);
    // The legacy header is the new secret's alone.
    const { createHmac } = await import("node:crypto");
    assert.equal(req.headers["x-webhook-signature"], createHmac("sha256", d.secret).update(req.body).digest("hex"));
  });

  test("after the overlap only the new secret signs", async () => {
    const h = await hook("ok");
    // Rotated 25 hours ago: the overlap is over.
    const r = await w.api("POST", `/api/v1/webhooks/${h.id}/rotate-secret`, { key, now: Date.now() - 25 * HOUR });
    assert.equal(r.status, 200, r.text);
    await createLink();
    const [req] = await rx.waitFor(h.path, 1);
    assert.ok(req, "a delivery arrived");
    assert.equal(req.headers["webhook-signature"].split(" ").length, 1);
    assert.deepEqual(new Webhook(r.body.data.secret).verify(req.body, req.headers), JSON.parse(req.body));
    assert.throws(() => new Webhook(h.secret).verify(req.body, req.headers), WebhookVerificationError);
  });

  test("rotating twice keeps only the secret just replaced; the test endpoint signs with both", async () => {
    const h = await hook("ok");
    const one = (await w.api("POST", `/api/v1/webhooks/${h.id}/rotate-secret`, { key })).body.data.secret;
    const two = (await w.api("POST", `/api/v1/webhooks/${h.id}/rotate-secret`, { key })).body.data.secret;
    const t = await w.api("POST", `/api/v1/webhooks/${h.id}/test`, { key });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.data.success, true);
    const [req] = rx.got(h.path);
    assert.ok(new Webhook(two).verify(req.body, req.headers));
    assert.ok(new Webhook(one).verify(req.body, req.headers));
    assert.throws(() => new Webhook(h.secret).verify(req.body, req.headers), WebhookVerificationError);
  });

  test("another workspace's webhook is a 404, a read-only key a 403, an unknown id a 404", async () => {
    const h = await hook("ok");
    const before = await w.db.prepare("SELECT secret FROM webhooks WHERE id = ?1").bind(h.id).first();
    expectError(assert, await w.api("POST", `/api/v1/webhooks/${h.id}/rotate-secret`, { key: otherKey }), 404, "NOT_FOUND");
    expectError(assert, await w.api("POST", `/api/v1/webhooks/${h.id}/rotate-secret`, { key: readOnlyKey }), 403, "FORBIDDEN");
    expectError(assert, await w.api("POST", "/api/v1/webhooks/wh_doesnotexist0000/rotate-secret", { key }), 404, "NOT_FOUND");
    expectError(assert, await w.api("POST", `/api/v1/webhooks/${h.id}/rotate-secret`), 401, "UNAUTHORIZED");
    const r = await w.api("GET", `/api/v1/webhooks/${h.id}/rotate-secret`, { key });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get("allow"), "POST");
    const after = await w.db.prepare("SELECT secret, previous_secret FROM webhooks WHERE id = ?1").bind(h.id).first();
    assert.equal(after.secret, before.secret, "nothing rotated");
    assert.equal(after.previous_secret, null);
  });
});

/** A workspace of its own, so no other test's webhook sees its events. */
async function space() {
  return (await w.workspace(`Space ${++uniq}`, "business")).key;
}

describe("auto-disable", () => {
  test("50 failed deliveries in a row switch a webhook off; one PATCH switches it back on", async () => {
    const k = await space();
    const h = await hook("fail", k);
    await createLink(50, k);
    const row = await until(async () => {
      const r = await webhookRow(h.id);
      return r.is_active === 0 && r;
    }, 60000);
    assert.ok(row, `still active: ${JSON.stringify(await webhookRow(h.id))}`);
    assert.equal(row.disabled_reason, "50 deliveries in a row failed");
    assert.equal(row.failure_streak, 50);
    const log = await w.db
      .prepare("SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ?1 GROUP BY status")
      .bind(h.id)
      .all();
    assert.deepEqual(log.results, [{ status: "failed", n: 50 }]);
    const got = await w.api("GET", `/api/v1/webhooks/${h.id}`, { key: k });
    assert.equal(got.body.data.isActive, false);
    assert.equal(got.body.data.disabledReason, "50 deliveries in a row failed");

    // Switched off: the next event is not queued for it.
    const sent = rx.got(h.path).length;
    await createLink(1, k);
    await sleep(1500);
    assert.equal(rx.got(h.path).length, sent, "nothing sent to a disabled webhook");

    const on = await w.api("PATCH", `/api/v1/webhooks/${h.id}`, { key: k, body: { isActive: true } });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.body.data.isActive, true);
    assert.equal(on.body.data.disabledReason, null);
    const reset = await webhookRow(h.id);
    assert.equal(reset.failure_streak, 0);
    assert.equal(reset.failing_since, null);
    // It gets events again (and one more failure does not switch it off).
    await createLink(1, k);
    await rx.waitFor(h.path, sent + 2);
    const again = await until(async () => {
      const r = await webhookRow(h.id);
      return r.failure_streak === 1 && r;
    });
    assert.ok(again);
    assert.equal(again.is_active, 1);
  });

  test("a success ends the run of failures", async () => {
    // 500 for the first two requests (one delivery's two attempts), then 200.
    const k = await space();
    const h = await hook("flaky/2", k);
    await createLink(1, k);
    const failing = await until(async () => {
      const r = await webhookRow(h.id);
      return r.failure_streak === 1 && r;
    });
    assert.ok(failing, "the first delivery failed");
    assert.ok(Math.abs(failing.failing_since - Date.now()) < 60_000);
    await createLink(1, k);
    const ok = await until(async () => {
      const r = await webhookRow(h.id);
      return r.failure_streak === 0 && r;
    });
    assert.ok(ok, "the success reset the streak");
    assert.equal(ok.failing_since, null);
    assert.equal(ok.is_active, 1);
  });

  test("a webhook whose deliveries all failed for 3 days is switched off at the next failure", async () => {
    const k = await space();
    const h = await hook("fail", k);
    // It has been failing since 3 days and a minute ago (one failed delivery so far).
    const since = Date.now() - 3 * 24 * HOUR - 60_000;
    await w.db.prepare("UPDATE webhooks SET failure_streak = 1, failing_since = ?2 WHERE id = ?1").bind(h.id, since).run();
    await createLink(1, k);
    const row = await until(async () => {
      const r = await webhookRow(h.id);
      return r.is_active === 0 && r;
    });
    assert.ok(row, "switched off");
    assert.equal(row.disabled_reason, "every delivery failed for 3 days");
    assert.equal(row.failure_streak, 2);
    assert.equal(row.failing_since, since);
    // Failing for less than 3 days, with few failures: stays on.
    const k2 = await space();
    const young = await hook("fail", k2);
    await w.db
      .prepare("UPDATE webhooks SET failure_streak = 1, failing_since = ?2 WHERE id = ?1")
      .bind(young.id, Date.now() - 2 * 24 * HOUR)
      .run();
    await createLink(1, k2);
    const still = await until(async () => {
      const r = await webhookRow(young.id);
      return r.failure_streak === 2 && r;
    });
    assert.ok(still);
    assert.equal(still.is_active, 1);
    assert.equal(still.disabled_reason, null);
  });

  test("an owner's PATCH isActive: false is not a platform reason", async () => {
    const h = await hook("ok");
    const off = await w.api("PATCH", `/api/v1/webhooks/${h.id}`, { key, body: { isActive: false } });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.body.data.isActive, false);
    assert.equal(off.body.data.disabledReason, null);
  });
});
