// The click aggregator (src/aggregator.rs, docs/SCALE.md): exactly-once
// under redelivery and over both paths (the object, the Queue), failure of
// the first path, object restarts around the D1 flush, late clicks for a
// flushed hour, click limits at the commit, stats that include
// committed clicks D1 does not hold yet, and a restart of the whole
// runtime (isolate and object) with its storage kept.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startWorker } from "./helpers.mjs";

const DOMAIN = "localhost:8787";
const HOUR = 3_600_000;
const BEFORE_COMMIT = "fault-before-commit.test";
const AFTER_COMMIT = "fault-after-commit.test";
const ABORT_BEFORE_FLUSH = "evt_abort_before_flush";
const ABORT_AFTER_FLUSH = "evt_abort_after_flush";
const UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

let seq = 0;

/** A click event as the redirect sends it. */
function click(link, o = {}) {
  seq += 1;
  return {
    type: "click",
    id: o.id ?? `evt_agg_${seq}_${Math.random().toString(36).slice(2)}`,
    link_id: link.id,
    workspace_id: link.workspaceId,
    ts: o.ts ?? Date.now(),
    country: o.country ?? "US",
    device: "desktop",
    os: "macos",
    browser: "chrome",
    referrer: o.referrer ?? null,
    bot: false,
    visitor: o.visitor ?? `v_${seq}`,
    qr: false,
    webhook: false,
    scene: "",
  };
}

async function waitFor(what, fn, timeoutMs = 20_000) {
  const start = Date.now();
  let last;
  while (Date.now() - start < timeoutMs) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** A worker, a workspace and helpers around them. */
async function setup(vars, options = {}) {
  const w = await startWorker({ vars, ...options });
  const { key } = await w.workspace("Aggregated", "business");
  const producer = await w.mf.getQueueProducer("EVENTS");
  const ns = await w.mf.getDurableObjectNamespace("CLICKS");
  const h = {
    w,
    key,
    async link(body = {}) {
      const r = await w.api("POST", "/api/v1/links", { key, body: { destinationUrl: "https://example.com/a", ...body } });
      assert.equal(r.status, 201, r.text);
      const row = await w.db.prepare("SELECT workspace_id FROM links WHERE id = ?1").bind(r.body.data.id).first();
      return { ...r.body.data, workspaceId: row.workspace_id };
    },
    /** Straight to the object (one shard: clicks-0), as the redirect calls it. */
    async record(...clicks) {
      const stub = ns.get(ns.idFromName("clicks-0"));
      const res = await stub.fetch("https://aggregator/record?shard=0", { method: "POST", body: JSON.stringify(clicks) });
      return res.status;
    },
    async queue(...clicks) {
      await producer.sendBatch(clicks.map((body) => ({ body })));
    },
    async count(id) {
      return (await w.db.prepare("SELECT counted AS n FROM links_counted WHERE id = ?1").bind(id).first()).n;
    },
    async drained(id, n) {
      await waitFor(`click_count ${n}`, async () => (await h.count(id)) === n);
    },
    async rows(id) {
      return (await w.db.prepare("SELECT COUNT(*) AS n FROM clicks WHERE link_id = ?1").bind(id).first()).n;
    },
    async stats(id, q = "") {
      const r = await w.api("GET", `/api/v1/links/${id}/stats${q}`, { key });
      assert.equal(r.status, 200, r.text);
      return r.body.data;
    },
    async csvRows(id) {
      const res = await w.fetch(`/api/v1/links/${id}/clicks.csv`, { headers: { Authorization: `Bearer ${key}` } });
      assert.equal(res.status, 200);
      return (await res.text()).split("\r\n").filter(Boolean).length - 1;
    },
    visit(slug, referer) {
      return w.fetch(`/${slug}`, { headers: { "User-Agent": UA, "CF-Connecting-IP": "203.0.113.9", Referer: referer } });
    },
  };
  return h;
}

describe("flushing every second", () => {
  let h;
  before(async () => {
    h = await setup({
      ANALYTICS_FAIL_BEFORE_COMMIT_EVENT_ID: BEFORE_COMMIT,
      ANALYTICS_FAIL_AFTER_COMMIT_EVENT_ID: AFTER_COMMIT,
      ANALYTICS_ABORT_BEFORE_FLUSH_EVENT_ID: ABORT_BEFORE_FLUSH,
      ANALYTICS_ABORT_AFTER_FLUSH_EVENT_ID: ABORT_AFTER_FLUSH,
    });
  });
  after(() => h?.w.close());

  test("the same clicks through the object twice, then through the Queue: counted once", async () => {
    const link = await h.link();
    const a = click(link, { visitor: "r1" });
    const b = click(link, { visitor: "r2" });
    assert.equal(await h.record(a, b), 200);
    assert.equal(await h.record(a, b, a), 200);
    await h.drained(link.id, 2);
    // The Queue path (a fallback that raced a successful call), and a
    // message redelivered after the consumer forwarded it.
    const sentinel = await h.link();
    await h.queue(a, b);
    await h.queue(a, click(sentinel));
    await h.drained(sentinel.id, 1);
    assert.equal(await h.count(link.id), 2);
    assert.equal(await h.rows(link.id), 2);
    const s = await h.stats(link.id);
    assert.equal(s.totalClicks, 2);
    assert.equal(s.uniqueVisitors, 2);
    assert.equal(await h.csvRows(link.id), 2);
  });

  test("the object fails before its commit: the redirect's click arrives by the Queue, counted once", async () => {
    const link = await h.link({ slug: "agg-before" });
    assert.equal((await h.visit("agg-before", `https://${BEFORE_COMMIT}/x`)).status, 302);
    await h.drained(link.id, 1);
    assert.equal(await h.w.kv.get(`test:fault:before-commit:${BEFORE_COMMIT}`), "1", "the fault fired");
    assert.equal(await h.rows(link.id), 1);
    const s = await h.stats(link.id);
    assert.equal(s.totalClicks, 1);
    assert.deepEqual(s.byReferrer, [{ referrer: BEFORE_COMMIT, clicks: 1 }]);
  });

  test("the object fails after its commit: the Queue brings the click again, counted once", async () => {
    const link = await h.link({ slug: "agg-after" });
    const sentinel = await h.link({ slug: "agg-after-sentinel" });
    assert.equal((await h.visit("agg-after", `https://${AFTER_COMMIT}/x`)).status, 302);
    await h.drained(link.id, 1);
    await waitFor("the fault", async () => (await h.w.kv.get(`test:fault:after-commit:${AFTER_COMMIT}`)) === "1");
    // The fallback has been through once a later click is.
    assert.equal((await h.visit("agg-after-sentinel", "https://example.org/")).status, 302);
    await h.drained(sentinel.id, 1);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await h.count(link.id), 1);
    assert.equal(await h.rows(link.id), 1);
    assert.equal((await h.stats(link.id)).totalClicks, 1);
  });

  test("the object dies after its commits, before the D1 flush: rebuilt from its log, counted once", async () => {
    const link = await h.link();
    const sentinel = await h.link();
    const clicks = [
      click(link, { visitor: "x1" }),
      click(link, { id: ABORT_BEFORE_FLUSH, visitor: "x1" }),
      click(link, { visitor: "x2", country: "DE" }),
    ];
    assert.equal(await h.record(...clicks), 200);
    await waitFor("the fault", async () => (await h.w.kv.get(`test:fault:abort-before-flush:${ABORT_BEFORE_FLUSH}`)) === "1");
    // A later call starts the object again (if the alarm retry has not).
    assert.equal(await h.record(click(sentinel), clicks[1]), 200);
    await h.drained(link.id, 3);
    await h.drained(sentinel.id, 1);
    const s = await h.stats(link.id);
    assert.equal(s.totalClicks, 3);
    assert.equal(s.uniqueVisitors, 2);
    assert.equal(await h.rows(link.id), 3);
    assert.equal(await h.csvRows(link.id), 3);
  });

  test("the object dies after the D1 flush, before noting it: nothing counted twice", async () => {
    const link = await h.link();
    const sentinel = await h.link();
    const first = click(link, { id: ABORT_AFTER_FLUSH, visitor: "y1" });
    assert.equal(await h.record(first, click(link, { visitor: "y2" })), 200);
    await h.drained(link.id, 2);
    await waitFor("the fault", async () => (await h.w.kv.get(`test:fault:abort-after-flush:${ABORT_AFTER_FLUSH}`)) === "1");
    // Restarted: the watermark in D1 says both commits are there.
    assert.equal(await h.record(click(sentinel), first, click(link, { visitor: "y1" })), 200);
    await h.drained(sentinel.id, 1);
    await h.drained(link.id, 3);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await h.count(link.id), 3);
    const s = await h.stats(link.id);
    assert.equal(s.totalClicks, 3);
    assert.equal(s.uniqueVisitors, 2, "y1's second visit is not a first visit");
    assert.equal(await h.rows(link.id), 3);
    assert.equal(await h.csvRows(link.id), 3);
  });

  test("a late click for an hour already flushed (and evicted) is added once to its block", async () => {
    const link = await h.link();
    const ts = Date.now() - 3 * HOUR;
    const hour = ts - (ts % HOUR);
    const early = click(link, { ts, visitor: "l1" });
    assert.equal(await h.record(early), 200);
    await h.drained(link.id, 1);
    await new Promise((r) => setTimeout(r, 1200)); // a flush later: the hour is out of memory
    assert.equal(await h.record(early, click(link, { ts: ts + 1, visitor: "l1" }), click(link, { ts: ts + 2, visitor: "l2" })), 200);
    await h.drained(link.id, 3);
    const s = await h.stats(link.id, "?period=24h");
    assert.equal(s.totalClicks, 3);
    assert.equal(s.uniqueVisitors, 2);
    assert.equal(s.overTime.find((b) => Date.parse(b.date) === hour).clicks, 3);
    const { n } = await h.w.db.prepare("SELECT COUNT(*) AS n FROM click_hours WHERE hour = ?1 AND shard = 0").bind(hour).first();
    assert.equal(n, 1, "one block part for the hour");
    assert.equal(await h.rows(link.id), 3);
  });

  test("the object stalls past the redirect's timeout: the click goes by the Queue and is counted once", async () => {
    // The stall outlasts the test: a count at all means the fallback ran
    // (timeout: ANALYTICS_COMMIT_MS + 5 s, so 5 s here).
    const s = await setup({ ANALYTICS_HANG_EVENT_ID: "hang.test" });
    try {
      const link = await s.link({ slug: "agg-hang" });
      assert.equal((await s.visit("agg-hang", "https://hang.test/x")).status, 302);
      await waitFor("the stall", async () => (await s.w.kv.get("test:fault:hang:hang.test")) === "1");
      await s.drained(link.id, 1);
      assert.equal(await s.rows(link.id), 1);
      const st = await s.stats(link.id);
      assert.equal(st.totalClicks, 1);
      assert.deepEqual(st.byReferrer, [{ referrer: "hang.test", clicks: 1 }]);
    } finally {
      await s.w.close();
    }
  });

  test("link counts land packed (a row per bucket, not per link) and read back exact, sorted and from a pre-aggregator count", async () => {
    const { w, key } = await setup({});
    try {
      const made = await w.api("POST", "/api/v1/links/bulk", {
        key,
        body: Array.from({ length: 40 }, (_, i) => ({ destinationUrl: `https://example.com/p${i}`, slug: `packed-${i}` })),
      });
      assert.equal(made.status, 200, made.text);
      const ws = (await w.db.prepare("SELECT workspace_id AS ws FROM links LIMIT 1").first()).ws;
      const links = made.body.data.map((e) => ({ ...e.link, workspaceId: ws }));
      // A count from before the aggregator (0005's converted data) stays the base.
      await w.db.prepare("UPDATE links SET click_count = 5 WHERE id = ?1").bind(links[0].id).run();
      const want = new Map(links.map((l, i) => [l.id, (i % 4) + 1 + (i === 0 ? 5 : 0)]));
      const stub = (await w.mf.getDurableObjectNamespace("CLICKS")).get((await w.mf.getDurableObjectNamespace("CLICKS")).idFromName("clicks-0"));
      const clicks = links.flatMap((l, i) => Array.from({ length: (i % 4) + 1 }, () => click(l)));
      const res = await stub.fetch("https://aggregator/record?shard=0", { method: "POST", body: JSON.stringify(clicks) });
      assert.equal(res.status, 200);
      const counted = async () => {
        const { results } = await w.db.prepare("SELECT id, counted FROM links_counted").all();
        return results.every((r) => r.counted === want.get(r.id));
      };
      await waitFor("every count", counted);
      const rows = (await w.db.prepare("SELECT COUNT(*) AS n FROM link_totals WHERE shard = 0").first()).n;
      assert.ok(rows >= 2 && rows <= 16, `40 links' counts in ${rows} rows`);
      assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM link_counts").first()).n, 40);
      assert.equal((await w.db.prepare("SELECT SUM(click_count) AS n FROM links").first()).n, 5, "links.click_count is not written");
      // The link API reads the same counts, one link or a list sorted by them.
      const one = await w.api("GET", `/api/v1/links/${links[0].id}`, { key });
      assert.equal(one.body.data.clickCount, 6);
      const list = await w.api("GET", "/api/v1/links?sort=clicks&perPage=50", { key });
      assert.equal(list.status, 200, list.text);
      const got = list.body.data.map((l) => [l.id, l.clickCount]);
      const expected = [...want.entries()].sort((a, b) => b[1] - a[1]).map(([, n]) => n);
      assert.deepEqual(got.map(([, n]) => n), expected, "sorted by clicks");
      for (const [id, n] of got) assert.equal(n, want.get(id), id);
      // A replayed flush (the same clicks again) changes no count.
      const again = await stub.fetch("https://aggregator/record?shard=0", { method: "POST", body: JSON.stringify(clicks) });
      assert.equal(again.status, 200);
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(await counted(), "counts unchanged after the replay");
    } finally {
      await w.close();
    }
  });
});

describe("flushing hourly", () => {
  let h;
  before(async () => {
    h = await setup({ ANALYTICS_FLUSH_SECONDS: "3600" });
  });
  after(() => h?.w.close());

  test("stats include committed clicks D1 does not hold yet", async () => {
    const link = await h.link({ title: "Live" });
    assert.equal(await h.record(click(link, { visitor: "s1", country: "FR" }), click(link, { visitor: "s1" })), 200);
    assert.equal(await h.count(link.id), 0, "not flushed");
    assert.equal(await h.rows(link.id), 0, "not flushed");
    const s = await h.stats(link.id);
    assert.equal(s.totalClicks, 2);
    assert.equal(s.uniqueVisitors, 1);
    assert.deepEqual(s.byCountry, [
      { country: "FR", clicks: 1 },
      { country: "US", clicks: 1 },
    ]);
    const hourly = await h.stats(link.id, "?period=24h");
    assert.equal(hourly.overTime.at(-1).clicks, 2);
    const sum = (await h.w.api("GET", "/api/v1/stats", { key: h.key })).body.data;
    assert.equal(sum.totalClicks, 2);
    assert.deepEqual(sum.topLinks.map((l) => [l.id, l.clicks, l.title]), [[link.id, 2, "Live"]]);
  });

  test("the click that reaches clickLimit flips the KV record at the commit", async () => {
    const link = await h.link({ clickLimit: 2, slug: "agg-limit" });
    assert.equal(await h.record(click(link)), 200);
    assert.ok(!(await h.w.kvRecord(DOMAIN, "agg-limit")).done);
    assert.equal(await h.record(click(link)), 200);
    // Before any flush: D1 still says 0.
    assert.equal(await h.count(link.id), 0);
    assert.equal((await h.w.kvRecord(DOMAIN, "agg-limit")).done, true);
    assert.equal((await h.w.fetch("/agg-limit")).status, 410);
  });
});

describe("group commit (the production default: calls wait for a window)", () => {
  let h;
  before(async () => {
    h = await setup({ ANALYTICS_COMMIT_MS: "400", ANALYTICS_FLUSH_SECONDS: "3600" });
  });
  after(() => h?.w.close());

  test("calls within the window share one commit, are all answered after it, and count once", async () => {
    const link = await h.link({ title: "Grouped" });
    const clicks = Array.from({ length: 12 }, (_, i) => click(link, { visitor: `g${i % 4}` }));
    const t0 = Date.now();
    const calls = [];
    for (let i = 0; i < 6; i++) calls.push(h.record(clicks[2 * i], clicks[2 * i + 1]));
    // A redelivery inside the same group.
    calls.push(h.record(clicks[0], clicks[1]));
    assert.deepEqual(await Promise.all(calls), Array(7).fill(200));
    assert.ok(Date.now() - t0 >= 400, "no call answered before the window closed");
    let s = await h.stats(link.id);
    assert.equal(s.totalClicks, 12);
    assert.equal(s.uniqueVisitors, 4);
    // The next window's group commits on its own (its callers are woken
    // by their own commit, not left waiting on the first).
    assert.deepEqual(await Promise.all([h.record(click(link)), h.record(click(link), clicks[3])]), [200, 200]);
    s = await h.stats(link.id);
    assert.equal(s.totalClicks, 14);
    assert.equal(await h.count(link.id), 0, "not flushed: the counts come from the object");
  });

  test("a redirect's click waits for the window and is counted once", async () => {
    const link = await h.link({ slug: "agg-group" });
    const answers = await Promise.all([1, 2, 3].map(() => h.visit("agg-group", "https://example.org/")));
    assert.deepEqual(answers.map((r) => r.status), [302, 302, 302]);
    await waitFor("3 clicks", async () => (await h.stats(link.id)).totalClicks === 3);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await h.stats(link.id)).totalClicks, 3);
  });
});

describe("a restart of the whole runtime", () => {
  test("committed, unflushed clicks survive it (storage persisted): stats exact, a redelivery not counted again", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "edgelink-persist-"));
    const options = { configure: () => ({ resourcePersistencePath: dir }) };
    const vars = { ANALYTICS_FLUSH_SECONDS: "3600" };
    let link, clicks, key;
    const a = await setup(vars, options);
    try {
      key = a.key;
      link = await a.link();
      clicks = [click(link, { visitor: "p1" }), click(link, { visitor: "p2" }), click(link, { visitor: "p1" })];
      assert.equal(await a.record(...clicks), 200);
      assert.equal((await a.stats(link.id)).totalClicks, 3);
    } finally {
      await a.w.close();
    }
    // A new runtime on the same storage: new isolate, object rebuilt from its log.
    const b = await setup(vars, options);
    try {
      const stats = async () => {
        const r = await b.w.api("GET", `/api/v1/links/${link.id}/stats`, { key });
        assert.equal(r.status, 200, r.text);
        return r.body.data;
      };
      let s = await stats();
      assert.equal(s.totalClicks, 3);
      assert.equal(s.uniqueVisitors, 2);
      assert.equal(await b.record(...clicks, click(link, { visitor: "p3" }), click(link, { visitor: "p2" })), 200);
      s = await stats();
      assert.equal(s.totalClicks, 5, "the three clicks again are skipped");
      assert.equal(s.uniqueVisitors, 3, "p2 was seen before the restart");
    } finally {
      await b.w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
