// Click analytics against the built wasm worker in Miniflare: the Queue
// consumer (exactly-once counting, poison, bots, failing batches, click
// limit) and the stats API (link stats, workspace summary and breakdowns,
// CSV export).
// Clicks are sent as QueueMessage JSON straight to the EVENTS queue, and,
// in the end-to-end test, produced by the real redirect.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectError } from "./helpers.mjs";

const DOMAIN = "localhost:8787";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FAIL_IN_TX = "evt_fault_in_tx";
const FAIL_AFTER_COMMIT = "evt_fault_after_commit";

let w;
let key; // workspace A (business plan: polling makes many requests)
let otherKey; // workspace B
let producer;
let seq = 0;

before(async () => {
  w = await startWorker({
    vars: {
      ANALYTICS_FAIL_ONCE_EVENT_ID: FAIL_IN_TX,
      ANALYTICS_FAIL_AFTER_COMMIT_EVENT_ID: FAIL_AFTER_COMMIT,
    },
  });
  ({ key } = await w.workspace("Analytics Co", "business"));
  ({ key: otherKey } = await w.workspace("Other Co", "business"));
  producer = await w.mf.getQueueProducer("EVENTS");
});

after(async () => {
  await w?.close();
});

async function api(method, path, opts = {}) {
  const r = await w.api(method, path, { key, ...opts });
  assert.ok(r.status < 500, `${method} ${path} answered ${r.status}: ${r.text}`);
  return r;
}


/** A click event as the redirect sends it. */
function click(link, o = {}) {
  seq += 1;
  return {
    type: "click",
    id: o.id ?? `evt_test_${seq}_${Math.random().toString(36).slice(2)}`,
    link_id: link.id,
    workspace_id: o.workspace_id ?? wsOf(link),
    ts: o.ts ?? Date.now(),
    country: o.country === undefined ? "US" : o.country,
    device: o.device ?? "desktop",
    os: o.os ?? "macos",
    browser: o.browser ?? "chrome",
    referrer: o.referrer ?? null,
    bot: o.bot ?? false,
    visitor: o.visitor ?? `v_${seq}`,
    qr: o.qr ?? false,
    webhook: false,
    scene: "",
  };
}

const workspaceOfLink = new Map();
function wsOf(link) {
  return workspaceOfLink.get(link.id);
}

async function linkFor(k = key, body = {}) {
  const r = await w.api("POST", "/api/v1/links", {
    key: k,
    body: { destinationUrl: "https://example.com/landing", ...body },
  });
  assert.equal(r.status, 201, r.text);
  const row = await w.db.prepare("SELECT workspace_id FROM links WHERE id = ?1").bind(r.body.data.id).first();
  workspaceOfLink.set(r.body.data.id, row.workspace_id);
  return r.body.data;
}

async function send(...bodies) {
  await producer.sendBatch(bodies.map((body) => ({ body })));
}

async function waitFor(what, fn, timeoutMs = 15_000) {
  const start = Date.now();
  let last;
  while (Date.now() - start < timeoutMs) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function clickCount(linkId) {
  const row = await w.db.prepare("SELECT counted AS n FROM links_counted WHERE id = ?1").bind(linkId).first();
  return row?.n;
}

/** Waits until the link's clickCount is exactly n (D1, no API quota). */
async function drained(linkId, n) {
  await waitFor(`clickCount ${n} on ${linkId}`, async () => (await clickCount(linkId)) === n);
}

async function stats(linkId, query = "", k = key) {
  const r = await w.api("GET", `/api/v1/links/${linkId}/stats${query}`, { key: k });
  assert.ok(r.status < 500, r.text);
  return r;
}

function asMap(list, k) {
  return Object.fromEntries(list.map((x) => [x[k], x.clicks]));
}

function sumOverTime(s) {
  return s.overTime.reduce((a, b) => a + b.clicks, 0);
}

describe("consumer → stats, exact counts", () => {
  let link;
  let now; // every click's time (the old one: 3 days earlier)
  before(async () => {
    link = await linkFor();
    now = Date.now();
    await send(
      click(link, { ts: now, country: "US", device: "desktop", os: "macos", browser: "chrome", referrer: "news.ycombinator.com", visitor: "v1" }),
      click(link, { ts: now, country: "US", device: "desktop", os: "macos", browser: "chrome", referrer: "news.ycombinator.com", visitor: "v1" }),
      click(link, { country: "US", device: "desktop", os: "windows", browser: "edge", referrer: "news.ycombinator.com", visitor: "v2" }),
      click(link, { country: "DE", device: "mobile", os: "ios", browser: "safari", referrer: null, visitor: "v3" }),
      click(link, { country: "DE", device: "mobile", os: "ios", browser: "safari", referrer: null, visitor: "v4" }),
      click(link, { country: "FR", device: "mobile", os: "android", browser: "chrome", referrer: "t.co", visitor: "v5" }),
      click(link, { country: "GB", device: "tablet", os: "ios", browser: "safari", referrer: null, visitor: "v6", qr: true }),
      click(link, { country: null, device: "desktop", os: "linux", browser: "firefox", referrer: null, visitor: "v7" }),
      // Bots never count.
      click(link, { country: "US", device: "desktop", os: "other", browser: "other", bot: true, visitor: "b1" }),
      click(link, { country: "US", device: "desktop", os: "linux", browser: "chrome", bot: true, visitor: "b2" }),
      // Three days ago: inside 7d, outside 24h.
      click(link, { ts: now - 3 * DAY, country: "JP", device: "mobile", os: "android", browser: "chrome", visitor: "v1" }),
    );
    await drained(link.id, 9);
  });

  test("every breakdown to the exact count, bots excluded", async () => {
    const r = await stats(link.id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.success, true);
    const s = r.body.data;
    assert.equal(s.linkId, link.id);
    assert.equal(s.totalClicks, 9);
    assert.deepEqual(asMap(s.byCountry, "country"), { US: 3, DE: 2, FR: 1, GB: 1, JP: 1, unknown: 1 });
    assert.deepEqual(asMap(s.byDevice, "device"), { desktop: 4, mobile: 4, tablet: 1 });
    assert.deepEqual(asMap(s.byBrowser, "browser"), { chrome: 4, safari: 3, edge: 1, firefox: 1 });
    assert.deepEqual(asMap(s.byOs, "os"), { macos: 2, windows: 1, ios: 3, android: 2, linux: 1 });
    assert.deepEqual(asMap(s.byReferrer, "referrer"), { "news.ycombinator.com": 3, direct: 5, "t.co": 1 });
    assert.deepEqual(asMap(s.bySource, "source"), { link: 8, qr: 1 });
    // No A/B test: no variant rows at all (tests/variants.test.mjs has them).
    assert.deepEqual(s.byVariant, []);
    // v1 twice today is one visitor; v1 three days ago is another day's visit.
    assert.equal(s.uniqueVisitors, 8);
    // Sorted by clicks, most first.
    assert.equal(s.byCountry[0].country, "US");
    assert.deepEqual(s.byReferrer[0], { referrer: "direct", clicks: 5 });
    assert.equal(sumOverTime(s), 9);
    assert.equal(s.period.interval, "day");
  });

  test("clickCount on the link follows, bots excluded", async () => {
    const r = await api("GET", `/api/v1/links/${link.id}`);
    assert.equal(r.body.data.clickCount, 9);
  });

  test("period=24h: hourly buckets, the old click outside", async () => {
    const s = (await stats(link.id, "?period=24h")).body.data;
    assert.equal(s.totalClicks, 8);
    assert.equal(s.uniqueVisitors, 7);
    assert.equal(s.period.interval, "hour");
    assert.equal(s.overTime.length, 24);
    assert.equal(sumOverTime(s), 8);
    assert.equal(s.byCountry.find((c) => c.country === "JP"), undefined);
    // Buckets in time order, on whole hours, ending with the current hour.
    const times = s.overTime.map((b) => Date.parse(b.date));
    assert.ok(times.every((t, i) => t % HOUR === 0 && (i === 0 || t - times[i - 1] === HOUR)));
    const hour = Math.floor(now / HOUR) * HOUR;
    assert.ok(times.at(-1) >= hour && times.at(-1) <= Math.floor(Date.now() / HOUR) * HOUR);
    assert.equal(s.overTime.find((b) => Date.parse(b.date) === hour).clicks, 8);
  });

  test("period=7d: day buckets (zero-filled), the old click in its day", async () => {
    const s = (await stats(link.id, "?period=7d")).body.data;
    assert.equal(s.totalClicks, 9);
    assert.equal(s.period.interval, "day");
    // Seven days back from the end of the current hour: 8 day buckets, but
    // 7 in the last hour of a UTC day (the window then ends at midnight).
    const [from, to] = [Date.parse(s.period.from), Date.parse(s.period.to)];
    assert.equal(to - from, 7 * DAY);
    assert.equal(to % HOUR, 0);
    assert.equal(s.overTime.length, to % DAY === 0 ? 7 : 8);
    const today = Math.floor(now / DAY) * DAY;
    const byDate = Object.fromEntries(s.overTime.map((b) => [Date.parse(b.date), b.clicks]));
    assert.equal(byDate[today], 8);
    assert.equal(byDate[today - 3 * DAY], 1);
    assert.equal(s.overTime.filter((b) => b.clicks === 0).length, s.overTime.length - 2);
    // The same window in hours.
    const h = (await stats(link.id, "?period=7d&interval=hour")).body.data;
    assert.equal(h.overTime.length, 168);
    assert.equal(h.totalClicks, 9);
    assert.equal(sumOverTime(h), 9);
  });

  test("from/to windows (ISO 8601), ragged hours included", async () => {
    const iso = (t) => new Date(t).toISOString();
    // Only the old click.
    let s = (await stats(link.id, `?from=${iso(now - 4 * DAY)}&to=${iso(now - 2 * DAY)}`)).body.data;
    assert.equal(s.totalClicks, 1);
    assert.deepEqual(asMap(s.byCountry, "country"), { JP: 1 });
    // Both ends ragged, several whole days between.
    s = (await stats(link.id, `?from=${iso(now - 5 * DAY + 7 * HOUR)}&to=${iso(now + HOUR)}`)).body.data;
    assert.equal(s.totalClicks, 9);
    assert.equal(sumOverTime(s), 9);
    // A window in the future is empty, but still bucketed.
    const hour = Math.floor(now / HOUR) * HOUR;
    s = (await stats(link.id, `?from=${iso(hour + 2 * DAY)}&to=${iso(hour + 3 * DAY)}`)).body.data;
    assert.equal(s.totalClicks, 0);
    assert.equal(s.uniqueVisitors, 0);
    assert.deepEqual(s.byCountry, []);
    assert.equal(s.overTime.length, 24);
    // Not on whole hours: rounded outwards, so 25 hourly buckets.
    s = (await stats(link.id, `?from=${iso(hour + 2 * DAY + 60_000)}&to=${iso(hour + 3 * DAY + 60_000)}`)).body.data;
    assert.equal(s.overTime.length, 25);
    assert.equal(s.period.from, iso(hour + 2 * DAY).replace(".000Z", "Z"));
    // Dates alone are midnight UTC.
    const d = new Date(now - 3 * DAY).toISOString().slice(0, 10);
    const d2 = new Date(now - 2 * DAY).toISOString().slice(0, 10);
    s = (await stats(link.id, `?from=${d}&to=${d2}`)).body.data;
    assert.equal(s.totalClicks, 1);
    assert.equal(s.period.from, `${d}T00:00:00Z`);
  });

  test("bad period, from, to, interval, format → 400 naming the field", async () => {
    const cases = [
      ["?period=week", "period"],
      ["?period=7d&from=2025-01-01", "period"],
      ["?from=yesterday", "from"],
      ["?to=2025-13-01", "to"],
      ["?from=2025-02-01&to=2025-01-01", "to"],
      ["?from=1990-01-01&to=2025-01-01", "from"],
      ["?interval=minute", "interval"],
      ["?period=90d&interval=hour", "interval"],
      ["?format=xml", "format"],
    ];
    for (const [q, field] of cases) {
      const r = await stats(link.id, q);
      const e = expectError(assert, r, 400, "VALIDATION_ERROR");
      assert.equal(e.field, field, `${q}: ${r.text}`);
    }
  });

  test("CSV export: header, one row per counted click, no IP", async () => {
    const res = await w.fetch(`/api/v1/links/${link.id}/clicks.csv`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^text\/csv/);
    assert.match(res.headers.get("content-disposition"), /attachment/);
    const text = await res.text();
    const lines = text.split("\r\n").filter(Boolean);
    assert.equal(lines[0], "id,timestamp,country,device,os,browser,referrer,source,visitor,variant");
    assert.ok(!/\bip\b/i.test(lines[0]));
    assert.equal(lines.length, 1 + 9);
    const rows = lines.slice(1).map((l) => l.split(","));
    assert.ok(rows.every((r) => r.length === 10));
    assert.ok(rows.every((r) => r[9] === ""), "no A/B variant on this link");
    assert.equal(rows.filter((r) => r[2] === "US").length, 3);
    assert.equal(rows.filter((r) => r[7] === "qr").length, 1);
    assert.ok(rows.every((r) => !["b1", "b2"].includes(r[8])), "no bot rows");
    // Time order.
    const ts = rows.map((r) => Date.parse(r[1]));
    assert.deepEqual([...ts].sort((a, b) => a - b), ts);
    // The same through ?format=csv, windowed.
    const r2 = await w.fetch(`/api/v1/links/${link.id}/stats?format=csv&period=24h`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    assert.equal(r2.status, 200);
    const lines2 = (await r2.text()).split("\r\n").filter(Boolean);
    assert.equal(lines2.length, 1 + 8);
  });

  test("another workspace's key gets 404 for stats and CSV", async () => {
    expectError(assert, await stats(link.id, "", otherKey), 404, "NOT_FOUND");
    expectError(assert, await stats(link.id, "?format=csv", otherKey), 404, "NOT_FOUND");
    const r = await w.api("GET", `/api/v1/links/${link.id}/clicks.csv`, { key: otherKey });
    expectError(assert, r, 404, "NOT_FOUND");
    // And its workspace summary holds none of these clicks.
    const sum = await w.api("GET", "/api/v1/stats", { key: otherKey });
    assert.equal(sum.status, 200, sum.text);
    assert.equal(sum.body.data.totalClicks, 0);
    assert.deepEqual(sum.body.data.topLinks, []);
    // No key at all.
    expectError(assert, await w.api("GET", `/api/v1/links/${link.id}/stats`), 401, "UNAUTHORIZED");
  });
});

describe("exactly once", () => {
  test("the same message twice (one batch, then again later) counts once", async () => {
    const link = await linkFor();
    const sentinel = await linkFor();
    const dup = click(link, { id: "evt_dup_1", visitor: "dup" });
    await send(dup, dup, click(link, { visitor: "other" }));
    await drained(link.id, 2);
    // Redelivered later, in another batch, followed by a sentinel.
    await send(dup, click(sentinel));
    await drained(sentinel.id, 1);
    assert.equal(await clickCount(link.id), 2);
    const s = (await stats(link.id)).body.data;
    assert.equal(s.totalClicks, 2);
    assert.equal(s.uniqueVisitors, 2);
    const raw = await w.db.prepare("SELECT COUNT(*) AS n FROM clicks WHERE id = 'evt_dup_1'").first();
    assert.equal(raw.n, 1);
  });

  test("a batch failing inside its D1 transaction is retried and counts each click once", async () => {
    // The consumer adds a failing statement between the rollups and the
    // link counters the first time it sees FAIL_IN_TX: D1 rolls the whole
    // batch back, the Queue retries it, the retry counts everything once.
    const link = await linkFor();
    const events = [
      click(link, { country: "NL", visitor: "f1" }),
      click(link, { id: FAIL_IN_TX, country: "NL", visitor: "f2" }),
      click(link, { country: "BE", visitor: "f1" }),
    ];
    await send(...events);
    await drained(link.id, 3);
    assert.equal(await w.kv.get(`test:fault:in-tx:${FAIL_IN_TX}`), "1", "the fault fired");
    const s = (await stats(link.id)).body.data;
    assert.equal(s.totalClicks, 3);
    assert.deepEqual(asMap(s.byCountry, "country"), { NL: 2, BE: 1 });
    assert.equal(s.uniqueVisitors, 2);
    assert.equal(sumOverTime(s), 3);
    const raw = await w.db.prepare("SELECT COUNT(*) AS n FROM clicks WHERE link_id = ?1").bind(link.id).first();
    assert.equal(raw.n, 3);
  });

  test("a batch that committed but was not acknowledged is redelivered and counts once", async () => {
    const link = await linkFor();
    const sentinel = await linkFor();
    await send(
      click(link, { country: "SE", visitor: "c1" }),
      click(link, { id: FAIL_AFTER_COMMIT, country: "SE", visitor: "c2" }),
    );
    await drained(link.id, 2);
    assert.equal(await w.kv.get(`test:fault:after-commit:${FAIL_AFTER_COMMIT}`), "1", "the fault fired");
    // The redelivery has been processed once the fault marker exists and a
    // later message is through; nothing may have been added.
    await send(click(sentinel));
    await drained(sentinel.id, 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await clickCount(link.id), 2);
    const s = (await stats(link.id)).body.data;
    assert.equal(s.totalClicks, 2);
    assert.equal(s.uniqueVisitors, 2);
    assert.deepEqual(asMap(s.byCountry, "country"), { SE: 2 });
  });

  test("poison messages are acknowledged and do not block the others", async () => {
    const link = await linkFor();
    await send(
      { type: "nonsense" },
      "just a string",
      42,
      { type: "click", id: "evt_incomplete" },
      { ...click(link), ts: "yesterday" },
      { ...click(link), id: "" },
      click(link, { country: "IT" }),
      click(link, { country: "IT" }),
    );
    await drained(link.id, 2);
    // Still fine afterwards: poison was not retried into later batches.
    await send(click(link, { country: "ES" }));
    await drained(link.id, 3);
    const s = (await stats(link.id)).body.data;
    assert.deepEqual(asMap(s.byCountry, "country"), { IT: 2, ES: 1 });
  });

  test("clicks for a deleted or unknown link are dropped, not counted elsewhere", async () => {
    const link = await linkFor();
    const ghost = { id: "lnk_does_not_exist" };
    workspaceOfLink.set(ghost.id, wsOf(link));
    await send(click(ghost), click(link));
    await drained(link.id, 1);
    const raw = await w.db.prepare("SELECT COUNT(*) AS n FROM clicks WHERE link_id = 'lnk_does_not_exist'").first();
    assert.equal(raw.n, 0);
  });
});

describe("click limit", () => {
  test("reaching clickLimit flips the KV record to done (the redirect answers 410)", async () => {
    const link = await linkFor(key, { clickLimit: 3 });
    assert.ok(!(await w.kvRecord(DOMAIN, link.slug)).done);
    await send(click(link), click(link));
    await drained(link.id, 2);
    assert.ok(!(await w.kvRecord(DOMAIN, link.slug)).done);
    // Bots do not use up the limit.
    await send(click(link, { bot: true }), click(link, { bot: true }), click(link));
    await drained(link.id, 3);
    await waitFor("KV done", async () => (await w.kvRecord(DOMAIN, link.slug)).done === true);
    const r = await api("GET", `/api/v1/links/${link.id}`);
    assert.equal(r.body.data.clickCount, 3);
    assert.equal(r.body.data.clickLimit, 3);
  });
});

describe("workspace summary", () => {
  test("GET /api/v1/stats: total, top links, top countries, overTime", async () => {
    const { key: k } = await w.workspace("Summary Co", "business");
    const a = await linkFor(k, { title: "A" });
    const b = await linkFor(k, { title: "B" });
    const c = await linkFor(k, { title: "C" });
    await send(
      click(a, { country: "US" }),
      click(a, { country: "US" }),
      click(a, { country: "CA" }),
      click(b, { country: "CA" }),
      click(b, { country: "CA" }),
      click(b, { country: "MX" }),
      click(b, { country: "MX" }),
      click(c, { country: "US", ts: Date.now() - 10 * DAY }),
      click(c, { country: "US", bot: true }),
    );
    await drained(b.id, 4);
    await drained(a.id, 3);
    await drained(c.id, 1);
    let r = await w.api("GET", "/api/v1/stats", { key: k });
    assert.equal(r.status, 200, r.text);
    let s = r.body.data;
    assert.equal(s.totalClicks, 8);
    assert.deepEqual(
      s.topLinks.map((l) => [l.id, l.clicks]),
      [
        [b.id, 4],
        [a.id, 3],
        [c.id, 1],
      ],
    );
    assert.equal(s.topLinks[0].shortUrl, b.shortUrl);
    assert.equal(s.topLinks[0].title, "B");
    assert.deepEqual(s.topCountries, [
      { country: "CA", clicks: 3 },
      { country: "US", clicks: 3 },
      { country: "MX", clicks: 2 },
    ]);
    assert.equal(sumOverTime(s), 8);
    // Windowed, limited.
    r = await w.api("GET", "/api/v1/stats?period=7d&limit=1", { key: k });
    s = r.body.data;
    assert.equal(s.totalClicks, 7);
    assert.equal(s.topLinks.length, 1);
    assert.equal(s.topCountries.length, 1);
    expectError(assert, await w.api("GET", "/api/v1/stats?limit=0", { key: k }), 400, "VALIDATION_ERROR");
    const e = expectError(assert, await w.api("GET", "/api/v1/stats?period=1y", { key: k }), 400, "VALIDATION_ERROR");
    assert.equal(e.field, "period");
  });
});

describe("workspace breakdowns", () => {
  /** `{field: {label: clicks}}` of every breakdown of a stats answer. */
  const BREAKDOWNS = [
    ["byCountry", "country"],
    ["byDevice", "device"],
    ["byBrowser", "browser"],
    ["byOs", "os"],
    ["byReferrer", "referrer"],
    ["bySource", "source"],
  ];
  const maps = (s) => Object.fromEntries(BREAKDOWNS.map(([f, k]) => [f, asMap(s[f], k)]));
  function add(a, b) {
    const out = structuredClone(a);
    for (const [f, m] of Object.entries(b)) for (const [l, n] of Object.entries(m)) out[f][l] = (out[f][l] ?? 0) + n;
    return out;
  }

  test("GET /api/v1/stats: the link stats' breakdowns and unique visitors, summed over the workspace's links only", async () => {
    const { key: kx } = await w.workspace("Breakdown X", "business");
    const { key: ky } = await w.workspace("Breakdown Y", "business");
    const p = await linkFor(kx);
    const q = await linkFor(kx);
    const r = await linkFor(ky);
    const hn = "news.ycombinator.com";
    await send(
      click(p, { country: "US", device: "desktop", os: "macos", browser: "chrome", referrer: hn, visitor: "wv1" }),
      click(p, { country: "US", device: "desktop", os: "macos", browser: "chrome", referrer: hn, visitor: "wv1" }),
      click(p, { country: "DE", device: "mobile", os: "ios", browser: "safari", visitor: "wv2", qr: true }),
      // The same visitor on another link: each link counts its own visitors.
      click(q, { country: "FR", device: "mobile", os: "android", browser: "chrome", referrer: hn, visitor: "wv1" }),
      click(q, { country: "US", device: "desktop", os: "linux", browser: "other", bot: true, visitor: "wb1" }),
      // Another workspace's link, and a click claiming it for X: neither counts for X.
      click(r, { country: "JP", device: "tablet", os: "linux", browser: "firefox", visitor: "wv9" }),
      click(r, { workspace_id: wsOf(p), country: "JP", device: "tablet", visitor: "wv8" }),
    );
    await drained(p.id, 3);
    await drained(q.id, 1);
    await drained(r.id, 1);

    const res = await w.api("GET", "/api/v1/stats", { key: kx });
    assert.equal(res.status, 200, res.text);
    const s = res.body.data;
    assert.equal(s.totalClicks, 4);
    assert.equal(s.uniqueVisitors, 3); // p: wv1, wv2; q: wv1
    assert.deepEqual(maps(s), {
      byCountry: { US: 2, DE: 1, FR: 1 },
      byDevice: { desktop: 2, mobile: 2 },
      byBrowser: { chrome: 3, safari: 1 },
      byOs: { macos: 2, ios: 1, android: 1 },
      byReferrer: { [hn]: 3, direct: 1 },
      bySource: { link: 3, qr: 1 },
    });
    assert.deepEqual(s.bySource, [
      { source: "link", clicks: 3 },
      { source: "qr", clicks: 1 },
    ]);
    assert.equal(sumOverTime(s), 4);
    // Existing fields unchanged.
    assert.deepEqual(s.topCountries, [
      { country: "US", clicks: 2 },
      { country: "DE", clicks: 1 },
      { country: "FR", clicks: 1 },
    ]);
    assert.deepEqual(
      s.topLinks.map((l) => [l.id, l.clicks]),
      [
        [p.id, 3],
        [q.id, 1],
      ],
    );

    // Exactly the sum of the links' own stats, over the same window.
    const ps = (await stats(p.id, "", kx)).body.data;
    const qs = (await stats(q.id, "", kx)).body.data;
    assert.deepEqual(maps(s), add(maps(ps), maps(qs)));
    assert.equal(s.uniqueVisitors, ps.uniqueVisitors + qs.uniqueVisitors);
    const week = (await w.api("GET", "/api/v1/stats?period=7d&interval=day", { key: kx })).body.data;
    const pw = (await stats(p.id, "?period=7d&interval=day", kx)).body.data;
    const qw = (await stats(q.id, "?period=7d&interval=day", kx)).body.data;
    assert.deepEqual(week.period, pw.period);
    assert.deepEqual(
      week.overTime,
      pw.overTime.map((b, i) => ({ date: b.date, clicks: b.clicks + qw.overTime[i].clicks })),
    );

    // The other workspace sees only its own click.
    const y = (await w.api("GET", "/api/v1/stats", { key: ky })).body.data;
    assert.equal(y.totalClicks, 1);
    assert.equal(y.uniqueVisitors, 1);
    assert.deepEqual(maps(y), {
      byCountry: { JP: 1 },
      byDevice: { tablet: 1 },
      byBrowser: { firefox: 1 },
      byOs: { linux: 1 },
      byReferrer: { direct: 1 },
      bySource: { link: 1 },
    });

    // A workspace without clicks: every breakdown empty.
    const { key: kz } = await w.workspace("Breakdown Z", "business");
    const z = (await w.api("GET", "/api/v1/stats", { key: kz })).body.data;
    assert.equal(z.uniqueVisitors, 0);
    for (const [f] of BREAKDOWNS) assert.deepEqual(z[f], [], f);
  });
});

describe("retention", () => {
  test("raw rows older than CLICK_RETENTION_DAYS are pruned; rollups stay", async () => {
    const link = await linkFor();
    const old = Date.now() - 200 * DAY;
    await w.db
      .prepare(
        "INSERT INTO clicks (id, link_id, workspace_id, ts, country, device, os, browser, referrer, qr, visitor) " +
          "VALUES ('evt_ancient', ?1, ?2, ?3, 'US', 'desktop', 'macos', 'chrome', '', 0, 'old')",
      )
      .bind(link.id, wsOf(link), old)
      .run();
    await send(click(link));
    await drained(link.id, 1);
    const raw = await w.db.prepare("SELECT COUNT(*) AS n FROM clicks WHERE id = 'evt_ancient'").first();
    assert.equal(raw.n, 0);
  });
});

describe("end to end through the redirect", () => {
  const UA = {
    desktop: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    iphone:
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    android:
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    tablet:
      "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    bot: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  };

  test("clicks with countries, devices and referrers, counted exactly, then 410 at the limit", async (t) => {
    const link = await linkFor(key, { clickLimit: 6 });
    const visit = (ua, country, { referer, ip = "203.0.113.7" } = {}) =>
      w.fetch(`/${link.slug}`, {
        cf: { country },
        headers: { "User-Agent": ua, "CF-Connecting-IP": ip, ...(referer ? { Referer: referer } : {}) },
      });
    const probe = await visit(UA.bot, "US");
    if (probe.status === 404) {
      t.skip("the redirect is not serving links yet");
      return;
    }
    assert.equal(probe.status, 302);
    const visits = [
      [UA.desktop, "US", { referer: "https://news.ycombinator.com/item?id=1" }],
      [UA.desktop, "US", { referer: "https://news.ycombinator.com/" }], // same visitor
      [UA.iphone, "DE", {}],
      [UA.android, "IN", { referer: "https://t.co/abc" }],
      [UA.tablet, "GB", { ip: "198.51.100.9" }],
      [UA.bot, "US", {}],
    ];
    for (const [ua, country, o] of visits) {
      const r = await visit(ua, country, o);
      assert.equal(r.status, 302);
    }
    await drained(link.id, 5);
    const s = (await stats(link.id)).body.data;
    assert.equal(s.totalClicks, 5);
    assert.deepEqual(asMap(s.byCountry, "country"), { US: 2, DE: 1, IN: 1, GB: 1 });
    assert.deepEqual(asMap(s.byDevice, "device"), { desktop: 2, mobile: 2, tablet: 1 });
    assert.deepEqual(asMap(s.byOs, "os"), { macos: 2, ios: 2, android: 1 });
    assert.deepEqual(asMap(s.byBrowser, "browser"), { chrome: 3, safari: 2 });
    assert.deepEqual(asMap(s.byReferrer, "referrer"), { "news.ycombinator.com": 2, "t.co": 1, direct: 2 });
    assert.equal(s.uniqueVisitors, 4);
    assert.equal((await api("GET", `/api/v1/links/${link.id}`)).body.data.clickCount, 5);
    // The sixth human click reaches the limit; the next visit is a 410.
    assert.equal((await visit(UA.desktop, "FR", { ip: "192.0.2.1" })).status, 302);
    await drained(link.id, 6);
    await waitFor("KV done", async () => (await w.kvRecord(DOMAIN, link.slug)).done === true);
    assert.equal((await visit(UA.desktop, "FR")).status, 410);
  });
});
