// The dashboard's static assets (wrangler.toml [assets], public/) must
// never shadow the worker: a browser navigation to a short link still
// redirects, /bio/{slug} still renders, unknown paths still get the
// worker's 404 page, and nothing falls back to the single-page app.
// Needs the built dashboard (npm run build:dashboard; npm test does it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { startWorker } from "./helpers.mjs";

// What Chromium sends for a top-level navigation typed in the address bar.
const NAVIGATE = {
  Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "Sec-Fetch-Mode": "navigate",
  "Sec-Fetch-Dest": "document",
  "Sec-Fetch-Site": "none",
  "Sec-Fetch-User": "?1",
  "Upgrade-Insecure-Requests": "1",
  "User-Agent":
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
};

let w, key, dashboardHtml;
before(async () => {
  const index = new URL("../public/dashboard/index.html", import.meta.url);
  assert.ok(existsSync(index), "public/dashboard/index.html is missing: run `npm run build:dashboard`");
  w = await startWorker({ assets: "public" });
  // The snapshot the worker serves (a rebuild may have replaced public/ since).
  dashboardHtml = readFileSync(`${w.assetsDir}/dashboard/index.html`, "utf8");
  ({ key } = await w.workspace("Assets"));
});
after(() => w?.close());

const nav = (p, extra = {}) => w.fetch(p, { headers: { ...NAVIGATE, ...extra } });

test("the dashboard is served under /dashboard/, and /dashboard redirects there", async () => {
  const r = await nav("/dashboard/");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /text\/html/);
  assert.equal(await r.text(), dashboardHtml);
  const bare = await nav("/dashboard");
  assert.ok([301, 307, 308].includes(bare.status), `got ${bare.status}`);
  assert.equal(new URL(bare.headers.get("location"), "http://x").pathname, "/dashboard/");
  // Its script is an asset too.
  const js = dashboardHtml.match(/src="(\/dashboard\/assets\/[^"]+\.js)"/)[1];
  const s = await w.fetch(js);
  assert.equal(s.status, 200);
  assert.match(s.headers.get("content-type"), /javascript/);
  await s.arrayBuffer();
});

test("a browser navigation to a short link still gets its 302 (assets never shadow a slug)", async () => {
  const c = await w.api("POST", "/api/v1/links", {
    key,
    body: { destinationUrl: "https://example.com/landing", slug: "spring", utmSource: "mail" },
  });
  assert.equal(c.status, 201, c.text);
  const r = await nav("/spring");
  assert.equal(r.status, 302);
  assert.equal(r.headers.get("location"), "https://example.com/landing?utm_source=mail");
  await r.arrayBuffer();
  // "dashboard" itself cannot become a slug, so the asset prefix never hides one.
  const taken = await w.api("POST", "/api/v1/links", {
    key,
    body: { destinationUrl: "https://example.com/", slug: "dashboard" },
  });
  assert.equal(taken.status, 409, taken.text);
  assert.equal(taken.body.error.code, "SLUG_RESERVED");
});

test("/bio/{slug} still renders the published page for a browser navigation", async () => {
  const g = await w.api("POST", "/api/v1/galleries", {
    key,
    body: { slug: "assets-bio", title: "Asset Check", theme: "minimal" },
  });
  assert.equal(g.status, 201, g.text);
  const id = g.body.data.id;
  await w.api("POST", `/api/v1/galleries/${id}/items`, {
    key,
    body: { type: "link", title: "My site", url: "https://example.com/" },
  });
  const p = await w.api("POST", `/api/v1/galleries/${id}/publish`, { key, body: { isPublished: true } });
  assert.equal(p.status, 200, p.text);
  const r = await nav("/bio/assets-bio");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /text\/html/);
  const html = await r.text();
  assert.match(html, /Asset Check/);
  assert.match(html, /My site/);
  assert.notEqual(html, dashboardHtml);
});

test("unknown paths get the worker's 404 page, and / is no single-page-app fallback", async () => {
  for (const p of ["/no-such-link", "/dashboard-x", "/assets/index.js", "/bio/nobody"]) {
    const r = await nav(p);
    assert.equal(r.status, 404, p);
    assert.match(r.headers.get("content-type"), /text\/html/, p);
    const html = await r.text();
    assert.notEqual(html, dashboardHtml, p);
    assert.doesNotMatch(html, /id="app"/, p);
  }
  const root = await nav("/");
  const html = await root.text();
  assert.notEqual(html, dashboardHtml);
  assert.doesNotMatch(html, /\/dashboard\/assets\//);
  // A missing file under the dashboard prefix is not answered with index.html either.
  const miss = await nav("/dashboard/nope/deeper");
  assert.notEqual(await miss.text(), dashboardHtml);
  assert.notEqual(miss.status, 200);
});
