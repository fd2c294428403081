// Link-in-bio galleries against the built wasm worker in Miniflare: the
// seed's requests, items of every type, reorder, publish, the public
// /bio/{slug} page (escaping, custom CSS, CSP), and every refusal.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectError } from "./helpers.mjs";

let w, key, otherKey;
before(async () => {
  w = await startWorker();
  ({ key } = await w.workspace("Bio Co", "business"));
  ({ key: otherKey } = await w.workspace("Other Co", "business"));
});
after(() => w.close());

async function api(method, p, opts = {}) {
  const r = await w.api(method, p, { key, ...opts });
  assert.ok(r.status < 500, `${method} ${p} answered ${r.status}: ${r.text}`);
  return r;
}

async function page(slug) {
  const r = await w.fetch(`/bio/${slug}`);
  return { status: r.status, headers: r.headers, text: await r.text() };
}

async function gallery(body) {
  const r = await api("POST", "/api/v1/galleries", { body });
  assert.equal(r.status, 201, r.text);
  return r.body.data;
}

async function item(galleryId, body) {
  const r = await api("POST", `/api/v1/galleries/${galleryId}/items`, { body });
  assert.equal(r.status, 201, r.text);
  return r.body.data;
}

test("the seed's requests: create, add a link and a YouTube embed, publish, reorder, list", async () => {
  const g = await gallery({ slug: "myprofile", title: "My Name", bio: "Creator & developer", theme: "gradient" });
  assert.match(g.id, /^gal_[0-9A-Za-z]{16}$/);
  assert.equal(g.slug, "myprofile");
  assert.equal(g.theme, "gradient");
  assert.equal(g.isPublished, false);
  assert.equal(g.url, "http://localhost:8787/bio/myprofile");
  assert.deepEqual(g.items, []);

  const link = await item(g.id, { type: "link", title: "My Website", url: "https://example.com" });
  assert.match(link.id, /^itm_/);
  assert.equal(link.type, "link");
  assert.equal(link.position, 0);
  const video = await item(g.id, { type: "embed", title: "Latest Video", embedType: "youtube", embedData: { videoId: "dQw4w9WgXcQ" } });
  assert.equal(video.position, 1);
  assert.deepEqual(video.embedData, { videoId: "dQw4w9WgXcQ" });
  const header = await item(g.id, { type: "header", title: "Elsewhere" });
  const divider = await item(g.id, { type: "divider" });
  const image = await item(g.id, { type: "image", imageUrl: "https://example.com/me.png", title: "Me", url: "https://example.com/about" });

  // Not published yet: the page does not exist.
  const hidden = await page("myprofile");
  assert.equal(hidden.status, 404);
  assert.match(hidden.headers.get("content-type"), /text\/html/);

  const pub = await api("POST", `/api/v1/galleries/${g.id}/publish`, { body: { isPublished: true } });
  assert.equal(pub.status, 200, pub.text);
  assert.equal(pub.body.data.isPublished, true);
  assert.equal(pub.body.data.items.length, 5);

  let p = await page("myprofile");
  assert.equal(p.status, 200);
  assert.match(p.headers.get("content-type"), /text\/html/);
  assert.match(p.headers.get("content-security-policy"), /default-src 'none'/);
  assert.match(p.headers.get("content-security-policy"), /frame-src https:\/\/www\.youtube-nocookie\.com/);
  assert.match(p.text, /name="viewport"/);
  assert.match(p.text, /<h1>My Name<\/h1>/);
  assert.match(p.text, /Creator &amp; developer/);
  assert.match(p.text, /<a class="item" href="https:\/\/example\.com" rel="noopener nofollow">My Website<\/a>/);
  assert.match(p.text, /https:\/\/www\.youtube-nocookie\.com\/embed\/dQw4w9WgXcQ/);
  assert.match(p.text, /<h2>Elsewhere<\/h2>/);
  assert.match(p.text, /<hr>/);
  assert.match(p.text, /<img src="https:\/\/example\.com\/me\.png" alt="Me"/);
  assert.doesNotMatch(p.text, /<script|<link /);
  assert.ok(p.text.indexOf("My Website") < p.text.indexOf("youtube-nocookie"));
  // Slugs are case-insensitive.
  assert.equal((await page("MyProfile")).status, 200);

  // Reorder: the seed's shape with real ids.
  const order = [image.id, header.id, link.id, divider.id, video.id];
  const re = await api("PATCH", `/api/v1/galleries/${g.id}/items/reorder`, { body: { itemIds: order } });
  assert.equal(re.status, 200, re.text);
  assert.deepEqual(re.body.data.map((i) => i.id), order);
  assert.deepEqual(re.body.data.map((i) => i.position), [0, 1, 2, 3, 4]);
  p = await page("myprofile");
  const at = (s) => p.text.indexOf(s);
  assert.ok(at("me.png") < at("Elsewhere") && at("Elsewhere") < at("My Website") && at("<hr>") < at("youtube-nocookie"));
  const got = await api("GET", `/api/v1/galleries/${g.id}`);
  assert.deepEqual(got.body.data.items.map((i) => i.id), order);
  const items = await api("GET", `/api/v1/galleries/${g.id}/items`);
  assert.deepEqual(items.body.data.map((i) => i.id), order);

  const list = await api("GET", "/api/v1/galleries");
  const mine = list.body.data.find((x) => x.id === g.id);
  assert.ok(mine);
  assert.equal(mine.items, undefined, "lists leave the items out");
  assert.equal(typeof list.body.meta.total, "number");

  // Unpublish: gone again.
  await api("POST", `/api/v1/galleries/${g.id}/publish`, { body: { isPublished: false } });
  assert.equal((await page("myprofile")).status, 404);
});

test("reorder refuses anything but every item exactly once", async () => {
  const g = await gallery({ slug: "reorder-me", title: "R" });
  const a = await item(g.id, { type: "header", title: "A" });
  const b = await item(g.id, { type: "header", title: "B" });
  for (const itemIds of [[a.id], [a.id, a.id], [a.id, b.id, "itm_other"], [a.id, b.id, b.id], "nope", []]) {
    const r = await api("PATCH", `/api/v1/galleries/${g.id}/items/reorder`, { body: { itemIds } });
    const e = expectError(assert, r, 400, "VALIDATION_ERROR");
    assert.match(JSON.stringify(e), /itemIds/);
  }
  expectError(assert, await api("PATCH", `/api/v1/galleries/${g.id}/items/reorder`, { body: {} }), 400, "VALIDATION_ERROR");
  const items = await api("GET", `/api/v1/galleries/${g.id}/items`);
  assert.deepEqual(items.body.data.map((i) => i.id), [a.id, b.id], "order unchanged");
});

test("everything a user typed is escaped; custom CSS cannot leave its style element", async () => {
  const evil = `<script>alert("x")</script>`;
  const g = await gallery({ slug: "evil", title: evil, bio: evil, theme: "custom", customCss: "body{background:#123456}" });
  await item(g.id, { type: "link", title: evil, url: "https://example.com/?q=\"><script>alert(1)</script>" });
  await item(g.id, { type: "header", title: evil });
  await item(g.id, { type: "image", imageUrl: "https://example.com/x.png", title: `" onerror="alert(1)` });
  await api("POST", `/api/v1/galleries/${g.id}/publish`, { body: { isPublished: true } });
  const p = await page("evil");
  assert.equal(p.status, 200);
  assert.doesNotMatch(p.text, /<script/);
  assert.doesNotMatch(p.text, /" onerror="/);
  assert.match(p.text, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  assert.match(p.text, /<style>body\{background:#123456\}<\/style>/);

  for (const customCss of ["</style><script>alert(1)</script>", "a{}</STYLE>", "<!--"]) {
    const r = await api("PATCH", `/api/v1/galleries/${g.id}`, { body: { customCss } });
    const e = expectError(assert, r, 400, "VALIDATION_ERROR");
    assert.match(JSON.stringify(e), /customCss/);
  }
  // Stored CSS that holds '<' (written around the API) is not rendered.
  await w.db.prepare("UPDATE galleries SET custom_css = ?1 WHERE id = ?2").bind("</style><script>alert(1)</script>", g.id).run();
  assert.doesNotMatch((await page("evil")).text, /<script/);
  // Custom CSS applies only with the custom theme.
  await w.db.prepare("UPDATE galleries SET custom_css = 'body{color:#abcdef}' WHERE id = ?1").bind(g.id).run();
  assert.match((await page("evil")).text, /#abcdef/);
  await api("PATCH", `/api/v1/galleries/${g.id}`, { body: { theme: "dark" } });
  assert.doesNotMatch((await page("evil")).text, /#abcdef/);
});

test("bad input gets a 4xx naming the field, and nothing is written", async () => {
  const before = (await w.db.prepare("SELECT COUNT(*) AS n FROM galleries").first()).n;
  for (const [body, status, code, field] of [
    [{ title: "x" }, 400, "VALIDATION_ERROR", "slug"],
    [{ slug: "has space", title: "x" }, 400, "VALIDATION_ERROR", "slug"],
    [{ slug: "api", title: "x" }, 409, "SLUG_RESERVED", ""],
    [{ slug: "ok-slug" }, 400, "VALIDATION_ERROR", "title"],
    [{ slug: "ok-slug", title: "x".repeat(101) }, 400, "VALIDATION_ERROR", "title"],
    [{ slug: "ok-slug", title: "x", theme: "pink" }, 400, "VALIDATION_ERROR", "theme"],
    [{ slug: "ok-slug", title: "x", bio: 5 }, 400, "VALIDATION_ERROR", "bio"],
    [{ slug: "ok-slug", title: "x", avatarUrl: "javascript:alert(1)" }, 400, "INVALID_URL", "avatarUrl"],
    [{ slug: "ok-slug", title: "x", customCss: "a".repeat(10001) }, 400, "VALIDATION_ERROR", "customCss"],
    [{ slug: "ok-slug", title: "x", colour: "red" }, 400, "VALIDATION_ERROR", "colour"],
  ]) {
    const e = expectError(assert, await api("POST", "/api/v1/galleries", { body }), status, code);
    assert.match(JSON.stringify(e), new RegExp(field), JSON.stringify(body));
  }
  expectError(assert, await api("POST", "/api/v1/galleries", { raw: "{", headers: { "Content-Type": "application/json" } }), 400, "VALIDATION_ERROR");
  assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM galleries").first()).n, before);

  const g = await gallery({ slug: "items-bad", title: "I" });
  for (const [body, code, field] of [
    [{}, "VALIDATION_ERROR", "type"],
    [{ type: "button" }, "VALIDATION_ERROR", "type"],
    [{ type: "link", url: "https://example.com" }, "VALIDATION_ERROR", "title"],
    [{ type: "link", title: "x" }, "VALIDATION_ERROR", "url"],
    [{ type: "link", title: "x", url: "javascript:alert(1)" }, "INVALID_URL", "url"],
    [{ type: "header" }, "VALIDATION_ERROR", "title"],
    [{ type: "image" }, "VALIDATION_ERROR", "imageUrl"],
    [{ type: "embed", embedData: { videoId: "dQw4w9WgXcQ" } }, "VALIDATION_ERROR", "embedType"],
    [{ type: "embed", embedType: "vimeo", embedData: { videoId: "dQw4w9WgXcQ" } }, "VALIDATION_ERROR", "embedType"],
    [{ type: "embed", embedType: "youtube", embedData: { videoId: "x\"><b>" } }, "VALIDATION_ERROR", "embedData.videoId"],
    [{ type: "link", title: "x", url: "https://example.com", color: "red" }, "VALIDATION_ERROR", "color"],
  ]) {
    const e = expectError(assert, await api("POST", `/api/v1/galleries/${g.id}/items`, { body }), 400, code);
    assert.match(JSON.stringify(e), new RegExp(field.replace(".", "\\.")), JSON.stringify(body));
  }
  const items = await api("GET", `/api/v1/galleries/${g.id}/items`);
  assert.deepEqual(items.body.data, []);
  expectError(assert, await api("POST", `/api/v1/galleries/${g.id}/publish`, { body: {} }), 400, "VALIDATION_ERROR");
  expectError(assert, await api("POST", `/api/v1/galleries/${g.id}/publish`, { body: { isPublished: "yes" } }), 400, "VALIDATION_ERROR");
});

test("PATCH merges over the stored item and checks the whole; DELETE answers 204", async () => {
  const g = await gallery({ slug: "patchy", title: "P" });
  const it = await item(g.id, { type: "link", title: "Old", url: "https://example.com/old" });
  const r = await api("PATCH", `/api/v1/galleries/${g.id}/items/${it.id}`, { body: { title: "New" } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.data.title, "New");
  assert.equal(r.body.data.url, "https://example.com/old");
  assert.equal(r.body.data.position, 0);
  // Becoming an embed needs the embed's fields.
  expectError(assert, await api("PATCH", `/api/v1/galleries/${g.id}/items/${it.id}`, { body: { type: "embed" } }), 400, "VALIDATION_ERROR");
  const emb = await api("PATCH", `/api/v1/galleries/${g.id}/items/${it.id}`, {
    body: { type: "embed", embedType: "youtube", embedData: { videoId: "dQw4w9WgXcQ" } },
  });
  assert.equal(emb.status, 200, emb.text);
  assert.equal(emb.body.data.url, null, "fields of the old type are dropped");
  expectError(assert, await api("PATCH", `/api/v1/galleries/${g.id}/items/itm_nope`, { body: { title: "x" } }), 404, "NOT_FOUND");
  const del = await api("DELETE", `/api/v1/galleries/${g.id}/items/${it.id}`);
  assert.equal(del.status, 204);
  expectError(assert, await api("DELETE", `/api/v1/galleries/${g.id}/items/${it.id}`), 404, "NOT_FOUND");

  // Gallery PATCH: slug change moves the page; a taken slug is refused.
  await gallery({ slug: "taken-slug", title: "T" });
  expectError(assert, await api("PATCH", `/api/v1/galleries/${g.id}`, { body: { slug: "Taken-Slug" } }), 409, "SLUG_EXISTS");
  const moved = await api("PATCH", `/api/v1/galleries/${g.id}`, { body: { slug: "moved", title: "Moved", bio: null } });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.body.data.url, "http://localhost:8787/bio/moved");
  await api("POST", `/api/v1/galleries/${g.id}/publish`, { body: { isPublished: true } });
  assert.equal((await page("moved")).status, 200);
  assert.equal((await page("patchy")).status, 404);

  const gone = await api("DELETE", `/api/v1/galleries/${g.id}`);
  assert.equal(gone.status, 204);
  assert.equal((await page("moved")).status, 404);
  expectError(assert, await api("GET", `/api/v1/galleries/${g.id}`), 404, "NOT_FOUND");
  const orphans = await w.db.prepare("SELECT COUNT(*) AS n FROM gallery_items WHERE gallery_id = ?1").bind(g.id).first();
  assert.equal(orphans.n, 0);
});

test("another workspace's gallery does not exist for you; slugs are global", async () => {
  const g = await gallery({ slug: "mine-only", title: "M" });
  const it = await item(g.id, { type: "divider" });
  for (const [m, p, body] of [
    ["GET", `/api/v1/galleries/${g.id}`],
    ["PATCH", `/api/v1/galleries/${g.id}`, { title: "x" }],
    ["DELETE", `/api/v1/galleries/${g.id}`],
    ["POST", `/api/v1/galleries/${g.id}/publish`, { isPublished: true }],
    ["GET", `/api/v1/galleries/${g.id}/items`],
    ["POST", `/api/v1/galleries/${g.id}/items`, { type: "divider" }],
    ["PATCH", `/api/v1/galleries/${g.id}/items/${it.id}`, { title: "x" }],
    ["DELETE", `/api/v1/galleries/${g.id}/items/${it.id}`],
    ["PATCH", `/api/v1/galleries/${g.id}/items/reorder`, { itemIds: [it.id] }],
  ]) {
    expectError(assert, await w.api(m, p, { key: otherKey, body }), 404, "NOT_FOUND");
  }
  const r = await w.api("POST", "/api/v1/galleries", { key: otherKey, body: { slug: "MINE-ONLY", title: "x" } });
  expectError(assert, r, 409, "SLUG_EXISTS");
});

test("a gallery holds at most 100 items (LIMIT_REACHED)", async () => {
  const g = await gallery({ slug: "full", title: "F" });
  for (let i = 0; i < 100; i++) await item(g.id, { type: "header", title: `H${i}` });
  expectError(assert, await api("POST", `/api/v1/galleries/${g.id}/items`, { body: { type: "divider" } }), 403, "LIMIT_REACHED");
});
