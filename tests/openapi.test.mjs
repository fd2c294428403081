// GET /api/v1/openapi.json stays true to the running worker: every
// documented operation is routed (never "No such endpoint" or 405, never a
// 5xx), and real responses carry exactly the documented fields. The
// document is generated from the route table itself (src/openapi.rs, whose
// unit test checks that every route has an operation and vice versa).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ADMIN_TOKEN } from "./helpers.mjs";

let w, key, doc;
before(async () => {
  w = await startWorker();
  ({ key } = await w.workspace("Docs Co", "business"));
});
after(() => w.close());

test("the document is public JSON, OpenAPI 3.1", async () => {
  const r = await w.api("GET", "/api/v1/openapi.json");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^application\/json/);
  doc = r.body;
  assert.equal(doc.openapi, "3.1.0");
  assert.ok(Object.keys(doc.paths).length >= 25);
  const post = await w.api("POST", "/api/v1/openapi.json");
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
});

test("a method the document does not list answers 405 with the documented methods in Allow", async () => {
  doc ??= (await w.api("GET", "/api/v1/openapi.json")).body;
  for (const [path, item] of Object.entries(doc.paths)) {
    const p = path.replace(/\{[^}]+\}/g, "zz_missing");
    const r = await w.api("PUT", p, { key });
    assert.equal(r.status, 405, `PUT ${path}`);
    const documented = Object.keys(item).map((m) => m.toUpperCase());
    if (documented.includes("GET")) documented.push("HEAD");
    const allow = r.headers.get("allow").split(", ");
    assert.deepEqual(allow.sort(), documented.sort(), `Allow of ${path}`);
  }
});

test("every documented operation is routed by the worker", async () => {
  doc ??= (await w.api("GET", "/api/v1/openapi.json")).body;
  let n = 0;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const p = path.replace(/\{[^}]+\}/g, "zz_missing");
      const security = op.security ?? doc.security;
      const auth = security.length === 0 ? undefined : security[0].admin ? ADMIN_TOKEN : key;
      const withBody = ["post", "patch"].includes(method);
      const r = await w.api(method.toUpperCase(), p, { key: auth, body: withBody ? {} : undefined });
      const what = `${method.toUpperCase()} ${path} → ${r.status} ${r.text.slice(0, 120)}`;
      assert.ok(r.status < 500, what);
      assert.notEqual(r.status, 405, what);
      assert.ok(!(r.status === 404 && /No such endpoint/.test(r.text)), what);
      n++;
    }
  }
  assert.ok(n >= 40, `${n} operations`);
});

/** Keys of `obj` match schema `name`: none undocumented, every required one present. */
function conforms(name, obj, extra = []) {
  const s = doc.components.schemas[name];
  const props = Object.keys(s.properties);
  for (const k of Object.keys(obj)) assert.ok(props.includes(k) || extra.includes(k), `${name}: ${k} is not documented`);
  for (const k of s.required ?? []) assert.ok(k in obj, `${name}: required ${k} missing`);
}

test("responses carry exactly the documented fields", async () => {
  doc ??= (await w.api("GET", "/api/v1/openapi.json")).body;
  const link = await w.api("POST", "/api/v1/links", { key, body: { destinationUrl: "https://example.com/doc" } });
  conforms("Link", link.body.data);
  const group = await w.api("POST", "/api/v1/groups", { key, body: { name: "Docs" } });
  conforms("Group", group.body.data);
  const hook = await w.api("POST", "/api/v1/webhooks", { key, body: { url: "https://hooks.example.com/x", events: ["domain.verified"] } });
  conforms("Webhook", hook.body.data);
  const dom = await w.api("POST", "/api/v1/domains", { key, body: { domain: "docs.example.com" } });
  conforms("Domain", dom.body.data);
  const k = await w.api("POST", "/api/v1/keys", { key, body: { name: "docs" } });
  conforms("ApiKey", k.body.data);
  const gal = await w.api("POST", "/api/v1/galleries", { key, body: { slug: "docs-page", title: "Docs" } });
  conforms("Gallery", gal.body.data);
  const itm = await w.api("POST", `/api/v1/galleries/${gal.body.data.id}/items`, { key, body: { type: "link", title: "x", url: "https://example.com" } });
  conforms("GalleryItem", itm.body.data);
  const list = await w.api("GET", "/api/v1/links", { key });
  conforms("Meta", list.body.meta);
  const ab = await w.api("POST", "/api/v1/links", {
    key,
    body: {
      destinationUrl: "https://example.com/ab",
      testVariants: [{ url: "https://example.com/a", weight: 50 }, { url: "https://example.com/b", weight: 50 }],
      preview: { title: "Card", description: "About", image: "https://example.com/i.png" },
    },
  });
  conforms("Link", ab.body.data);
  assert.ok(ab.body.data.testVariants && ab.body.data.preview);
  const blk = await w.api("POST", "/api/v1/admin/blocklist", { key: ADMIN_TOKEN, body: { host: "docs-blocked.example" } });
  conforms("BlockedHost", blk.body.data);
  const stats = await w.api("GET", `/api/v1/links/${ab.body.data.id}/stats`, { key });
  conforms("LinkStats", stats.body.data);
  // Every documented Link property can be written back (read-only ones are ignored).
  const input = doc.components.schemas.LinkInput.properties;
  for (const k of Object.keys(link.body.data)) {
    if (!(k in input)) assert.ok(["id", "shortUrl", "hasPassword", "banned", "clickCount", "createdAt", "updatedAt"].includes(k), k);
  }
});
