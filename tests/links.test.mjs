// /api/v1/links against the built wasm worker in Miniflare: every request of
// the go2.gg seed, the KV redirect record after every write, validation and
// error envelopes. Nothing may ever answer 5xx.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectError, ADMIN_TOKEN, BASE } from "./helpers.mjs";

const DOMAIN = "localhost:8787";
const ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

let w;
let key; // business plan: this file sends far more than 60 requests a minute
let readKey;

/** Every answer is checked for "never a 5xx". */
async function api(method, path, opts = {}) {
  const r = await w.api(method, path, { key, ...opts });
  assert.ok(r.status < 500, `${method} ${path} answered ${r.status}: ${r.text}`);
  return r;
}

async function create(body, opts = {}) {
  const r = await api("POST", "/api/v1/links", { body, ...opts });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.success, true);
  return r.body.data;
}

/** A validation-type error that names its field. */
function expectField(r, status, code, field) {
  const e = expectError(assert, r, status, code);
  assert.equal(e.field, field, r.text);
  return e;
}

before(async () => {
  w = await startWorker();
  ({ key } = await w.workspace("Links Co", "business"));
  const r = await w.api("POST", "/api/v1/keys", {
    key,
    body: { name: "reader", scopes: ["read"] },
  });
  assert.equal(r.status, 201, r.text);
  readKey = r.body.data.key;
});

after(async () => {
  await w?.close();
});

describe("seed examples", () => {
  let seedLink;

  test("create with tags answers the seed's fields", async () => {
    const r = await api("POST", "/api/v1/links", {
      body: {
        destinationUrl: "https://example.com/landing-page",
        slug: "my-link",
        title: "My Campaign Link",
        tags: ["marketing", "q1-2025"],
      },
    });
    assert.equal(r.status, 201, r.text);
    assert.match(r.headers.get("content-type"), /^application\/json/);
    assert.equal(r.body.success, true);
    const d = r.body.data;
    seedLink = d;
    assert.match(d.id, /^lnk_[0-9A-Za-z]+$/);
    assert.equal(d.shortUrl, `${BASE}/my-link`);
    assert.equal(d.destinationUrl, "https://example.com/landing-page");
    assert.equal(d.slug, "my-link");
    assert.equal(d.domain, DOMAIN);
    assert.equal(d.title, "My Campaign Link");
    assert.deepEqual(d.tags, ["marketing", "q1-2025"]);
    assert.equal(d.clickCount, 0);
    assert.match(d.createdAt, ISO);
    assert.ok(Math.abs(Date.parse(d.createdAt) - Date.now()) < 60_000);
    assert.match(d.updatedAt, ISO);
    assert.equal("password" in d, false);
    const rec = await w.kvRecord(DOMAIN, "my-link");
    assert.equal(rec.v, 1);
    assert.equal(rec.id, d.id);
    assert.equal(rec.url, "https://example.com/landing-page");
  });

  test("get by id", async () => {
    const r = await api("GET", `/api/v1/links/${seedLink.id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.data, seedLink);
  });

  test("list with perPage=20&sort=clicks", async () => {
    const r = await api("GET", "/api/v1/links?perPage=20&sort=clicks");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.success, true);
    assert.ok(Array.isArray(r.body.data));
    assert.ok(r.body.data.some((l) => l.id === seedLink.id));
    assert.equal(r.body.meta.page, 1);
    assert.equal(r.body.meta.perPage, 20);
    assert.equal(typeof r.body.meta.total, "number");
    assert.equal(typeof r.body.meta.totalPages, "number");
  });

  test("search=marketing&tag=q1-2025 finds the tagged link", async () => {
    await create({ destinationUrl: "https://example.com/other", tags: ["q1-2025"] });
    const r = await api("GET", "/api/v1/links?search=marketing&tag=q1-2025");
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.body.data.map((l) => l.id),
      [seedLink.id],
    );
    assert.equal(r.body.meta.total, 1);
  });

  test("PATCH destinationUrl and tags", async () => {
    const r = await api("PATCH", `/api/v1/links/${seedLink.id}`, {
      body: { destinationUrl: "https://example.com/updated-page", tags: ["updated"] },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.destinationUrl, "https://example.com/updated-page");
    assert.deepEqual(r.body.data.tags, ["updated"]);
    assert.equal(r.body.data.title, "My Campaign Link", "untouched fields stay");
    assert.equal(r.body.data.slug, "my-link");
    assert.equal(r.body.data.createdAt, seedLink.createdAt);
    const rec = await w.kvRecord(DOMAIN, "my-link");
    assert.equal(rec.url, "https://example.com/updated-page");
  });

  test("stats answers the seed's fields", async () => {
    const r = await api("GET", `/api/v1/links/${seedLink.id}/stats`);
    assert.equal(r.status, 200, r.text);
    for (const f of ["totalClicks", "byCountry", "byDevice", "byBrowser", "byReferrer", "overTime"]) {
      assert.ok(f in r.body.data, `stats.${f}`);
    }
    assert.equal(r.body.data.totalClicks, 0);
  });

  test("DELETE answers 204 with no body and removes the KV record", async () => {
    const r = await api("DELETE", `/api/v1/links/${seedLink.id}`);
    assert.equal(r.status, 204);
    assert.equal(r.text, "");
    assert.equal(await w.kvRecord(DOMAIN, "my-link"), null);
    expectError(assert, await api("GET", `/api/v1/links/${seedLink.id}`), 404, "NOT_FOUND");
    expectError(assert, await api("DELETE", `/api/v1/links/${seedLink.id}`), 404, "NOT_FOUND");
    expectError(assert, await api("PATCH", `/api/v1/links/${seedLink.id}`, { body: { title: "x" } }), 404, "NOT_FOUND");
  });

  test("password-protected link: never echoed, hash in KV", async () => {
    const r = await api("POST", "/api/v1/links", {
      body: { destinationUrl: "https://example.com/secret", slug: "exclusive", password: "secure123" },
    });
    assert.equal(r.status, 201, r.text);
    assert.ok(!r.text.includes("secure123"));
    assert.equal("password" in r.body.data, false);
    assert.equal("passwordHash" in r.body.data, false);
    assert.equal(r.body.data.hasPassword, true);
    const rec = await w.kvRecord(DOMAIN, "exclusive");
    assert.match(rec.pw, /^pbkdf2-sha256\$\d+\$[0-9a-f]+\$[0-9a-f]{64}$/);
    assert.ok(!r.text.includes(rec.pw));
    const g = await api("GET", `/api/v1/links/${r.body.data.id}`);
    assert.ok(!g.text.includes("secure123") && !g.text.includes(rec.pw));
    // Removing the password clears it in KV.
    const p = await api("PATCH", `/api/v1/links/${r.body.data.id}`, { body: { password: null } });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.body.data.hasPassword, false);
    assert.equal((await w.kvRecord(DOMAIN, "exclusive")).pw, undefined);
  });

  test("expiresAt + clickLimit", async () => {
    const d = await create({
      destinationUrl: "https://example.com/flash",
      expiresAt: "2099-12-31T23:59:59Z",
      clickLimit: 1000,
    });
    assert.equal(d.expiresAt, "2099-12-31T23:59:59Z");
    assert.equal(d.clickLimit, 1000);
    const rec = await w.kvRecord(DOMAIN, d.slug);
    assert.equal(rec.exp, Date.parse("2099-12-31T23:59:59Z"));
    assert.equal(rec.lim, 1000);
    // The seed's own example, unchanged: its date is in the past by now, so
    // the link is created (201) already expired and its redirect answers 410.
    const past = await api("POST", "/api/v1/links", {
      body: { destinationUrl: "https://example.com/flash", expiresAt: "2025-12-31T23:59:59Z", clickLimit: 1000 },
    });
    assert.equal(past.status, 201, past.text);
    assert.equal(past.body.data.expiresAt, "2025-12-31T23:59:59Z");
    const res = await w.fetch(`/${past.body.data.slug}`);
    assert.equal(res.status, 410);
  });

  test("geoTargets", async () => {
    const geo = { US: "https://example.com/us", GB: "https://example.com/uk", IN: "https://example.com/in" };
    const d = await create({ destinationUrl: "https://example.com/default", geoTargets: geo });
    assert.deepEqual(d.geoTargets, geo);
    assert.deepEqual((await w.kvRecord(DOMAIN, d.slug)).geo, geo);
  });

  test("deviceTargets + iosUrl + androidUrl", async () => {
    const d = await create({
      destinationUrl: "https://example.com/default",
      deviceTargets: { mobile: "https://m.example.com" },
      iosUrl: "https://apps.apple.com/app/myapp",
      androidUrl: "https://play.google.com/store/apps/details?id=com.myapp",
    });
    assert.deepEqual(d.deviceTargets, { mobile: "https://m.example.com" });
    assert.equal(d.iosUrl, "https://apps.apple.com/app/myapp");
    assert.equal(d.androidUrl, "https://play.google.com/store/apps/details?id=com.myapp");
    const rec = await w.kvRecord(DOMAIN, d.slug);
    assert.deepEqual(rec.dev, { mobile: "https://m.example.com" });
    assert.equal(rec.ios, "https://apps.apple.com/app/myapp");
    assert.equal(rec.and, "https://play.google.com/store/apps/details?id=com.myapp");
  });

  test("UTM parameters are stored and pre-encoded in KV", async () => {
    const d = await create({
      destinationUrl: "https://example.com/product",
      slug: "summer-sale",
      utmSource: "email",
      utmMedium: "newsletter",
      utmCampaign: "summer-sale",
    });
    assert.equal(d.utmSource, "email");
    assert.equal(d.utmMedium, "newsletter");
    assert.equal(d.utmCampaign, "summer-sale");
    const rec = await w.kvRecord(DOMAIN, "summer-sale");
    assert.equal(rec.utm, "utm_source=email&utm_medium=newsletter&utm_campaign=summer-sale");
    const p = await api("PATCH", `/api/v1/links/${d.id}`, { body: { utmTerm: "a b&c", utmMedium: null } });
    assert.equal(p.status, 200, p.text);
    assert.equal((await w.kvRecord(DOMAIN, "summer-sale")).utm, "utm_source=email&utm_campaign=summer-sale&utm_term=a%20b%26c");
  });

  test("the Python example: create then stats by id", async () => {
    const d = await create({
      destinationUrl: "https://example.com/product",
      slug: "my-product",
      title: "Product Link",
      tags: ["product"],
    });
    assert.equal(d.shortUrl, `${BASE}/my-product`);
    const s = await api("GET", `/api/v1/links/${d.id}/stats`);
    assert.equal(s.body.data.totalClicks, 0);
  });
});

describe("KV follows every write", () => {
  test("slug change moves the record; settings reach KV; admin ban; delete", async () => {
    const d = await create({ destinationUrl: "https://example.com/kv", slug: "kv-one" });
    assert.ok(await w.kvRecord(DOMAIN, "kv-one"));

    let r = await api("PATCH", `/api/v1/links/${d.id}`, { body: { slug: "kv-two" } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.shortUrl, `${BASE}/kv-two`);
    assert.equal(await w.kvRecord(DOMAIN, "kv-one"), null);
    assert.equal((await w.kvRecord(DOMAIN, "kv-two")).id, d.id);

    // Archiving keeps the link working (as in Dub): the record stays.
    r = await api("PATCH", `/api/v1/links/${d.id}`, { body: { archived: true } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.archived, true);
    assert.equal((await w.kvRecord(DOMAIN, "kv-two")).id, d.id);

    r = await api("PATCH", `/api/v1/links/${d.id}`, {
      body: {
        suspended: true,
        escapeFromWechat: true,
        advancedBotDetection: true,
        webhook: true,
        webhookScene: "promo",
      },
    });
    assert.equal(r.status, 200, r.text);
    let rec = await w.kvRecord(DOMAIN, "kv-two");
    assert.equal(rec.sus, true);
    assert.equal(rec.wc, true);
    assert.equal(rec.bot, true);
    assert.equal(rec.wh, true);
    assert.equal(rec.whs, "promo");

    r = await api("PATCH", `/api/v1/links/${d.id}`, { body: { suspended: false } });
    assert.equal((await w.kvRecord(DOMAIN, "kv-two")).sus, undefined);

    // Operator ban.
    r = await w.api("PATCH", `/api/v1/admin/links/${d.id}`, { key: ADMIN_TOKEN, body: { banned: true } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.banned, true);
    assert.equal((await w.kvRecord(DOMAIN, "kv-two")).ban, true);
    r = await api("GET", `/api/v1/links/${d.id}`);
    assert.equal(r.body.data.banned, true);
    // A later user PATCH keeps the ban.
    r = await api("PATCH", `/api/v1/links/${d.id}`, { body: { title: "still banned" } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.banned, true);
    assert.equal((await w.kvRecord(DOMAIN, "kv-two")).ban, true);
    r = await w.api("PATCH", `/api/v1/admin/links/${d.id}`, { key: ADMIN_TOKEN, body: { banned: false } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await w.kvRecord(DOMAIN, "kv-two")).ban, undefined);

    r = await api("DELETE", `/api/v1/links/${d.id}`);
    assert.equal(r.status, 204);
    assert.equal(await w.kvRecord(DOMAIN, "kv-two"), null);
  });

  test("admin ban: needs the operator token, validates, 404 for unknown ids", async () => {
    const d = await create({ destinationUrl: "https://example.com/ban" });
    expectError(assert, await w.api("PATCH", `/api/v1/admin/links/${d.id}`, { key, body: { banned: true } }), 401, "UNAUTHORIZED");
    expectError(assert, await w.api("PATCH", `/api/v1/admin/links/${d.id}`, { body: { banned: true } }), 401, "UNAUTHORIZED");
    expectField(await w.api("PATCH", `/api/v1/admin/links/${d.id}`, { key: ADMIN_TOKEN, body: { banned: "yes" } }), 400, "VALIDATION_ERROR", "banned");
    expectField(await w.api("PATCH", `/api/v1/admin/links/${d.id}`, { key: ADMIN_TOKEN, body: {} }), 400, "VALIDATION_ERROR", "banned");
    expectError(assert, await w.api("PATCH", "/api/v1/admin/links/lnk_nope", { key: ADMIN_TOKEN, body: { banned: true } }), 404, "NOT_FOUND");
    assert.equal((await w.kvRecord(DOMAIN, d.slug)).ban, undefined);
  });

  test("a PATCH keeps clicks counted meanwhile (click_count belongs to the consumer)", async () => {
    const d = await create({ destinationUrl: "https://example.com/clicks", clickLimit: 5 });
    // The analytics consumer drains 5 clicks while the PATCH is in flight.
    await w.db.prepare("UPDATE links SET click_count = 5 WHERE id = ?").bind(d.id).run();
    const r = await api("PATCH", `/api/v1/links/${d.id}`, { body: { title: "renamed" } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.clickCount, 5);
    const row = await w.db.prepare("SELECT click_count, created_at FROM links WHERE id = ?").bind(d.id).first();
    assert.equal(row.click_count, 5);
    assert.equal(row.created_at, Date.parse(d.createdAt));
    // The record written by the PATCH knows the limit is reached.
    assert.equal((await w.kvRecord(DOMAIN, d.slug)).done, true);
    // Raising the limit reopens it.
    await api("PATCH", `/api/v1/links/${d.id}`, { body: { clickLimit: 10 } });
    assert.equal((await w.kvRecord(DOMAIN, d.slug)).done, undefined);
  });

  test("a failed slug change leaves both records alone", async () => {
    const a = await create({ destinationUrl: "https://example.com/a", slug: "taken-a" });
    const b = await create({ destinationUrl: "https://example.com/b", slug: "taken-b" });
    const r = await api("PATCH", `/api/v1/links/${b.id}`, { body: { slug: "taken-a" } });
    expectError(assert, r, 409, "SLUG_EXISTS");
    assert.equal((await w.kvRecord(DOMAIN, "taken-a")).id, a.id);
    assert.equal((await w.kvRecord(DOMAIN, "taken-b")).id, b.id);
    assert.equal((await api("GET", `/api/v1/links/${b.id}`)).body.data.slug, "taken-b");
  });
});

describe("slugs", () => {
  test("auto slugs: 7 characters of the unambiguous alphabet, all distinct", async () => {
    const slugs = new Set();
    for (let i = 0; i < 8; i++) {
      const d = await create({ destinationUrl: `https://example.com/auto/${i}` });
      assert.equal(d.slug.length, 7, d.slug);
      for (const c of d.slug) assert.ok(ALPHABET.includes(c), `${c} in ${d.slug}`);
      assert.equal(d.shortUrl, `${BASE}/${d.slug}`);
      assert.ok(await w.kvRecord(DOMAIN, d.slug));
      slugs.add(d.slug);
    }
    assert.equal(slugs.size, 8);
  });

  test("slug null or absent on create means auto", async () => {
    const d = await create({ destinationUrl: "https://example.com/n", slug: null });
    assert.equal(d.slug.length, 7);
  });

  for (const slug of ["api", "bio", "qr", "dashboard", "API", "Bio", "admin", "v2"]) {
    test(`reserved slug '${slug}' → 409 SLUG_RESERVED`, async () => {
      const r = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com", slug } });
      expectError(assert, r, 409, "SLUG_RESERVED");
    });
  }

  test("reserved slug on PATCH too", async () => {
    const d = await create({ destinationUrl: "https://example.com/r" });
    expectError(assert, await api("PATCH", `/api/v1/links/${d.id}`, { body: { slug: "qr" } }), 409, "SLUG_RESERVED");
  });

  test("duplicate slug → 409 SLUG_EXISTS; slugs are case-sensitive", async () => {
    await create({ destinationUrl: "https://example.com/1", slug: "dupe" });
    const r = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/2", slug: "dupe" } });
    const e = expectError(assert, r, 409, "SLUG_EXISTS");
    assert.match(e.message, /dupe/);
    await create({ destinationUrl: "https://example.com/3", slug: "Dupe" });
  });

  test("a slug taken in another workspace is still taken (same domain)", async () => {
    const other = await w.workspace("Other", "free");
    const r = await w.api("POST", "/api/v1/links", {
      key: other.key,
      body: { destinationUrl: "https://example.com/2", slug: "dupe" },
    });
    expectError(assert, r, 409, "SLUG_EXISTS");
  });

  test("bad slugs → 400 naming slug", async () => {
    for (const slug of ["a b", "a/b", ".hidden", "ünï", "x".repeat(101), "", "a?b"]) {
      const r = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com", slug } });
      expectField(r, 400, "VALIDATION_ERROR", "slug");
    }
    const ok = await create({ destinationUrl: "https://example.com", slug: "x".repeat(100) });
    assert.equal(ok.slug.length, 100);
  });
});

describe("URL validation", () => {
  const bad = ["ftp://example.com/file", "javascript:alert(1)", "/relative/path", "example.com", "data:text/html,hi", "https://"];

  test("destinationUrl must be absolute http(s)", async () => {
    for (const u of bad) {
      const r = await api("POST", "/api/v1/links", { body: { destinationUrl: u } });
      expectField(r, 400, "INVALID_URL", "destinationUrl");
    }
  });

  test("inside geoTargets, deviceTargets, iosUrl, androidUrl", async () => {
    for (const u of ["ftp://example.com", "javascript:alert(1)", "/relative"]) {
      const cases = [
        [{ geoTargets: { US: u } }, "geoTargets.US"],
        [{ deviceTargets: { mobile: u } }, "deviceTargets.mobile"],
        [{ iosUrl: u }, "iosUrl"],
        [{ androidUrl: u }, "androidUrl"],
      ];
      for (const [extra, field] of cases) {
        const r = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com", ...extra } });
        expectField(r, 400, "INVALID_URL", field);
      }
    }
  });

  test("PATCH validates URLs too and changes nothing on error", async () => {
    const d = await create({ destinationUrl: "https://example.com/keep" });
    const r = await api("PATCH", `/api/v1/links/${d.id}`, { body: { destinationUrl: "javascript:alert(1)" } });
    expectField(r, 400, "INVALID_URL", "destinationUrl");
    expectField(
      await api("PATCH", `/api/v1/links/${d.id}`, { body: { geoTargets: { DE: "ftp://x" } } }),
      400,
      "INVALID_URL",
      "geoTargets.DE",
    );
    assert.equal((await w.kvRecord(DOMAIN, d.slug)).url, "https://example.com/keep");
  });

  test("bad target keys name the entry", async () => {
    expectField(
      await api("POST", "/api/v1/links", { body: { destinationUrl: "https://e.com", geoTargets: { USA: "https://e.com" } } }),
      400,
      "VALIDATION_ERROR",
      "geoTargets.USA",
    );
    expectField(
      await api("POST", "/api/v1/links", { body: { destinationUrl: "https://e.com", deviceTargets: { watch: "https://e.com" } } }),
      400,
      "VALIDATION_ERROR",
      "deviceTargets.watch",
    );
    expectField(
      await api("POST", "/api/v1/links", { body: { destinationUrl: "https://e.com", geoTargets: ["https://e.com"] } }),
      400,
      "VALIDATION_ERROR",
      "geoTargets",
    );
  });

  test("over-long URL", async () => {
    const long = `https://example.com/${"a".repeat(2100)}`;
    const r = await api("POST", "/api/v1/links", { body: { destinationUrl: long } });
    const e = expectError(assert, r, 400, r.body?.error?.code);
    assert.ok(["INVALID_URL", "VALIDATION_ERROR"].includes(e.code));
    assert.equal(e.field, "destinationUrl");
    const longer = `https://example.com/${"a".repeat(5000)}`;
    const r2 = await api("POST", "/api/v1/links", { body: { destinationUrl: longer } });
    assert.equal(r2.status, 400, r2.text);
    assert.equal(r2.body.error.field, "destinationUrl");
  });
});

describe("plan limits and domains", () => {
  test("LIMIT_REACHED (403) on the link beyond the workspace quota", async () => {
    const small = await w.workspace("Small", "free", { linkQuota: 2 });
    assert.equal(small.workspace.linkQuota, 2);
    for (let i = 0; i < 2; i++) {
      const r = await w.api("POST", "/api/v1/links", { key: small.key, body: { destinationUrl: `https://example.com/${i}` } });
      assert.equal(r.status, 201, r.text);
    }
    const r = await w.api("POST", "/api/v1/links", { key: small.key, body: { destinationUrl: "https://example.com/3" } });
    expectError(assert, r, 403, "LIMIT_REACHED");
    const list = await w.api("GET", "/api/v1/links", { key: small.key });
    assert.equal(list.body.meta.total, 2);
    // Deleting one frees a place.
    await w.api("DELETE", `/api/v1/links/${list.body.data[0].id}`, { key: small.key });
    const again = await w.api("POST", "/api/v1/links", { key: small.key, body: { destinationUrl: "https://example.com/3" } });
    assert.equal(again.status, 201, again.text);
  });

  test("DOMAIN_NOT_VERIFIED for an unverified custom domain", async () => {
    const r = await api("POST", "/api/v1/links", {
      body: { destinationUrl: "https://example.com", domain: "links.example.com" },
    });
    expectError(assert, r, 400, "DOMAIN_NOT_VERIFIED");
    const d = await create({ destinationUrl: "https://example.com/dom" });
    const p = await api("PATCH", `/api/v1/links/${d.id}`, { body: { domain: "links.example.com" } });
    expectError(assert, p, 400, "DOMAIN_NOT_VERIFIED");
    assert.ok(await w.kvRecord(DOMAIN, d.slug));
  });

  test("the default domain may be named explicitly", async () => {
    const d = await create({ destinationUrl: "https://example.com", domain: "LOCALHOST:8787" });
    assert.equal(d.domain, DOMAIN);
  });

  test("a malformed domain → 400 naming domain", async () => {
    const r = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://e.com", domain: "https://x.com/a" } });
    expectField(r, 400, "VALIDATION_ERROR", "domain");
  });
});

describe("list", () => {
  let ws;
  const ids = {};

  before(async () => {
    ws = await w.workspace("Lister", "business");
    const g = await w.api("POST", "/api/v1/groups", { key: ws.key, body: { name: "G" } });
    ids.group = g.body.data.id;
    const mk = async (name, body) => {
      const r = await w.api("POST", "/api/v1/links", { key: ws.key, body: { destinationUrl: `https://example.com/${name}`, ...body } });
      assert.equal(r.status, 201, r.text);
      ids[name] = r.body.data.id;
    };
    await mk("alpha", { title: "Alpha 50%_off", tags: ["red", "blue"] });
    await mk("beta", { tags: ["blue"], groupId: ids.group });
    await mk("gamma", { archived: true, groupId: ids.group });
    await mk("delta", { title: "Delta" });
    await mk("epsilon", {});
  });

  const list = (q) => w.api("GET", `/api/v1/links${q}`, { key: ws.key });

  test("meta: page, perPage, total, totalPages; pages do not overlap", async () => {
    const p1 = await list("?perPage=2");
    assert.equal(p1.status, 200, p1.text);
    assert.deepEqual(p1.body.meta, { page: 1, perPage: 2, total: 5, totalPages: 3 });
    const p3 = await list("?perPage=2&page=3");
    assert.deepEqual(p3.body.meta, { page: 3, perPage: 2, total: 5, totalPages: 3 });
    assert.equal(p3.body.data.length, 1);
    const p2 = await list("?perPage=2&page=2");
    const all = [...p1.body.data, ...p2.body.data, ...p3.body.data].map((l) => l.id);
    assert.equal(new Set(all).size, 5);
    const beyond = await list("?perPage=2&page=9");
    assert.equal(beyond.status, 200);
    assert.deepEqual(beyond.body.data, []);
    const dflt = await list("");
    assert.equal(dflt.body.meta.perPage, 20);
    assert.equal(dflt.body.meta.page, 1);
  });

  test("newest first by default", async () => {
    const r = await list("");
    assert.deepEqual(
      r.body.data.map((l) => l.id),
      [ids.epsilon, ids.delta, ids.gamma, ids.beta, ids.alpha],
    );
  });

  test("sort=created|clicks|updated", async () => {
    for (const s of ["created", "clicks", "updated"]) {
      const r = await list(`?sort=${s}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.data.length, 5);
    }
    await w.api("PATCH", `/api/v1/links/${ids.alpha}`, { key: ws.key, body: { title: "Alpha 50%_off!" } });
    const r = await list("?sort=updated");
    assert.equal(r.body.data[0].id, ids.alpha);
  });

  test("bad paging and sort → 400 naming the parameter", async () => {
    expectField(await list("?perPage=101"), 400, "VALIDATION_ERROR", "perPage");
    expectField(await list("?perPage=0"), 400, "VALIDATION_ERROR", "perPage");
    expectField(await list("?perPage=abc"), 400, "VALIDATION_ERROR", "perPage");
    expectField(await list("?page=0"), 400, "VALIDATION_ERROR", "page");
    expectField(await list("?page=-1"), 400, "VALIDATION_ERROR", "page");
    expectField(await list("?sort=popularity"), 400, "VALIDATION_ERROR", "sort");
    expectField(await list("?archived=maybe"), 400, "VALIDATION_ERROR", "archived");
    expectField(await list(`?search=${"x".repeat(201)}`), 400, "VALIDATION_ERROR", "search");
    const ok = await list("?perPage=100");
    assert.equal(ok.status, 200);
  });

  test("filters: search (slug, title, destination, tag), literal % and _", async () => {
    const ids_ = async (q) => (await list(q)).body.data.map((l) => l.id).sort();
    assert.deepEqual(await ids_("?search=delta"), [ids.delta]);
    assert.deepEqual(await ids_("?search=DELTA"), [ids.delta]);
    assert.deepEqual(await ids_("?search=example.com%2Fbeta"), [ids.beta]);
    assert.deepEqual(await ids_("?search=50%25_"), [ids.alpha]);
    assert.deepEqual(await ids_("?search=%25"), [ids.alpha]);
    assert.deepEqual(await ids_("?search=red"), [ids.alpha]);
    assert.deepEqual(await ids_("?search=nothing-matches"), []);
  });

  test("filters: tag, archived, groupId, domain", async () => {
    const ids_ = async (q) => (await list(q)).body.data.map((l) => l.id).sort();
    assert.deepEqual(await ids_("?tag=blue"), [ids.alpha, ids.beta].sort());
    assert.deepEqual(await ids_("?tag=red"), [ids.alpha]);
    assert.deepEqual(await ids_("?tag=re"), []);
    assert.deepEqual(await ids_("?archived=true"), [ids.gamma]);
    assert.equal((await ids_("?archived=false")).length, 4);
    assert.deepEqual(await ids_(`?groupId=${ids.group}`), [ids.beta, ids.gamma].sort());
    assert.deepEqual(await ids_(`?groupId=${ids.group}&archived=false`), [ids.beta]);
    assert.equal((await ids_(`?domain=${encodeURIComponent(DOMAIN)}`)).length, 5);
    assert.deepEqual(await ids_("?domain=links.example.com"), []);
    const r = await list("?tag=blue&perPage=1");
    assert.deepEqual(r.body.meta, { page: 1, perPage: 1, total: 2, totalPages: 2 });
  });

  test("a groupId of another workspace or unknown → 400 naming groupId", async () => {
    const g = await api("POST", "/api/v1/groups", { body: { name: "Mine" } });
    const r = await w.api("POST", "/api/v1/links", { key: ws.key, body: { destinationUrl: "https://e.com", groupId: g.body.data.id } });
    expectField(r, 400, "VALIDATION_ERROR", "groupId");
    const r2 = await w.api("PATCH", `/api/v1/links/${ids.alpha}`, { key: ws.key, body: { groupId: "grp_nope" } });
    expectField(r2, 400, "VALIDATION_ERROR", "groupId");
  });
});

describe("bad input", () => {
  const post = (opts) => api("POST", "/api/v1/links", opts);

  test("malformed JSON, non-object JSON, empty body", async () => {
    for (const raw of ["{", '{"destinationUrl": }', "nope", "[1,2]", '"str"', "42", "null", "", "   "]) {
      const r = await post({ raw, headers: { "Content-Type": "application/json" } });
      expectField(r, 400, "VALIDATION_ERROR", "body");
    }
  });

  test("wrong types name their field", async () => {
    const cases = [
      [{ destinationUrl: 5 }, "destinationUrl"],
      [{ destinationUrl: null }, "destinationUrl"],
      [{ destinationUrl: ["https://e.com"] }, "destinationUrl"],
      [{ destinationUrl: "https://e.com", slug: 7 }, "slug"],
      [{ destinationUrl: "https://e.com", title: {} }, "title"],
      [{ destinationUrl: "https://e.com", tags: "a,b" }, "tags"],
      [{ destinationUrl: "https://e.com", tags: [1] }, "tags"],
      [{ destinationUrl: "https://e.com", tags: [""] }, "tags"],
      [{ destinationUrl: "https://e.com", clickLimit: "10" }, "clickLimit"],
      [{ destinationUrl: "https://e.com", clickLimit: 1.5 }, "clickLimit"],
      [{ destinationUrl: "https://e.com", clickLimit: 0 }, "clickLimit"],
      [{ destinationUrl: "https://e.com", clickLimit: -3 }, "clickLimit"],
      [{ destinationUrl: "https://e.com", expiresAt: "tomorrow" }, "expiresAt"],
      [{ destinationUrl: "https://e.com", expiresAt: 1234 }, "expiresAt"],
      [{ destinationUrl: "https://e.com", archived: "true" }, "archived"],
      [{ destinationUrl: "https://e.com", suspended: 1 }, "suspended"],
      [{ destinationUrl: "https://e.com", webhook: "yes" }, "webhook"],
      [{ destinationUrl: "https://e.com", escapeFromWechat: null }, "escapeFromWechat"],
      [{ destinationUrl: "https://e.com", password: 123 }, "password"],
      [{ destinationUrl: "https://e.com", deviceTargets: { mobile: 5 } }, "deviceTargets.mobile"],
      [{ destinationUrl: "https://e.com", geoTargets: "US" }, "geoTargets"],
      [{ destinationUrl: "https://e.com", utmSource: 5 }, "utmSource"],
      [{ destinationUrl: "https://e.com", groupId: 5 }, "groupId"],
      [{}, "destinationUrl"],
      [{ destinationUrl: "" }, "destinationUrl"],
    ];
    for (const [body, field] of cases) {
      const r = await post({ body });
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
      assert.equal(r.body.success, false);
      assert.ok(["VALIDATION_ERROR", "INVALID_URL"].includes(r.body.error.code), r.text);
      assert.equal(r.body.error.field, field, `${JSON.stringify(body)} → ${r.text}`);
      assert.equal(typeof r.body.error.message, "string");
    }
  });

  test("unknown field `url` hints destinationUrl", async () => {
    const e = expectField(await post({ body: { url: "https://example.com" } }), 400, "VALIDATION_ERROR", "url");
    assert.match(e.message, /destinationUrl/);
    expectField(await post({ body: { destinationUrl: "https://e.com", colour: "red" } }), 400, "VALIDATION_ERROR", "colour");
  });

  test("read-only response fields may be echoed back in a PATCH", async () => {
    const d = await create({ destinationUrl: "https://example.com/echo", title: "Echo" });
    const r = await api("PATCH", `/api/v1/links/${d.id}`, { body: { ...d, title: "Echo 2", id: "lnk_other", clickCount: 99, banned: undefined } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.id, d.id);
    assert.equal(r.body.data.title, "Echo 2");
    assert.equal(r.body.data.clickCount, 0);
  });

  test("over-long strings", async () => {
    expectField(await post({ body: { destinationUrl: "https://e.com", title: "t".repeat(201) } }), 400, "VALIDATION_ERROR", "title");
    expectField(await post({ body: { destinationUrl: "https://e.com", description: "d".repeat(2001) } }), 400, "VALIDATION_ERROR", "description");
    expectField(await post({ body: { destinationUrl: "https://e.com", tags: ["t".repeat(51)] } }), 400, "VALIDATION_ERROR", "tags");
    expectField(
      await post({ body: { destinationUrl: "https://e.com", tags: Array.from({ length: 21 }, (_, i) => `t${i}`) } }),
      400,
      "VALIDATION_ERROR",
      "tags",
    );
    expectField(await post({ body: { destinationUrl: "https://e.com", password: "p".repeat(129) } }), 400, "VALIDATION_ERROR", "password");
    expectField(await post({ body: { destinationUrl: "https://e.com", utmCampaign: "u".repeat(201) } }), 400, "VALIDATION_ERROR", "utmCampaign");
    expectField(await post({ body: { destinationUrl: "https://e.com", webhookScene: "s".repeat(101) } }), 400, "VALIDATION_ERROR", "webhookScene");
    const ok = await create({ destinationUrl: "https://e.com", title: "標".repeat(200) });
    assert.equal(ok.title.length, 200);
  });

  test("body over 64 KiB → 413 PAYLOAD_TOO_LARGE", async () => {
    const big = JSON.stringify({ destinationUrl: "https://e.com", description: "x".repeat(70 * 1024) });
    expectError(assert, await post({ raw: big, headers: { "Content-Type": "application/json" } }), 413, "PAYLOAD_TOO_LARGE");
    const d = await create({ destinationUrl: "https://e.com/big" });
    expectError(
      assert,
      await api("PATCH", `/api/v1/links/${d.id}`, { raw: big, headers: { "Content-Type": "application/json" } }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
    // Also without a trustworthy Content-Length (streamed body).
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const res = await w.fetch("/api/v1/links", {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: stream,
      duplex: "half",
    });
    assert.equal(res.status, 413, await res.clone().text());
    assert.equal((await res.json()).error.code, "PAYLOAD_TOO_LARGE");
  });

  test("a non-JSON content type → 415", async () => {
    const r = await post({ raw: "destinationUrl=https://e.com", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expectError(assert, r, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  test("`banned` from a normal key → 403 FORBIDDEN", async () => {
    expectError(assert, await post({ body: { destinationUrl: "https://e.com", banned: true } }), 403, "FORBIDDEN");
    const d = await create({ destinationUrl: "https://e.com/nb" });
    expectError(assert, await api("PATCH", `/api/v1/links/${d.id}`, { body: { banned: false } }), 403, "FORBIDDEN");
    assert.equal((await api("GET", `/api/v1/links/${d.id}`)).body.data.banned, false);
  });

  test("PATCH semantics: null clears, empty body changes nothing, slug null refused", async () => {
    const d = await create({ destinationUrl: "https://e.com/p", title: "T", clickLimit: 5, iosUrl: "https://apps.apple.com/x" });
    let r = await api("PATCH", `/api/v1/links/${d.id}`, { body: { title: null, clickLimit: null, iosUrl: null } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.title, null);
    assert.equal(r.body.data.clickLimit, null);
    assert.equal(r.body.data.iosUrl, null);
    const rec = await w.kvRecord(DOMAIN, d.slug);
    assert.equal(rec.lim, undefined);
    assert.equal(rec.ios, undefined);
    r = await api("PATCH", `/api/v1/links/${d.id}`, { body: {} });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.destinationUrl, "https://e.com/p");
    expectField(await api("PATCH", `/api/v1/links/${d.id}`, { body: { slug: null } }), 400, "VALIDATION_ERROR", "slug");
    expectField(await api("PATCH", `/api/v1/links/${d.id}`, { body: { destinationUrl: null } }), 400, "VALIDATION_ERROR", "destinationUrl");
  });

  test("duplicate tags are removed, order kept", async () => {
    const d = await create({ destinationUrl: "https://e.com/t", tags: ["a", "b", "a", " b ", "c"] });
    assert.deepEqual(d.tags, ["a", "b", "c"]);
  });
});

describe("keys and routing", () => {
  test("read-only key can GET but not write", async () => {
    const d = await create({ destinationUrl: "https://e.com/ro" });
    const g = await w.api("GET", `/api/v1/links/${d.id}`, { key: readKey });
    assert.equal(g.status, 200, g.text);
    const l = await w.api("GET", "/api/v1/links", { key: readKey });
    assert.equal(l.status, 200, l.text);
    const s = await w.api("GET", `/api/v1/links/${d.id}/stats`, { key: readKey });
    assert.equal(s.status, 200, s.text);
    expectError(assert, await w.api("POST", "/api/v1/links", { key: readKey, body: { destinationUrl: "https://e.com" } }), 403, "FORBIDDEN");
    expectError(assert, await w.api("PATCH", `/api/v1/links/${d.id}`, { key: readKey, body: { title: "x" } }), 403, "FORBIDDEN");
    expectError(assert, await w.api("DELETE", `/api/v1/links/${d.id}`, { key: readKey }), 403, "FORBIDDEN");
    assert.ok(await w.kvRecord(DOMAIN, d.slug));
    assert.equal((await api("GET", `/api/v1/links/${d.id}`)).body.data.title, null);
  });

  test("no key / bad key → 401", async () => {
    expectError(assert, await w.api("GET", "/api/v1/links"), 401, "UNAUTHORIZED");
    expectError(assert, await w.api("GET", "/api/v1/links", { key: "go2_notakey" }), 401, "UNAUTHORIZED");
    expectError(assert, await w.api("POST", "/api/v1/links", { body: { destinationUrl: "https://e.com" } }), 401, "UNAUTHORIZED");
  });

  test("unknown endpoint → 404 envelope; wrong method → 405", async () => {
    for (const p of ["/api/v1/nope", "/api/v1/links/x/y/z", "/api/v2/links", "/api/v1"]) {
      expectError(assert, await api("GET", p), 404, "NOT_FOUND");
    }
    expectError(assert, await api("PUT", "/api/v1/links"), 405, "METHOD_NOT_ALLOWED");
    expectError(assert, await api("DELETE", "/api/v1/links"), 405, "METHOD_NOT_ALLOWED");
    expectError(assert, await api("POST", "/api/v1/links/lnk_x"), 405, "METHOD_NOT_ALLOWED");
    expectError(assert, await api("PUT", "/api/v1/links/lnk_x"), 405, "METHOD_NOT_ALLOWED");
    expectError(assert, await api("POST", "/api/v1/links/lnk_x/stats"), 405, "METHOD_NOT_ALLOWED");
  });

  test("a trailing slash is the same route", async () => {
    const r = await api("GET", "/api/v1/links/?perPage=1");
    assert.equal(r.status, 200, r.text);
  });

  test("stats of an unknown link → 404", async () => {
    expectError(assert, await api("GET", "/api/v1/links/lnk_nope/stats"), 404, "NOT_FOUND");
  });
});
