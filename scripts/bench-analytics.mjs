#!/usr/bin/env node
// Analytics benchmark, in Miniflare (workerd + local D1), figures only.
//
// 1. Consumer drain rate: N click events (BENCH_EVENTS, 10,000) with
//    realistic spread (40 countries, devices, browsers, referrers, many
//    visitors) over BENCH_DRAIN_LINKS links (20) are sent to the EVENTS
//    queue in batches of 100; the consumer drains them in batches of 100
//    (one D1 transaction each). Reported: events/s from the first send to
//    the moment every click is counted in links.click_count (the consumer
//    keeps pace with the sender, so this is close to the send rate), and,
//    from the consumer's own log, the D1 transaction time per batch.
// 2. Stats at scale: BENCH_CLICKS (1,000,000) clicks of synthetic history
//    over 90 days are seeded straight into D1 for one link (raw rows by a
//    recursive CTE, in chunks, each chunk rolled up with the consumer's own
//    aggregation), and the
//    stats API is timed (median of BENCH_REPEAT, 5) for several windows,
//    plus the workspace summary, a one-day CSV export, and for contrast
//    the same breakdown computed from the raw rows.
//
// Run after `bash scripts/build-worker.sh`:
//   node scripts/bench-analytics.mjs

import path from "node:path";
import { fileURLToPath } from "node:url";
import { startWorker } from "../tests/helpers.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);

const env = process.env;
const EVENTS = Number(env.BENCH_EVENTS ?? 10_000);
const DRAIN_LINKS = Number(env.BENCH_DRAIN_LINKS ?? 20);
const CLICKS = Number(env.BENCH_CLICKS ?? 1_000_000);
const REPEAT = Number(env.BENCH_REPEAT ?? 5);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const COUNTRIES = "US DE FR GB IN JP BR CA AU NL SE NO DK FI PL ES IT PT IE BE AT CH CZ HU RO GR TR IL AE SA ZA NG EG KE MX AR CL CO PE KR".split(" ");
const DEVICES = ["desktop", "mobile", "tablet"];
const OSES = ["windows", "macos", "linux", "ios", "android", "chromeos"];
const BROWSERS = ["chrome", "safari", "firefox", "edge", "samsung", "opera"];
const REFERRERS = ["", "news.ycombinator.com", "t.co", "www.google.com", "www.reddit.com", "www.facebook.com", "l.instagram.com", "www.linkedin.com", "duckduckgo.com", "www.bing.com", "mail.google.com", "github.com", "medium.com", "substack.com", "www.youtube.com", "discord.com", "slack.com", "teams.microsoft.com", "bsky.app", "mastodon.social", "lobste.rs", "dev.to", "stackoverflow.com", "www.producthunt.com", "old.reddit.com"];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const pick = (list, i) => list[i % list.length];

/** Captures the consumer's log lines ("... D1 batch N ms") instead of printing them. */
function captureConsumerLog() {
  const d1 = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    const text = String(chunk);
    if (!text.includes("analytics: ")) return write(chunk, ...rest);
    for (const m of text.matchAll(/D1 batch (\d+) ms/g)) d1.push(Number(m[1]));
    return true;
  };
  return { d1, restore: () => (process.stdout.write = write) };
}

async function drainBenchmark() {
  const w = await startWorker({ build: "build" });
  const log = captureConsumerLog();
  try {
    const { key, workspace } = await w.workspace("Bench drain", "business");
    const links = [];
    for (let i = 0; i < DRAIN_LINKS; i++) {
      const r = await w.api("POST", "/api/v1/links", { key, body: { destinationUrl: `https://example.com/${i}` } });
      if (r.status !== 201) throw new Error(`link create: ${r.status} ${r.text}`);
      links.push(r.body.data.id);
    }
    const producer = await w.mf.getQueueProducer("EVENTS");
    const now = Date.now();
    const events = Array.from({ length: EVENTS }, (_, i) => ({
      type: "click",
      id: `evt_bench_${i}`,
      link_id: pick(links, i),
      workspace_id: workspace.id,
      ts: now - (i % 3600) * 1000,
      country: pick(COUNTRIES, i * 7),
      device: pick(DEVICES, i * 3),
      os: pick(OSES, i * 5),
      browser: pick(BROWSERS, i * 11),
      referrer: pick(REFERRERS, i * 13) || null,
      bot: false,
      visitor: `v${i % 2500}`,
      qr: i % 10 === 0,
      webhook: false,
      scene: "",
    }));
    const total = async () => (await w.db.prepare("SELECT COALESCE(SUM(counted), 0) AS n FROM links_counted").first()).n;
    const t0 = performance.now();
    for (let i = 0; i < events.length; i += 100) {
      await producer.sendBatch(events.slice(i, i + 100).map((body) => ({ body })));
    }
    const sent = performance.now() - t0;
    let n = 0;
    while ((n = await total()) < EVENTS) {
      if (performance.now() - t0 > 300_000) throw new Error(`drain timed out at ${n}/${EVENTS}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const drained = performance.now() - t0;
    const raw = (await w.db.prepare("SELECT COUNT(*) AS n FROM clicks").first()).n;
    const hourRows = (await w.db.prepare("SELECT COUNT(*) AS n FROM click_rollup_hour").first()).n;
    console.log(`  consumer drain: ${EVENTS} events over ${DRAIN_LINKS} links, batches of 100`);
    console.log(`    all sent after ${fmt(sent)}, all counted after ${fmt(drained)}`);
    console.log(`    ${Math.round(EVENTS / (drained / 1000))} events/s drained into D1 (${fmt(drained / (EVENTS / 100))} per 100-event batch, end to end)`);
    console.log(`    counted ${n} clicks, ${raw} raw rows, ${hourRows} hourly rollup rows`);
    if (log.d1.length) {
      const avg = log.d1.reduce((a, b) => a + b, 0) / log.d1.length;
      console.log(
        `    consumer side: ${log.d1.length} batches, D1 transaction per batch median ${fmt(median(log.d1))}, ` +
          `mean ${fmt(avg)} → ${Math.round((EVENTS / log.d1.length) / (avg / 1000))} events/s of D1 write capacity`,
      );
    }
  } finally {
    log.restore();
    await w.close();
  }
}

// The consumer's aggregation (src/analytics.rs), run once over the seeded rows.
function rollupSql(table, col, step) {
  return `WITH b AS (SELECT link_id, workspace_id, ts, ts - ts % ${step} AS bucket, country, device, os,
      browser, referrer, qr, visitor FROM clicks WHERE batch_id = 'seed'),
    v AS (SELECT link_id, workspace_id, visitor, MIN(ts) AS fts FROM b WHERE visitor <> ''
      GROUP BY link_id, workspace_id, visitor, ts - ts % 86400000)
    INSERT INTO ${table} (link_id, ${col}, dim, value, workspace_id, clicks)
    SELECT r_link, r_bucket, r_dim, r_value, r_ws, r_n FROM (
      SELECT b.link_id AS r_link, b.bucket AS r_bucket, d.value AS r_dim,
        CASE d.value WHEN 'country' THEN b.country WHEN 'device' THEN b.device
          WHEN 'browser' THEN b.browser WHEN 'os' THEN b.os WHEN 'referrer' THEN b.referrer
          WHEN 'source' THEN (CASE WHEN b.qr <> 0 THEN 'qr' ELSE 'link' END) ELSE '' END AS r_value,
        b.workspace_id AS r_ws, COUNT(*) AS r_n
      FROM b, json_each('["total","country","device","browser","os","referrer","source"]') d
      GROUP BY 1, 2, 3, 4, 5
      UNION ALL
      SELECT link_id, fts - fts % ${step}, 'visitors', '', workspace_id, COUNT(*) FROM v
        WHERE NOT EXISTS (SELECT 1 FROM click_visitors cv WHERE cv.day = v.fts - v.fts % 86400000
          AND cv.link_id = v.link_id AND cv.visitor = v.visitor)
        GROUP BY 1, 2, 3, 4, 5
    ) WHERE true
    ON CONFLICT (link_id, ${col}, dim, value) DO UPDATE SET clicks = clicks + excluded.clicks`;
}

async function statsBenchmark() {
  const w = await startWorker({ queueConsumer: false, build: "build" });
  try {
    const { key, workspace } = await w.workspace("Bench stats", "business");
    const r = await w.api("POST", "/api/v1/links", { key, body: { destinationUrl: "https://example.com/big" } });
    const link = r.body.data;
    const now = Date.now();
    const span = 90 * DAY;
    const start = now - span;
    const step = span / CLICKS;
    const sqlList = (xs) => `json_array(${xs.map((x) => `'${x}'`).join(",")})`;
    const t0 = performance.now();
    const CHUNK = Number(env.BENCH_SEED_CHUNK ?? 50_000);
    for (let off = 0; off < CLICKS; off += CHUNK) {
      const n = Math.min(CHUNK, CLICKS - off);
      await w.db
        .prepare(
          `WITH RECURSIVE s(i) AS (SELECT CAST(?1 AS INTEGER) UNION ALL SELECT i + 1 FROM s WHERE i < ?2)
           INSERT INTO clicks (id, link_id, workspace_id, ts, country, device, os, browser, referrer, qr, visitor, batch_id)
           SELECT 'evt_seed_' || i, ?3, ?4, CAST(?5 + i * ?6 AS INTEGER),
             json_extract(${sqlList(COUNTRIES)}, '$[' || ((i * 7) % ${COUNTRIES.length}) || ']'),
             json_extract(${sqlList(DEVICES)}, '$[' || ((i * 3) % ${DEVICES.length}) || ']'),
             json_extract(${sqlList(OSES)}, '$[' || ((i * 5) % ${OSES.length}) || ']'),
             json_extract(${sqlList(BROWSERS)}, '$[' || ((i * 11) % ${BROWSERS.length}) || ']'),
             json_extract(${sqlList(REFERRERS)}, '$[' || ((i * 13) % ${REFERRERS.length}) || ']'),
             (i % 10 = 0), 'v' || (i % 5000), 'seed'
           FROM s`,
        )
        .bind(off, off + n - 1, link.id, workspace.id, start, step)
        .run();
      // Roll this chunk up as the consumer would (tagged rows → rollups).
      await w.db.prepare(rollupSql("click_rollup_hour", "hour", HOUR)).run();
      await w.db.prepare(rollupSql("click_rollup_day", "day", DAY)).run();
      await w.db
        .prepare("INSERT OR IGNORE INTO click_visitors (day, link_id, visitor) SELECT DISTINCT ts - ts % 86400000, link_id, visitor FROM clicks WHERE batch_id = 'seed'")
        .run();
      await w.db.prepare("UPDATE clicks SET batch_id = NULL WHERE batch_id = 'seed'").run();
      process.stdout.write(`\r  seeding: ${off + n}/${CLICKS} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
    process.stdout.write("\n");
    await w.db.prepare("UPDATE links SET click_count = ?1, created_at = ?2 WHERE id = ?3").bind(CLICKS, start, link.id).run();
    const tSeed = performance.now() - t0;
    const count = async (sql) => (await w.db.prepare(sql).first()).n;
    const hourRows = await count("SELECT COUNT(*) AS n FROM click_rollup_hour");
    const dayRows = await count("SELECT COUNT(*) AS n FROM click_rollup_day");
    console.log(`  seeded ${CLICKS} clicks over 90 days for one link in ${(tSeed / 1000).toFixed(1)} s (raw rows and rollups, in chunks of ${CHUNK})`);
    console.log(`    rollups: ${hourRows} hourly rows, ${dayRows} daily rows`);

    const time = async (label, url, check) => {
      const xs = [];
      let last;
      for (let i = 0; i < REPEAT + 1; i++) {
        const t = performance.now();
        const res = await w.fetch(url, { headers: { Authorization: `Bearer ${key}` } });
        last = await res.text();
        if (res.status !== 200) throw new Error(`${url}: ${res.status} ${last.slice(0, 300)}`);
        if (i > 0) xs.push(performance.now() - t); // first call warms up
      }
      console.log(`    ${label.padEnd(44)} median ${fmt(median(xs))}  (min ${fmt(Math.min(...xs))}, max ${fmt(Math.max(...xs))})${check ? "  " + check(last) : ""}`);
    };
    const total = (body) => {
      const d = JSON.parse(body).data;
      return `totalClicks=${d.totalClicks} uniqueVisitors=${d.uniqueVisitors ?? "-"} buckets=${d.overTime.length}`;
    };
    const iso = (t) => new Date(t).toISOString();
    console.log(`  stats API, link with ${CLICKS} clicks (median of ${REPEAT}, end to end through the worker):`);
    await time("GET /links/{id}/stats (period=all, default)", `/api/v1/links/${link.id}/stats`, total);
    await time("  ?period=90d", `/api/v1/links/${link.id}/stats?period=90d`, total);
    await time("  ?period=30d", `/api/v1/links/${link.id}/stats?period=30d`, total);
    await time("  ?period=7d&interval=hour", `/api/v1/links/${link.id}/stats?period=7d&interval=hour`, total);
    await time("  ?period=24h", `/api/v1/links/${link.id}/stats?period=24h`, total);
    await time(
      "  ?from=..&to=.. (ragged hours, 45 days)",
      `/api/v1/links/${link.id}/stats?from=${iso(now - 50 * DAY + 5 * HOUR)}&to=${iso(now - 5 * DAY - 7 * HOUR)}`,
      total,
    );
    await time("GET /stats (workspace summary, period=30d)", `/api/v1/stats?period=30d`, total);
    await time("GET /links/{id}/clicks.csv?period=24h", `/api/v1/links/${link.id}/clicks.csv?period=24h`, (b) => `${b.split("\r\n").length - 2} rows`);

    // For contrast: the same breakdown straight from the raw rows.
    const xs = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await w.db.prepare("SELECT country, COUNT(*) AS n FROM clicks WHERE link_id = ?1 GROUP BY country").bind(link.id).all();
      xs.push(performance.now() - t);
    }
    console.log(`    (contrast) byCountry from ${CLICKS} raw rows, D1 directly       median ${fmt(median(xs))}`);
  } finally {
    await w.close();
  }
}

console.log("analytics benchmark (Miniflare, local D1)");
await drainBenchmark();
await statsBenchmark();
