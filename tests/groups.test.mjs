// /api/v1/groups: CRUD, link counts, pagination, validation; links keep
// working (and stay in KV) when their group goes away.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, expectError } from "./helpers.mjs";

let w;
let key;
let readKey;

async function api(method, path, opts = {}) {
  const r = await w.api(method, path, { key, ...opts });
  assert.ok(r.status < 500, `${method} ${path} answered ${r.status}: ${r.text}`);
  return r;
}

function expectField(r, status, code, field) {
  const e = expectError(assert, r, status, code);
  assert.equal(e.field, field, r.text);
  return e;
}

before(async () => {
  w = await startWorker();
  ({ key } = await w.workspace("Groups Co", "business"));
  readKey = (await api("POST", "/api/v1/keys", { body: { scopes: "read-only" } })).body.data.key;
});

after(async () => {
  await w?.close();
});

describe("groups CRUD", () => {
  let g;

  test("create → 201 with id, name, description, linkCount 0", async () => {
    const r = await api("POST", "/api/v1/groups", { body: { name: "Campaigns", description: "Q1" } });
    assert.equal(r.status, 201, r.text);
    g = r.body.data;
    assert.match(g.id, /^grp_[0-9A-Za-z]+$/);
    assert.equal(g.name, "Campaigns");
    assert.equal(g.description, "Q1");
    assert.equal(g.linkCount, 0);
    assert.match(g.createdAt, /^\d{4}-\d{2}-\d{2}T/);
    assert.match(g.updatedAt, /^\d{4}-\d{2}-\d{2}T/);
  });

  test("get, and linkCount follows the links", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await api("POST", "/api/v1/links", { body: { destinationUrl: `https://e.com/${i}`, groupId: g.id } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.data.groupId, g.id);
    }
    const r = await api("GET", `/api/v1/groups/${g.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.linkCount, 3);
    assert.equal(r.body.data.name, "Campaigns");
  });

  test("moving a link between groups and out of them", async () => {
    const other = (await api("POST", "/api/v1/groups", { body: { name: "Other" } })).body.data;
    const l = (await api("GET", `/api/v1/links?groupId=${g.id}&perPage=1`)).body.data[0];
    let r = await api("PATCH", `/api/v1/links/${l.id}`, { body: { groupId: other.id } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.groupId, other.id);
    assert.equal((await api("GET", `/api/v1/groups/${other.id}`)).body.data.linkCount, 1);
    assert.equal((await api("GET", `/api/v1/groups/${g.id}`)).body.data.linkCount, 2);
    r = await api("PATCH", `/api/v1/links/${l.id}`, { body: { groupId: null } });
    assert.equal(r.body.data.groupId, null);
    r = await api("PATCH", `/api/v1/links/${l.id}`, { body: { groupId: g.id } });
    assert.equal(r.body.data.groupId, g.id);
    r = await api("PATCH", `/api/v1/links/${l.id}`, { body: { groupId: "" } });
    assert.equal(r.body.data.groupId, null, "an empty groupId ungroups");
    await api("PATCH", `/api/v1/links/${l.id}`, { body: { groupId: g.id } });
    assert.equal((await api("GET", `/api/v1/groups/${other.id}`)).body.data.linkCount, 0);
    assert.equal((await api("DELETE", `/api/v1/groups/${other.id}`)).status, 204);
  });

  test("update name and description; null clears the description", async () => {
    let r = await api("PATCH", `/api/v1/groups/${g.id}`, { body: { name: "Renamed" } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.name, "Renamed");
    assert.equal(r.body.data.description, "Q1");
    assert.equal(r.body.data.linkCount, 3);
    r = await api("PATCH", `/api/v1/groups/${g.id}`, { body: { description: null } });
    assert.equal(r.body.data.description, null);
    // Echoing the response back is fine.
    r = await api("PATCH", `/api/v1/groups/${g.id}`, { body: { ...r.body.data, name: "Echoed" } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.name, "Echoed");
    assert.equal((await api("GET", `/api/v1/groups/${g.id}`)).body.data.name, "Echoed");
  });

  test("delete → 204; its links stay, ungrouped, and keep redirecting", async () => {
    const links = (await api("GET", `/api/v1/links?groupId=${g.id}`)).body.data;
    assert.equal(links.length, 3);
    const r = await api("DELETE", `/api/v1/groups/${g.id}`);
    assert.equal(r.status, 204);
    assert.equal(r.text, "");
    expectError(assert, await api("GET", `/api/v1/groups/${g.id}`), 404, "NOT_FOUND");
    expectError(assert, await api("DELETE", `/api/v1/groups/${g.id}`), 404, "NOT_FOUND");
    expectError(assert, await api("PATCH", `/api/v1/groups/${g.id}`, { body: { name: "x" } }), 404, "NOT_FOUND");
    for (const l of links) {
      const got = await api("GET", `/api/v1/links/${l.id}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.data.groupId, null);
      assert.ok(await w.kvRecord(l.domain, l.slug));
    }
    assert.equal((await api("GET", `/api/v1/links?groupId=${g.id}`)).body.meta.total, 0);
  });
});

describe("groups list", () => {
  let ws;
  before(async () => {
    ws = await w.workspace("Many groups", "business");
    for (let i = 1; i <= 5; i++) {
      const r = await w.api("POST", "/api/v1/groups", { key: ws.key, body: { name: `G${i}` } });
      assert.equal(r.status, 201, r.text);
    }
  });

  test("paginated with meta, newest first", async () => {
    const r = await w.api("GET", "/api/v1/groups?perPage=2", { key: ws.key });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.meta, { page: 1, perPage: 2, total: 5, totalPages: 3 });
    assert.deepEqual(r.body.data.map((g) => g.name), ["G5", "G4"]);
    const last = await w.api("GET", "/api/v1/groups?perPage=2&page=3", { key: ws.key });
    assert.deepEqual(last.body.data.map((g) => g.name), ["G1"]);
    const all = await w.api("GET", "/api/v1/groups", { key: ws.key });
    assert.deepEqual(all.body.meta, { page: 1, perPage: 20, total: 5, totalPages: 1 });
  });

  test("bad paging → 400 naming the parameter", async () => {
    expectField(await w.api("GET", "/api/v1/groups?perPage=101", { key: ws.key }), 400, "VALIDATION_ERROR", "perPage");
    expectField(await w.api("GET", "/api/v1/groups?page=zero", { key: ws.key }), 400, "VALIDATION_ERROR", "page");
  });

  test("read-only keys list and read; cannot write", async () => {
    const g = (await api("POST", "/api/v1/groups", { body: { name: "RO" } })).body.data;
    assert.equal((await w.api("GET", "/api/v1/groups", { key: readKey })).status, 200);
    assert.equal((await w.api("GET", `/api/v1/groups/${g.id}`, { key: readKey })).status, 200);
    expectError(assert, await w.api("POST", "/api/v1/groups", { key: readKey, body: { name: "x" } }), 403, "FORBIDDEN");
    expectError(assert, await w.api("PATCH", `/api/v1/groups/${g.id}`, { key: readKey, body: { name: "x" } }), 403, "FORBIDDEN");
    expectError(assert, await w.api("DELETE", `/api/v1/groups/${g.id}`, { key: readKey }), 403, "FORBIDDEN");
    expectError(assert, await w.api("GET", "/api/v1/groups"), 401, "UNAUTHORIZED");
  });
});

describe("groups validation", () => {
  test("bad bodies name their field", async () => {
    const post = (body) => api("POST", "/api/v1/groups", { body });
    expectField(await post({}), 400, "VALIDATION_ERROR", "name");
    expectField(await post({ name: "" }), 400, "VALIDATION_ERROR", "name");
    expectField(await post({ name: "   " }), 400, "VALIDATION_ERROR", "name");
    expectField(await post({ name: null }), 400, "VALIDATION_ERROR", "name");
    expectField(await post({ name: 5 }), 400, "VALIDATION_ERROR", "name");
    expectField(await post({ name: "n".repeat(101) }), 400, "VALIDATION_ERROR", "name");
    expectField(await post({ name: "ok", description: "d".repeat(1001) }), 400, "VALIDATION_ERROR", "description");
    expectField(await post({ name: "ok", description: 5 }), 400, "VALIDATION_ERROR", "description");
    expectField(await post({ name: "ok", color: "red" }), 400, "VALIDATION_ERROR", "color");
    for (const raw of ["{", "[]", "null", ""]) {
      expectField(await api("POST", "/api/v1/groups", { raw, headers: { "Content-Type": "application/json" } }), 400, "VALIDATION_ERROR", "body");
    }
    const big = JSON.stringify({ name: "x", description: "y".repeat(70_000) });
    expectError(assert, await api("POST", "/api/v1/groups", { raw: big, headers: { "Content-Type": "application/json" } }), 413, "PAYLOAD_TOO_LARGE");
  });

  test("PATCH validation", async () => {
    const g = (await api("POST", "/api/v1/groups", { body: { name: "Valid" } })).body.data;
    const patch = (body) => api("PATCH", `/api/v1/groups/${g.id}`, { body });
    expectField(await patch({ name: "" }), 400, "VALIDATION_ERROR", "name");
    expectField(await patch({ name: null }), 400, "VALIDATION_ERROR", "name");
    expectField(await patch({ name: [] }), 400, "VALIDATION_ERROR", "name");
    expectField(await patch({ workspaceId: "ws_x" }), 400, "VALIDATION_ERROR", "workspaceId");
    assert.equal((await api("GET", `/api/v1/groups/${g.id}`)).body.data.name, "Valid");
  });

  test("unknown ids and wrong methods", async () => {
    expectError(assert, await api("GET", "/api/v1/groups/grp_nope"), 404, "NOT_FOUND");
    expectError(assert, await api("PUT", "/api/v1/groups/grp_nope", { body: { name: "x" } }), 405, "METHOD_NOT_ALLOWED");
    expectError(assert, await api("DELETE", "/api/v1/groups"), 405, "METHOD_NOT_ALLOWED");
    expectError(assert, await api("GET", "/api/v1/groups/grp_x/links/extra"), 404, "NOT_FOUND");
  });
});
