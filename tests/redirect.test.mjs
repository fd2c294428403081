// The redirect engine end to end: each gate, the precedence of targets,
// UTM handling, HEAD, the hot path's cache invalidation and the click
// event that reaches the Queue.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, inThisMinute, ADMIN_TOKEN } from "./helpers.mjs";

const UA = {
  desktop: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  iphone: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  android: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
  tablet: "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  ipad: "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  wechat: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN",
  googlebot: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
};

let w, key;
before(async () => {
  w = await startWorker({ spy: true });
  ({ key } = await w.workspace("Redirects"));
});
after(() => w.close());

async function link(body) {
  const r = await w.api("POST", "/api/v1/links", { key, body });
  assert.equal(r.status, 201, r.text);
  return r.body.data;
}

async function visit(slug, { ua = UA.desktop, country, method = "GET", headers = {}, body } = {}) {
  const init = { method, headers: { "User-Agent": ua, ...headers }, body };
  if (country) init.cf = { country };
  const res = await w.fetch(`/${slug}`, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function assertPage(r, status, words) {
  assert.equal(r.status, status, r.text.slice(0, 200));
  assert.match(r.headers.get("content-type"), /text\/html/);
  assert.match(r.text, /<meta name="robots" content="noindex/);
  assert.match(r.text, /name="viewport"/);
  assert.doesNotMatch(r.text, /<script|<link |src=/, "self-contained");
  for (const word of words) assert.match(r.text, word);
}

test("a plain link answers 302 with the private cache header and no body", async () => {
  const l = await link({ destinationUrl: "https://example.com/landing", slug: "plain" });
  const r = await visit("plain");
  assert.equal(r.status, 302);
  assert.equal(r.headers.get("location"), "https://example.com/landing");
  assert.equal(r.headers.get("cache-control"), "private, max-age=0");
  assert.equal(r.text, "");
  // The shortUrl from the API is the URL that was just visited.
  assert.equal(l.shortUrl, "http://localhost:8787/plain");
});

test("unknown and malformed slugs get the 404 page", async () => {
  assertPage(await visit("does-not-exist"), 404, [/Link not found/]);
  assertPage(await visit("bad%20slug"), 404, [/Link not found/]);
  assertPage(await visit("a/b"), 404, [/Link not found/]);
  assertPage(await visit(""), 404, [/Link not found/]);
});

test("banned → 451, suspended → 410, expired → 410, click limit → 410", async () => {
  const banned = await link({ destinationUrl: "https://example.com/b", slug: "banned-one" });
  const ban = await w.api("PATCH", `/api/v1/admin/links/${banned.id}`, { key: ADMIN_TOKEN, body: { banned: true } });
  assert.equal(ban.status, 200, ban.text);
  assertPage(await visit("banned-one"), 451, [/Link unavailable/]);

  const sus = await link({ destinationUrl: "https://example.com/s", slug: "suspended-one", suspended: true });
  assertPage(await visit("suspended-one"), 410, [/Link disabled/]);
  await w.api("PATCH", `/api/v1/links/${sus.id}`, { key, body: { suspended: false } });
  assert.equal((await visit("suspended-one")).status, 302);

  await link({ destinationUrl: "https://example.com/e", slug: "expiring", expiresAt: new Date(Date.now() + 1500).toISOString() });
  assert.equal((await visit("expiring")).status, 302);
  await new Promise((r) => setTimeout(r, 1600));
  assertPage(await visit("expiring"), 410, [/expired/]);

  // The analytics consumer flips `done` when clickLimit is reached (tested
  // end to end in analytics.test.mjs); here: the redirect honours it.
  await link({ destinationUrl: "https://example.com/l", slug: "limited", clickLimit: 5 });
  const rec = await w.kvRecord("localhost:8787", "limited");
  await w.kv.put("l1:localhost:8787/limited", JSON.stringify({ ...rec, done: true }));
  assertPage(await visit("limited"), 410, [/click limit/]);

  // Ban wins over everything else.
  const both = await link({ destinationUrl: "https://example.com/x", slug: "ban-and-suspend", suspended: true });
  await w.api("PATCH", `/api/v1/admin/links/${both.id}`, { key: ADMIN_TOKEN, body: { banned: true } });
  assert.equal((await visit("ban-and-suspend")).status, 451);
});

test("password: form, wrong guess, right guess, attempts limited", async () => {
  // Attempts are counted in fixed one-minute windows: a pinned clock keeps
  // the burst in one.
  const now = { "X-Test-Now": String(inThisMinute()) };
  await link({ destinationUrl: "https://example.com/secret", slug: "exclusive", password: "secure123" });
  const form = await visit("exclusive");
  assertPage(form, 200, [/Password required/, /<form method="post"/, /type="password"/]);
  assert.doesNotMatch(form.text, /example\.com\/secret/);

  const post = (pw) =>
    visit("exclusive", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": "203.0.113.7", ...now },
      body: `password=${encodeURIComponent(pw)}`,
    });
  const wrong = await post("nope");
  assertPage(wrong, 401, [/Wrong password/]);
  assert.equal(wrong.headers.get("location"), null);
  const right = await post("secure123");
  assert.equal(right.status, 302);
  assert.equal(right.headers.get("location"), "https://example.com/secret");

  // 10 attempts a minute per link and visitor; the 11th is refused even
  // with the right password.
  for (let i = 0; i < 8; i++) await post("guess" + i);
  assertPage(await post("secure123"), 429, [/Too many attempts/]);
  // Another visitor is not affected.
  const other = await visit("exclusive", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": "198.51.100.9", ...now },
    body: "password=secure123",
  });
  assert.equal(other.status, 302);
});

test("WeChat in-app browser gets the open-in-browser page when the link asks", async () => {
  await link({ destinationUrl: "https://example.com/wx", slug: "wx-escape", escapeFromWechat: true });
  await link({ destinationUrl: "https://example.com/wx", slug: "wx-plain" });
  const page = await visit("wx-escape", { ua: UA.wechat });
  assertPage(page, 200, [/Open in your browser/, /http:\/\/localhost:8787\/wx-escape/]);
  assert.equal((await visit("wx-escape", { ua: UA.iphone })).status, 302);
  assert.equal((await visit("wx-plain", { ua: UA.wechat })).status, 302);
});

test("bots get no redirect on links with advanced bot detection", async () => {
  await link({ destinationUrl: "https://example.com/h", slug: "humans-only", advancedBotDetection: true });
  assertPage(await visit("humans-only", { ua: UA.googlebot }), 403, [/only available to people/]);
  assertPage(await visit("humans-only", { ua: "curl/8.5.0" }), 403, []);
  assert.equal((await visit("humans-only", { ua: UA.desktop })).status, 302);
  await link({ destinationUrl: "https://example.com/h", slug: "bots-welcome" });
  assert.equal((await visit("bots-welcome", { ua: UA.googlebot })).status, 302);
});

test("targets: app URL by OS, then country, then device, then destination", async () => {
  await link({
    destinationUrl: "https://example.com/default",
    slug: "targeted",
    geoTargets: { US: "https://example.com/us", GB: "https://example.com/uk", IN: "https://example.com/in" },
    deviceTargets: { mobile: "https://m.example.com", tablet: "https://t.example.com" },
    iosUrl: "https://apps.apple.com/app/myapp",
    androidUrl: "https://play.google.com/store/apps/details?id=com.myapp",
  });
  const loc = async (ua, country) => {
    const r = await visit("targeted", { ua, country });
    assert.equal(r.status, 302);
    return r.headers.get("location");
  };
  assert.equal(await loc(UA.iphone, "GB"), "https://apps.apple.com/app/myapp");
  assert.equal(await loc(UA.android, "US"), "https://play.google.com/store/apps/details?id=com.myapp");
  assert.equal(await loc(UA.desktop, "GB"), "https://example.com/uk");
  assert.equal(await loc(UA.desktop, "IN"), "https://example.com/in");
  assert.equal(await loc(UA.tablet, "FR"), "https://play.google.com/store/apps/details?id=com.myapp", "Android tablet: app URL first");
  assert.equal(await loc(UA.ipad, "FR"), "https://apps.apple.com/app/myapp", "iPad runs iOS: app URL first");
  assert.equal(await loc(UA.desktop, "FR"), "https://example.com/default");

  await link({ destinationUrl: "https://example.com/default", slug: "devices", deviceTargets: { mobile: "https://m.example.com", desktop: "https://d.example.com" } });
  await link({ destinationUrl: "https://example.com/default", slug: "tablets", geoTargets: { FR: "https://example.com/fr" }, deviceTargets: { tablet: "https://t.example.com" } });
  const tab = async (ua, country) => (await visit("tablets", { ua, country })).headers.get("location");
  assert.equal(await tab(UA.tablet, "DE"), "https://t.example.com");
  assert.equal(await tab(UA.ipad, "DE"), "https://t.example.com");
  assert.equal(await tab(UA.tablet, "FR"), "https://example.com/fr", "country beats device");
  assert.equal(await tab(UA.iphone, "DE"), "https://example.com/default");
  const dev = async (ua) => (await visit("devices", { ua, country: "DE" })).headers.get("location");
  assert.equal(await dev(UA.iphone), "https://m.example.com");
  assert.equal(await dev(UA.android), "https://m.example.com");
  assert.equal(await dev(UA.desktop), "https://d.example.com");
  assert.equal(await dev(UA.tablet), "https://example.com/default");
});

test("UTM parameters are appended keeping the destination's query and fragment", async () => {
  await link({
    destinationUrl: "https://example.com/product?color=red#reviews",
    slug: "summer-sale",
    utmSource: "email",
    utmMedium: "newsletter",
    utmCampaign: "summer sale",
  });
  const r = await visit("summer-sale?fbclid=abc&qr=1");
  assert.equal(
    r.headers.get("location"),
    "https://example.com/product?color=red&utm_source=email&utm_medium=newsletter&utm_campaign=summer%20sale&fbclid=abc#reviews",
  );
});

test("a PATCH through the API changes the very next redirect", async () => {
  const l = await link({ destinationUrl: "https://example.com/v1", slug: "moving" });
  assert.equal((await visit("moving")).headers.get("location"), "https://example.com/v1");
  await w.api("PATCH", `/api/v1/links/${l.id}`, { key, body: { destinationUrl: "https://example.com/v2" } });
  assert.equal((await visit("moving")).headers.get("location"), "https://example.com/v2");
  await w.api("PATCH", `/api/v1/links/${l.id}`, { key, body: { slug: "moved" } });
  assert.equal((await visit("moving")).status, 404);
  assert.equal((await visit("moved")).headers.get("location"), "https://example.com/v2");
  await w.api("DELETE", `/api/v1/links/${l.id}`, { key });
  assert.equal((await visit("moved")).status, 404);
});

test("the hot-link cache never serves a record its own isolate changed", async () => {
  const cached = await startWorker({ vars: { HOT_CACHE_TTL_SECONDS: "60" } });
  try {
    const { key: k } = await cached.workspace();
    const made = await cached.api("POST", "/api/v1/links", { key: k, body: { destinationUrl: "https://example.com/a", slug: "hot" } });
    const go = async () => (await cached.fetch("/hot")).headers.get("location");
    assert.equal(await go(), "https://example.com/a");
    // Changed behind the API's back: the cache still answers (that is its job)...
    await cached.kv.put("l1:localhost:8787/hot", JSON.stringify({ v: 1, id: "x", ws: "y", url: "https://example.com/kv" }));
    assert.equal(await go(), "https://example.com/a");
    // ...but an API write invalidates it at once.
    await cached.api("PATCH", `/api/v1/links/${made.body.data.id}`, { key: k, body: { destinationUrl: "https://example.com/b" } });
    assert.equal(await go(), "https://example.com/b");
  } finally {
    await cached.close();
  }
});

test("without VISITOR_HASH_SECRET a redirect fails loudly (500, logged), never hashes with a built-in key", async () => {
  const bare = await startWorker({ vars: { VISITOR_HASH_SECRET: "" } });
  try {
    const { key: k } = await bare.workspace();
    const made = await bare.api("POST", "/api/v1/links", { key: k, body: { destinationUrl: "https://example.com/a", slug: "nosecret" } });
    assert.equal(made.status, 201, made.text);
    const r = await bare.fetch("/nosecret");
    assert.equal(r.status, 500);
    assert.equal(r.headers.get("location"), null);
    // Garbage and unknown slugs still answer as before: no secret needed.
    assert.equal((await bare.fetch("/nothing-here")).status, 404);
  } finally {
    await bare.close();
  }
});

test("each GET sends one click event with the visit's fields; HEAD sends none", async () => {
  const l = await link({ destinationUrl: "https://example.com/c", slug: "counted", webhook: true, webhookScene: "promo" });
  const head = await visit("counted", { method: "HEAD" });
  assert.equal(head.status, 302);
  assert.equal(head.headers.get("location"), "https://example.com/c");
  const before = (await w.spied()).filter((e) => e.link_id === l.id).length;
  assert.equal(before, 0, "HEAD counted no click");

  await visit("counted", {
    ua: UA.iphone,
    country: "DE",
    headers: { Referer: "https://News.ycombinator.com/item?id=1", "CF-Connecting-IP": "203.0.113.5" },
  });
  await visit("counted?qr=1", { ua: UA.googlebot, country: "US" });
  const events = (await w.waitForSpied(1000, 1500)).filter((e) => e.link_id === l.id);
  assert.equal(events.length, 2, JSON.stringify(events));
  const human = events.find((e) => !e.bot);
  const bot = events.find((e) => e.bot);
  assert.equal(human.type, "click");
  assert.match(human.id, /^evt_/);
  assert.equal(human.workspace_id, l.id && human.workspace_id);
  assert.equal(human.country, "DE");
  assert.equal(human.device, "mobile");
  assert.equal(human.os, "ios");
  assert.equal(human.browser, "safari");
  assert.equal(human.referrer, "news.ycombinator.com");
  assert.equal(human.qr, false);
  assert.equal(human.webhook, true);
  assert.equal(human.scene, "promo");
  assert.ok(Math.abs(human.ts - Date.now()) < 60_000);
  assert.match(human.visitor, /^[0-9a-f]{24}$/);
  assert.ok(!JSON.stringify(human).includes("203.0.113.5"), "never the raw IP");
  assert.equal(bot.qr, true);
  assert.equal(bot.country, "US");
});

test("other methods are refused, POST without a password is not a redirect", async () => {
  await link({ destinationUrl: "https://example.com/m", slug: "methods" });
  assert.equal((await visit("methods", { method: "DELETE" })).status, 405);
  assert.equal((await visit("methods", { method: "POST", body: "x=1" })).status, 405);
});

test("clicks of concurrent redirects share Queue sends and none is lost", async () => {
  // 250 redirects at once: more than one sendBatch (at most 100 each) and
  // several timed flushes; every click must arrive exactly once.
  const l = await link({ destinationUrl: "https://example.com/burst", slug: "burst" });
  const results = await Promise.all(Array.from({ length: 250 }, () => visit("burst")));
  assert.ok(results.every((r) => r.status === 302));
  const end = Date.now() + 10_000;
  let events = [];
  while (Date.now() < end) {
    events = (await w.spied()).filter((e) => e.link_id === l.id);
    if (events.length >= 250) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(events.length, 250);
  assert.equal(new Set(events.map((e) => e.id)).size, 250, "distinct events");
});
