// A/B destinations and social preview cards (issue #11), against the wasm
// worker in Miniflare: the split over many visitors, stickiness, byVariant
// in stats and the CSV, precedence of app and geo targets; the preview page
// for each link-preview crawler, never for a browser, never counted, never
// for a password-protected, suspended or banned link.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectError, ADMIN_TOKEN } from "./helpers.mjs";

const UA = {
  desktop: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  iphone: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  googlebot: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
};

/** The crawlers the issue lists, by the UA each sends. */
const CRAWLERS = {
  facebookexternalhit: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
  Twitterbot: "Twitterbot/1.0",
  LinkedInBot: "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
  "Slackbot-LinkExpanding": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
  Discordbot: "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
  WhatsApp: "WhatsApp/2.23.20.0",
  TelegramBot: "TelegramBot (like TwitterBot)",
  Applebot:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
  Pinterest: "Pinterest/0.2 (+https://www.pinterest.com/bot.html)",
  Embedly: "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)",
  SkypeUriPreview: "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
  Iframely: "Iframely/1.3.1 (+https://iframely.com/docs/about)",
};

const EVIL = `<script>"&'`;
const ESCAPED = "&lt;script&gt;&quot;&amp;&#39;";

async function visit(w, slug, { ua = UA.desktop, ip = "203.0.113.1", country, query = "" } = {}) {
  const init = { headers: { "User-Agent": ua, "CF-Connecting-IP": ip } };
  if (country) init.cf = { country };
  return w.fetch(`/${slug}${query}`, init);
}

async function waitFor(what, fn, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const clickCount = async (w, id) =>
  (await w.db.prepare("SELECT counted AS n FROM links_counted WHERE id = ?1").bind(id).first()).n;

describe("A/B destinations", () => {
  let w;
  let key;
  before(async () => {
    w = await startWorker();
    ({ key } = await w.workspace("AB Co", "business"));
  });
  after(async () => w?.close());

  const create = (body) => w.api("POST", "/api/v1/links", { key, body });

  test("a 70/30 split over many visitors, sticky per visitor, counted by variant", async () => {
    const r = await create({
      destinationUrl: "https://example.com/original",
      slug: "ab-split",
      utmSource: "ab",
      testVariants: [
        { url: "https://a.example.com/landing", weight: 70 },
        { url: "https://b.example.com/landing", weight: 30 },
      ],
    });
    assert.equal(r.status, 201, r.text);
    const link = r.body.data;
    assert.deepEqual(link.testVariants, [
      { url: "https://a.example.com/landing", weight: 70 },
      { url: "https://b.example.com/landing", weight: 30 },
    ]);
    // The variants travel in the KV record: the redirect reads nothing else.
    assert.equal((await w.kvRecord("localhost:8787", "ab-split")).ab.length, 2);

    const N = 300;
    const seen = { a: 0, b: 0 };
    for (let i = 0; i < N; i++) {
      const res = await visit(w, "ab-split", { ip: `198.51.${i >> 8}.${i & 255}`, query: "?ref=x" });
      assert.equal(res.status, 302);
      const loc = res.headers.get("location");
      const m = /^https:\/\/([ab])\.example\.com\/landing\?utm_source=ab&ref=x$/.exec(loc);
      assert.ok(m, loc);
      seen[m[1]]++;
    }
    const pctA = (seen.a * 100) / N;
    // 300 visitors: the standard error is 2.6 points; 10 is far outside it.
    assert.ok(Math.abs(pctA - 70) <= 10, `A got ${pctA}% (${JSON.stringify(seen)})`);

    // One visitor (same IP and UA, same day) keeps one variant.
    const locs = new Set();
    for (let i = 0; i < 10; i++) locs.add((await visit(w, "ab-split", { ip: "192.0.2.77" })).headers.get("location"));
    assert.equal(locs.size, 1, [...locs].join(" "));

    await waitFor("clicks drained", async () => (await clickCount(w, link.id)) === N + 10);
    const s = await w.api("GET", `/api/v1/links/${link.id}/stats`, { key });
    assert.equal(s.status, 200, s.text);
    const stickyA = [...locs][0].startsWith("https://a.") ? 10 : 0;
    assert.deepEqual(
      Object.fromEntries(s.body.data.byVariant.map((v) => [v.variant, v.clicks])),
      Object.fromEntries(
        [
          ["A", seen.a + stickyA],
          ["B", seen.b + 10 - stickyA],
        ].filter(([, n]) => n > 0),
      ),
    );
    // The workspace summary has it too.
    const ws = await w.api("GET", "/api/v1/stats", { key });
    assert.equal(ws.body.data.byVariant.reduce((n, v) => n + v.clicks, 0), N + 10);

    // The CSV gains a variant column.
    const csv = await w.fetch(`/api/v1/links/${link.id}/clicks.csv`, { headers: { Authorization: `Bearer ${key}` } });
    const lines = (await csv.text()).trim().split("\r\n");
    assert.equal(lines[0], "id,timestamp,country,device,os,browser,referrer,source,visitor,variant");
    assert.equal(lines.length, N + 11);
    assert.ok(lines.slice(1).every((l) => /,[AB]$/.test(l)), lines[1]);
  });

  test("app and geo targets win over the variant; no variant is recorded then", async () => {
    const r = await create({
      destinationUrl: "https://example.com/original",
      slug: "ab-targets",
      geoTargets: { DE: "https://example.de/" },
      iosUrl: "https://apps.apple.com/app/x",
      testVariants: [
        { url: "https://a.example.com/", weight: 50 },
        { url: "https://b.example.com/", weight: 50 },
      ],
    });
    assert.equal(r.status, 201, r.text);
    const id = r.body.data.id;
    assert.equal((await visit(w, "ab-targets", { country: "DE" })).headers.get("location"), "https://example.de/");
    assert.equal((await visit(w, "ab-targets", { ua: UA.iphone, country: "DE" })).headers.get("location"), "https://apps.apple.com/app/x");
    const other = (await visit(w, "ab-targets", { country: "FR" })).headers.get("location");
    assert.match(other, /^https:\/\/[ab]\.example\.com\/$/);
    await waitFor("3 clicks", async () => (await clickCount(w, id)) === 3);
    const rows = (await w.db.prepare("SELECT variant FROM clicks WHERE link_id = ?1 ORDER BY ts").bind(id).all()).results;
    assert.deepEqual(
      rows.map((x) => x.variant).sort(),
      [null, null, other.startsWith("https://a.") ? 0 : 1].sort(),
    );
  });

  test("removing testVariants ends the test", async () => {
    const r = await create({
      destinationUrl: "https://example.com/original",
      slug: "ab-end",
      testVariants: [
        { url: "https://a.example.com/", weight: 1 },
        { url: "https://b.example.com/", weight: 99 },
      ],
    });
    const p = await w.api("PATCH", `/api/v1/links/${r.body.data.id}`, { key, body: { testVariants: null } });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.body.data.testVariants, undefined);
    assert.equal((await w.kvRecord("localhost:8787", "ab-end")).ab, undefined);
    for (let i = 0; i < 5; i++) {
      assert.equal((await visit(w, "ab-end", { ip: `10.9.0.${i}` })).headers.get("location"), "https://example.com/original");
    }
  });

  test("bad variants and previews are 400s naming the field, and write nothing", async () => {
    const v = (url, weight) => ({ url, weight });
    const cases = [
      [{ testVariants: [v("https://a.com", 60), v("https://b.com", 30)] }, "testVariants", "VALIDATION_ERROR"],
      [{ testVariants: [v("https://a.com", 100)] }, "testVariants", "VALIDATION_ERROR"],
      [{ testVariants: [1, 2, 3, 4, 5].map((i) => v(`https://${i}.com`, 20)) }, "testVariants", "VALIDATION_ERROR"],
      [{ testVariants: [v("https://a.com", 50.5), v("https://b.com", 49.5)] }, "testVariants[0].weight", "VALIDATION_ERROR"],
      [{ testVariants: [v("https://a.com", 50), v("ftp://b.com", 50)] }, "testVariants[1].url", "INVALID_URL"],
      [{ preview: { title: "T", image: "http://img.example/i.png" } }, "preview.image", "INVALID_URL"],
      [{ preview: { title: "" } }, "preview.title", "VALIDATION_ERROR"],
      [{ preview: { title: "T", description: "d".repeat(501) } }, "preview.description", "VALIDATION_ERROR"],
    ];
    const before = (await w.db.prepare("SELECT COUNT(*) AS n FROM links").first()).n;
    for (const [extra, field, code] of cases) {
      const r = await create({ destinationUrl: "https://example.com/", ...extra });
      const e = expectError(assert, r, 400, code);
      assert.equal(e.field, field, JSON.stringify(extra));
    }
    assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM links").first()).n, before);
    // A PATCH refused leaves the link as it was.
    const ok = await create({ destinationUrl: "https://example.com/", slug: "ab-patch" });
    const p = await w.api("PATCH", `/api/v1/links/${ok.body.data.id}`, { key, body: { testVariants: [v("https://a.com", 99)] } });
    expectError(assert, p, 400, "VALIDATION_ERROR");
    assert.equal((await w.db.prepare("SELECT test_variants FROM links WHERE id = ?1").bind(ok.body.data.id).first()).test_variants, null);
  });
});

describe("social preview cards", () => {
  let w;
  let key;
  before(async () => {
    // The spy keeps every queued click event, so "never counted" is seen
    // at the source: a preview fetch sends none.
    w = await startWorker({ spy: true });
    ({ key } = await w.workspace("Cards Co", "business"));
  });
  after(async () => w?.close());

  const preview = { title: `Title ${EVIL}`, description: `About ${EVIL}`, image: "https://img.example/card.png?a=1&b=2" };
  const create = (body) => w.api("POST", "/api/v1/links", { key, body });

  test("every listed crawler gets the card with escaped tags; a browser gets the 302; nothing is counted", async () => {
    const r = await create({ destinationUrl: "https://example.com/article?x=1&y=2", slug: "card", preview, advancedBotDetection: true });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body.data.preview, preview);
    for (const [name, ua] of Object.entries(CRAWLERS)) {
      const res = await visit(w, "card", { ua });
      assert.equal(res.status, 200, name);
      assert.match(res.headers.get("content-type"), /^text\/html/, name);
      assert.equal(res.headers.get("x-robots-tag"), "noindex", name);
      const html = await res.text();
      assert.ok(!html.includes("<script>"), `${name}: unescaped`);
      for (const tag of [
        `<meta property="og:title" content="Title ${ESCAPED}">`,
        `<meta name="twitter:title" content="Title ${ESCAPED}">`,
        `<meta property="og:description" content="About ${ESCAPED}">`,
        `<meta name="twitter:description" content="About ${ESCAPED}">`,
        `<meta property="og:image" content="https://img.example/card.png?a=1&amp;b=2">`,
        `<meta name="twitter:image" content="https://img.example/card.png?a=1&amp;b=2">`,
        `<meta name="twitter:card" content="summary_large_image">`,
        `<link rel="canonical" href="https://example.com/article?x=1&amp;y=2">`,
        `<meta name="robots" content="noindex,nofollow">`,
      ]) {
        assert.ok(html.includes(tag), `${name}: ${tag}\n${html}`);
      }
    }
    const browser = await visit(w, "card");
    assert.equal(browser.status, 302);
    assert.equal(browser.headers.get("location"), "https://example.com/article?x=1&y=2");
    // advancedBotDetection still blocks every other bot.
    assert.equal((await visit(w, "card", { ua: UA.googlebot })).status, 403);
    // Only the browser's click was queued.
    const got = await w.waitForSpied(1);
    await new Promise((r) => setTimeout(r, 300));
    const all = await w.spied();
    assert.equal(all.length, 1, JSON.stringify(all));
    assert.equal(got[0].link_id, r.body.data.id);
    assert.equal(got[0].bot, false);
  });

  test("without a preview a crawler gets the 302 as before", async () => {
    await create({ destinationUrl: "https://example.com/plain", slug: "no-card" });
    const res = await visit(w, "no-card", { ua: CRAWLERS.Twitterbot });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("location"), "https://example.com/plain");
  });

  test("password-protected, suspended and banned links never show the card", async () => {
    const pw = await create({ destinationUrl: "https://example.com/secret", slug: "card-pw", preview, password: "s3cret" });
    const sus = await create({ destinationUrl: "https://example.com/off", slug: "card-off", preview, suspended: true });
    const ban = await create({ destinationUrl: "https://example.com/bad", slug: "card-ban", preview });
    const b = await w.api("PATCH", `/api/v1/admin/links/${ban.body.data.id}`, { key: ADMIN_TOKEN, body: { banned: true } });
    assert.equal(b.status, 200, b.text);
    for (const [slug, status] of [["card-pw", 200], ["card-off", 410], ["card-ban", 451]]) {
      for (const ua of Object.values(CRAWLERS)) {
        const res = await visit(w, slug, { ua });
        assert.equal(res.status, status, `${slug} ${ua}`);
        const html = await res.text();
        assert.ok(!html.includes("og:title") && !html.includes("Title"), `${slug}: ${html}`);
      }
    }
    // Removing the card: crawlers get the 302 again.
    const card = await create({ destinationUrl: "https://example.com/x", slug: "card-gone", preview });
    await w.api("PATCH", `/api/v1/links/${card.body.data.id}`, { key, body: { preview: null } });
    assert.equal((await visit(w, "card-gone", { ua: CRAWLERS.Discordbot })).status, 302);
  });
});
