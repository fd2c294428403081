// Custom domains against the built wasm worker in Miniflare: adding one
// (the TXT record to publish), verification over a stub DNS-over-HTTPS
// resolver on 127.0.0.1, the domain.verified webhook, links and redirects
// on the verified domain, and every refusal.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHmac } from "node:crypto";
import { startWorker, expectError } from "./helpers.mjs";

/** TXT records by name; `down` makes the resolver answer 500. */
const dns = { records: new Map(), queries: [], down: false };
let resolver;
/** Webhook deliveries received. */
const hooks = [];
let receiver;
let w, key, otherKey, hook;

function listen(server) {
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${server.address().port}`)));
}

before(async () => {
  resolver = http.createServer((req, res) => {
    const u = new URL(req.url, "http://x");
    dns.queries.push({ name: u.searchParams.get("name"), type: u.searchParams.get("type"), accept: req.headers.accept });
    if (dns.down) {
      res.writeHead(500);
      return res.end("down");
    }
    const txt = dns.records.get(u.searchParams.get("name")) ?? [];
    res.writeHead(200, { "Content-Type": "application/dns-json" });
    res.end(
      JSON.stringify({
        Status: txt.length ? 0 : 3,
        Answer: txt.map((t) => ({ name: u.searchParams.get("name"), type: 16, TTL: 300, data: `"${t}"` })),
      }),
    );
  });
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      hooks.push({ headers: req.headers, body });
      res.end("ok");
    });
  });
  const dohUrl = (await listen(resolver)) + "/dns-query";
  const hookUrl = (await listen(receiver)) + "/hook";
  w = await startWorker({ vars: { DOH_RESOLVER_URL: dohUrl, WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" } });
  ({ key } = await w.workspace("Domains Co", "business"));
  ({ key: otherKey } = await w.workspace("Other Co", "business"));
  const h = await w.api("POST", "/api/v1/webhooks", { key, body: { url: hookUrl, events: ["domain.verified"] } });
  assert.equal(h.status, 201, h.text);
  hook = h.body.data;
});

after(async () => {
  await w?.close();
  resolver?.close();
  receiver?.close();
});

async function api(method, p, opts = {}) {
  const r = await w.api(method, p, { key, ...opts });
  assert.ok(r.status < 500, `${method} ${p} answered ${r.status}: ${r.text}`);
  return r;
}

async function addDomain(domain, k = key) {
  const r = await w.api("POST", "/api/v1/domains", { key: k, body: { domain } });
  assert.equal(r.status, 201, r.text);
  return r.body.data;
}

test("adding a domain answers the TXT record to publish", async () => {
  const d = await addDomain(" Links.Example.COM. ");
  assert.match(d.id, /^dom_[0-9A-Za-z]{16}$/);
  assert.equal(d.domain, "links.example.com");
  assert.equal(d.verified, false);
  assert.equal(d.verifiedAt, null);
  assert.equal(d.verification.type, "TXT");
  assert.equal(d.verification.name, "_edgelink.links.example.com");
  assert.match(d.verification.value, /^edgelink-verify=[0-9A-Za-z]{32}$/);
  const row = await w.db.prepare("SELECT workspace_id, verified FROM domains WHERE id = ?1").bind(d.id).first();
  assert.equal(row.verified, 0);
  const got = await api("GET", `/api/v1/domains/${d.id}`);
  assert.deepEqual(got.body.data, d);
  const list = await api("GET", "/api/v1/domains");
  assert.ok(list.body.data.some((x) => x.id === d.id));
  assert.equal(typeof list.body.meta.total, "number");
});

test("bad input and refusals: a 4xx naming the field, nothing written", async () => {
  const before = (await w.db.prepare("SELECT COUNT(*) AS n FROM domains").first()).n;
  for (const body of [
    {},
    { domain: "" },
    { domain: 42 },
    { domain: "localhost" },
    { domain: "https://example.org" },
    { domain: "example.org/x" },
    { domain: "example.org:8443" },
    { domain: "10.1.2.3" },
    { domain: "ex_ample.org" },
    { domain: "-a.example.org" },
    { domain: "a".repeat(64) + ".org" },
  ]) {
    const e = expectError(assert, await api("POST", "/api/v1/domains", { body }), 400, "VALIDATION_ERROR");
    assert.match(JSON.stringify(e), /domain/, JSON.stringify(body));
  }
  expectError(assert, await api("POST", "/api/v1/domains", { body: { domain: "a.org", verified: true } }), 400, "VALIDATION_ERROR");
  expectError(assert, await api("POST", "/api/v1/domains", { raw: "{", headers: { "Content-Type": "application/json" } }), 400, "VALIDATION_ERROR");
  assert.equal((await w.db.prepare("SELECT COUNT(*) AS n FROM domains").first()).n, before);

  // One owner per domain, across workspaces.
  await addDomain("taken.example.net");
  expectError(assert, await api("POST", "/api/v1/domains", { body: { domain: "TAKEN.example.net" } }), 409, "CONFLICT");
  expectError(assert, await w.api("POST", "/api/v1/domains", { key: otherKey, body: { domain: "taken.example.net" } }), 409, "CONFLICT");
});

test("another workspace's domain does not exist for you", async () => {
  const d = await addDomain("private.example.org", otherKey);
  expectError(assert, await api("GET", `/api/v1/domains/${d.id}`), 404, "NOT_FOUND");
  expectError(assert, await api("POST", `/api/v1/domains/${d.id}/verify`), 404, "NOT_FOUND");
  expectError(assert, await api("DELETE", `/api/v1/domains/${d.id}`), 404, "NOT_FOUND");
  // Nor can links use it.
  const r = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/", domain: "private.example.org" } });
  expectError(assert, r, 400, "DOMAIN_NOT_VERIFIED");
  expectError(assert, await api("PUT", `/api/v1/domains/${d.id}`, { body: {} }), 405, "METHOD_NOT_ALLOWED");
});

test("verify: pending until the TXT record is published, then verified once, with domain.verified", async () => {
  const d = await addDomain("go.brand.example");
  // Unverified: links are refused.
  const early = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/x", domain: "go.brand.example" } });
  expectError(assert, early, 400, "DOMAIN_NOT_VERIFIED");

  // No record yet.
  let r = await api("POST", `/api/v1/domains/${d.id}/verify`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.data.verified, false);
  assert.equal(r.body.data.verification.status, "pending");
  assert.match(r.body.data.verification.detail, /_edgelink\.go\.brand\.example/);
  const q = dns.queries.at(-1);
  assert.deepEqual(q, { name: "_edgelink.go.brand.example", type: "TXT", accept: "application/dns-json" });

  // A wrong token.
  dns.records.set("_edgelink.go.brand.example", ["edgelink-verify=not-the-token"]);
  r = await api("POST", `/api/v1/domains/${d.id}/verify`);
  assert.equal(r.body.data.verified, false);

  // The resolver is down: still pending, and says so.
  dns.down = true;
  r = await api("POST", `/api/v1/domains/${d.id}/verify`);
  dns.down = false;
  assert.equal(r.body.data.verified, false);
  assert.match(r.body.data.verification.detail, /DNS lookup failed/);
  assert.equal(hooks.length, 0, "no event while pending");

  // Published (beside an unrelated record).
  dns.records.set("_edgelink.go.brand.example", ["v=spf1 -all", d.verification.value]);
  r = await api("POST", `/api/v1/domains/${d.id}/verify`);
  assert.equal(r.body.data.verified, true);
  assert.equal(r.body.data.verification.status, "verified");
  assert.ok(r.body.data.verifiedAt);
  const row = await w.db.prepare("SELECT verified FROM domains WHERE id = ?1").bind(d.id).first();
  assert.equal(row.verified, 1);

  // domain.verified reached the webhook, signed.
  const end = Date.now() + 8000;
  while (hooks.length < 1 && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
  assert.equal(hooks.length, 1);
  const [h] = hooks;
  assert.equal(h.headers["x-webhook-event"], "domain.verified");
  assert.equal(h.headers["x-webhook-signature"], createHmac("sha256", hook.secret).update(h.body).digest("hex"));
  const body = JSON.parse(h.body);
  assert.equal(body.data.id, d.id);
  assert.equal(body.data.domain, "go.brand.example");
  assert.equal(body.data.verified, true);

  // Verifying again changes nothing and raises nothing.
  const queries = dns.queries.length;
  r = await api("POST", `/api/v1/domains/${d.id}/verify`);
  assert.equal(r.body.data.verified, true);
  assert.equal(dns.queries.length, queries, "no lookup once verified");
  await new Promise((res) => setTimeout(res, 1000));
  assert.equal(hooks.length, 1);

  // Links on the verified domain, and the redirect per Host.
  const link = await api("POST", "/api/v1/links", {
    body: { destinationUrl: "https://example.com/brand", domain: "go.brand.example", slug: "spring" },
  });
  assert.equal(link.status, 201, link.text);
  assert.equal(link.body.data.shortUrl, "http://go.brand.example/spring");
  assert.ok(await w.kvRecord("go.brand.example", "spring"));
  const hit = await w.fetch("http://go.brand.example/spring");
  assert.equal(hit.status, 302);
  assert.equal(hit.headers.get("location"), "https://example.com/brand");
  const miss = await w.fetch("/spring"); // the default domain has no such slug
  assert.equal(miss.status, 404);
  // The same slug may exist on the default domain too.
  const dflt = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/default", slug: "spring" } });
  assert.equal(dflt.status, 201, dflt.text);
  assert.equal((await w.fetch("/spring")).headers.get("location"), "https://example.com/default");
  assert.equal((await w.fetch("http://go.brand.example/spring")).headers.get("location"), "https://example.com/brand");
  const listed = await api("GET", `/api/v1/domains/${d.id}`);
  assert.equal(listed.body.data.linkCount, 1);

  // A domain with links cannot be deleted; without them it can.
  expectError(assert, await api("DELETE", `/api/v1/domains/${d.id}`), 409, "CONFLICT");
  assert.equal((await api("DELETE", `/api/v1/links/${link.body.data.id}`)).status, 204);
  const del = await api("DELETE", `/api/v1/domains/${d.id}`);
  assert.equal(del.status, 204);
  expectError(assert, await api("GET", `/api/v1/domains/${d.id}`), 404, "NOT_FOUND");
});

test("a workspace has at most 20 custom domains (LIMIT_REACHED)", async () => {
  const { key: k } = await w.workspace("Many Domains", "business");
  for (let i = 0; i < 20; i++) await addDomain(`d${i}.many.example`, k);
  const r = await w.api("POST", "/api/v1/domains", { key: k, body: { domain: "d20.many.example" } });
  expectError(assert, r, 403, "LIMIT_REACHED");
});
