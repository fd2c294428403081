// CSV import and export against the built wasm worker in Miniflare: a
// generated 2,000-row CSV and a Bitly export sample (tests/fixtures/) with
// duplicates and bad rows, processed through the JOBS queue until "done"
// with the right counts and error CSV; an import interrupted after its
// first D1 transaction (the `IMPORT_FAULT_POINT` hook of test builds) that
// resumes without creating a link twice; the quota; the export's
// round-trip into another workspace and its formula guard; bad uploads,
// each refused with nothing written.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startWorker, expectError, root, ADMIN_TOKEN } from "./helpers.mjs";

const DOMAIN = "localhost:8787";

let w;
let key;

/** RFC 4180, as a spreadsheet reads it. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\n") row.push(field), rows.push(row), (row = []), (field = "");
    else if (c !== "\r") field += c;
  }
  if (field || row.length) row.push(field), rows.push(row);
  const [header, ...data] = rows;
  return data.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

async function upload(csv, { k = key, worker = w, type = "text/csv" } = {}) {
  return worker.api("POST", "/api/v1/links/import", { key: k, raw: csv, headers: type ? { "Content-Type": type } : {} });
}

/** Polls the import until it is done or failed (the queue runs it). */
async function finished(id, { k = key, worker = w, ms = 120_000 } = {}) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await worker.api("GET", `/api/v1/imports/${id}`, { key: k });
    assert.equal(r.status, 200, r.text);
    if (["done", "failed"].includes(r.body.data.status) || Date.now() > end) return r.body.data;
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function errorsCsv(id, { k = key, worker = w } = {}) {
  const r = await worker.fetch(`/api/v1/imports/${id}/errors.csv`, { headers: { Authorization: `Bearer ${k}` } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^text\/csv/);
  return parseCsv(await r.text());
}

async function n(sql, ...args) {
  return (await w.db.prepare(sql).bind(...args).first()).n;
}

before(async () => {
  w = await startWorker();
  ({ key } = await w.workspace("Importer", "business"));
});

after(async () => {
  await w?.close();
});

describe("import", () => {
  test("a generated 2,000-row CSV: created, duplicates skipped, bad rows failed, error CSV", async () => {
    const lines = ["destinationUrl,slug,title,tags,expiresAt"];
    const dest = (i) => `https://gen.example.com/p/${i}`;
    const expectFailed = [];
    const expectSkipped = [];
    for (let i = 0; i < 2000; i++) {
      if (i % 100 === 99) {
        lines.push(`not-a-url-${i},,Bad ${i},,`);
        expectFailed.push(i + 2);
      } else if (i % 50 === 25) {
        lines.push(`${dest(i - 1)},,Again ${i},,`);
        expectSkipped.push(i + 2);
      } else {
        const slug = i % 2 === 0 ? `gen-${i}` : "";
        lines.push(`${dest(i)},${slug},Row ${i},"a, b",2031-01-01T00:00:00Z`);
      }
    }
    const r = await upload(lines.join("\r\n") + "\r\n");
    assert.equal(r.status, 202, r.text);
    assert.match(r.body.data.importId, /^imp_/);
    assert.equal(r.body.data.totalRows, 2000);
    assert.equal(r.headers.get("location"), `/api/v1/imports/${r.body.data.importId}`);
    const d = await finished(r.body.data.importId);
    assert.equal(d.status, "done", JSON.stringify(d));
    assert.deepEqual(
      { created: d.created, skipped: d.skipped, failed: d.failed, processedRows: d.processedRows },
      { created: 1940, skipped: 40, failed: 20, processedRows: 2000 },
    );
    assert.equal(await n("SELECT COUNT(*) AS n FROM links WHERE destination_url LIKE 'https://gen.example.com/%'"), 1940);
    assert.equal(await n("SELECT COUNT(DISTINCT destination_url) AS n FROM links WHERE destination_url LIKE 'https://gen.example.com/%'"), 1940);
    const rec = await w.kvRecord(DOMAIN, "gen-0");
    assert.equal(rec.url, dest(0));
    const odd = await w.db.prepare("SELECT slug, title, tags, expires_at FROM links WHERE destination_url = ?1").bind(dest(1)).first();
    assert.match(odd.slug, /^[0-9A-Za-z]{7}$/);
    assert.equal(odd.title, "Row 1");
    assert.deepEqual(JSON.parse(odd.tags), ["a", "b"]);
    assert.equal(odd.expires_at, Date.parse("2031-01-01T00:00:00Z"));
    assert.equal((await w.kvRecord(DOMAIN, odd.slug)).url, dest(1));
    const errs = await errorsCsv(r.body.data.importId);
    assert.deepEqual(errs.filter((e) => e.outcome === "failed").map((e) => Number(e.row)), expectFailed);
    assert.deepEqual(errs.filter((e) => e.outcome === "skipped").map((e) => Number(e.row)), expectSkipped);
    const bad = errs.find((e) => e.row === "101");
    assert.equal(bad.code, "INVALID_URL");
    assert.match(bad.message, /destinationUrl/);
    assert.equal(bad.destinationUrl, "not-a-url-99");
    const dup = errs.find((e) => e.row === "27");
    assert.equal(dup.code, "DUPLICATE");
    assert.equal(dup.slug, "gen-24");
    assert.equal(await n("SELECT COUNT(*) AS n FROM import_chunks"), 0, "processed chunks are dropped");
    assert.equal(await n("SELECT COUNT(*) AS n FROM kv_pending"), 0);

    // The export pages through all of them (500 a read).
    const ex = await w.fetch("/api/v1/links/export.csv", { headers: { Authorization: `Bearer ${key}` } });
    const exported = parseCsv(await ex.text());
    assert.equal(exported.length, await n("SELECT COUNT(*) AS n FROM links WHERE workspace_id = (SELECT workspace_id FROM imports WHERE id = ?1)", r.body.data.importId));
    assert.equal(new Set(exported.map((x) => x.id)).size, exported.length, "no link twice across pages");
    assert.equal(exported.find((x) => x.slug === "gen-0").destinationUrl, dest(0));

    // The same file again: every row is a duplicate now (or still bad).
    const again = await upload(lines.join("\n"));
    const d2 = await finished(again.body.data.importId);
    assert.deepEqual([d2.created, d2.skipped, d2.failed], [0, 1980, 20]);
  });

  test("a Bitly export as it is: long_url, custom back-halves, tags, archived", async () => {
    // Taken here already by another destination: that row gets a new slug.
    const o = await w.workspace("Squatter", "business");
    await w.api("POST", "/api/v1/links", { key: o.key, body: { destinationUrl: "https://other.example/", slug: "taken-here" } });
    const csv = readFileSync(path.join(root, "tests/fixtures/bitly-export.csv"), "utf8");
    const r = await upload(csv);
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.body.data.ignoredColumns, []);
    const d = await finished(r.body.data.importId);
    assert.deepEqual([d.status, d.created, d.skipped, d.failed], ["done", 5, 1, 2]);
    const get = (url) => w.db.prepare("SELECT * FROM links WHERE destination_url = ?1").bind(url).all().then((x) => x.results);
    const [sale] = await get("https://www.example.com/spring-sale?utm_source=bitly");
    assert.equal(sale.slug, "spring-sale-24", "the custom back-half is kept");
    assert.equal(sale.title, "Spring Sale, 20% off");
    assert.deepEqual(JSON.parse(sale.tags), ["spring", "sale"]);
    assert.equal((await get("https://www.example.com/blog/how-we-ship"))[0].slug, "3Lm2PqR", "the bitlink's back-half");
    const [careers] = await get("https://www.example.com/careers");
    assert.equal(careers.title, 'Careers at "Example"');
    assert.equal(careers.archived, 1);
    const [docs] = await get("https://www.example.com/docs");
    assert.notEqual(docs.slug, "taken-here");
    assert.deepEqual(JSON.parse(docs.tags), ["docs", "help"]);
    assert.equal((await get("https://www.example.com/pricing"))[0].slug, "pricing-page");
    assert.equal((await w.fetch("/spring-sale-24")).headers.get("location"), "https://www.example.com/spring-sale?utm_source=bitly");
    const errs = await errorsCsv(r.body.data.importId);
    assert.deepEqual(
      errs.map((e) => [e.row, e.outcome, e.code]),
      [
        ["5", "skipped", "DUPLICATE"],
        ["6", "failed", "INVALID_URL"],
        ["9", "failed", "VALIDATION_ERROR"],
      ],
    );
    assert.match(errs[2].message, /destinationUrl: is required/);
  });

  test("the plan quota: rows beyond it fail, the rest are created", async () => {
    const r0 = await w.api("POST", "/api/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "Tiny", plan: "business", linkQuota: 10 } });
    const k = r0.body.data.apiKey.key;
    await w.api("POST", "/api/v1/links", { key: k, body: { destinationUrl: "https://quota.example/pre" } });
    const csv = ["url", ...Array.from({ length: 15 }, (_, i) => `https://quota.example/${i}`)].join("\n");
    const r = await upload(csv, { k });
    const d = await finished(r.body.data.importId, { k });
    assert.deepEqual([d.status, d.created, d.skipped, d.failed], ["done", 9, 0, 6]);
    assert.equal(await n("SELECT COUNT(*) AS n FROM links WHERE workspace_id = ?1", r0.body.data.workspace.id), 10);
    const errs = await errorsCsv(r.body.data.importId, { k });
    assert.deepEqual(errs.map((e) => e.code), Array(6).fill("LIMIT_REACHED"));
    assert.deepEqual(errs.map((e) => e.row), ["11", "12", "13", "14", "15", "16"]);
  });

  test("another workspace's import is not found", async () => {
    const r = await upload("url\nhttps://mine.example/\n");
    const o = await w.workspace("Nosy", "business");
    expectError(assert, await w.api("GET", `/api/v1/imports/${r.body.data.importId}`, { key: o.key }), 404, "NOT_FOUND");
    expectError(assert, await w.api("GET", `/api/v1/imports/${r.body.data.importId}/errors.csv`, { key: o.key }), 404, "NOT_FOUND");
    await finished(r.body.data.importId);
  });

  test("bad uploads are refused, naming the problem, with nothing written", async () => {
    const imports = await n("SELECT COUNT(*) AS n FROM imports");
    const links = await n("SELECT COUNT(*) AS n FROM links");
    const cases = [
      [await upload("https://a.example/\nhttps://b.example/\n"), 400, "VALIDATION_ERROR", "header"],
      [await upload("title,slug\nx,y\n"), 400, "VALIDATION_ERROR", "header"],
      [await upload(""), 400, "VALIDATION_ERROR", "body"],
      [await upload("url\n"), 400, "VALIDATION_ERROR", "body"],
      [await upload("url\n\"https://a.example/\n"), 400, "VALIDATION_ERROR", "body"],
      [await upload("url,long_url\nhttps://a.example/,https://b.example/\n"), 400, "VALIDATION_ERROR", "header"],
      [await upload("url\n" + "https://a.example/\n".repeat(10_001)), 400, "VALIDATION_ERROR", "body"],
      [await upload("url\nhttps://a.example/\n", { type: "application/json" }), 415, "UNSUPPORTED_MEDIA_TYPE"],
      [await upload("url\nhttps://a.example/\n", { type: null }), 415, "UNSUPPORTED_MEDIA_TYPE"],
      [await upload("url\n" + ("https://b.example/" + "y".repeat(2000) + "\n").repeat(2700)), 413, "PAYLOAD_TOO_LARGE"],
    ];
    for (const [r, status, code, field] of cases) {
      const e = expectError(assert, r, status, code);
      if (field) assert.equal(e.field, field, r.text);
    }
    assert.match(cases[6][0].body.error.message, /at most 10000 data rows/);
    assert.match(cases[7][0].body.error.message, /text\/csv/);
    assert.equal(await n("SELECT COUNT(*) AS n FROM imports"), imports);
    assert.equal(await n("SELECT COUNT(*) AS n FROM links"), links);
  });
});

describe("an import interrupted midway", () => {
  let f;
  let fkey;
  before(async () => {
    f = await startWorker({ vars: { IMPORT_FAULT_POINT: "after-first-batch" } });
    ({ key: fkey } = await f.workspace("Crashy", "business"));
  });
  after(async () => f?.close());

  test("resumes through the queue retry and creates no link twice", async () => {
    const csv = ["destinationUrl,title", ...Array.from({ length: 250 }, (_, i) => `https://crash.example/${i},T${i}`)].join("\n");
    const r = await upload(csv, { k: fkey, worker: f });
    assert.equal(r.status, 202, r.text);
    const id = r.body.data.importId;
    const d = await finished(id, { k: fkey, worker: f });
    assert.deepEqual([d.status, d.created, d.skipped, d.failed], ["done", 250, 0, 0]);
    // The fault fired (after the first 25 rows were committed) ...
    assert.equal(await f.kv.get(`test:fault:import:${id}`), "1");
    // ... and the retry created each link once, with its KV record.
    const q = (sql) => f.db.prepare(sql).first();
    assert.equal((await q("SELECT COUNT(*) AS n FROM links")).n, 250);
    assert.equal((await q("SELECT COUNT(DISTINCT destination_url) AS n FROM links")).n, 250);
    assert.equal((await q("SELECT COUNT(*) AS n FROM import_rows WHERE outcome = 'created'")).n, 250);
    assert.equal((await q("SELECT COUNT(*) AS n FROM kv_pending")).n, 0);
    const { results } = await f.db.prepare("SELECT slug, destination_url FROM links").all();
    for (const l of results) assert.equal((await f.kvRecord(DOMAIN, l.slug))?.url, l.destination_url, l.slug);
  });
});

describe("an import whose every run fails", () => {
  let f;
  before(async () => {
    f = await startWorker({ vars: { IMPORT_FAULT_POINT: "always" } });
  });
  after(async () => f?.close());

  test("ends failed after 10 runs in a row, with the error, and nothing written", async () => {
    const { key: k } = await f.workspace("Doomed", "business");
    const r = await upload("url\nhttps://doomed.example/\n", { k, worker: f });
    assert.equal(r.status, 202, r.text);
    const d = await finished(r.body.data.importId, { k, worker: f });
    assert.equal(d.status, "failed", JSON.stringify(d));
    assert.equal(d.error, "Internal error");
    assert.deepEqual([d.created, d.skipped, d.failed, d.processedRows], [0, 0, 0, 0]);
    assert.equal((await f.db.prepare("SELECT failures AS n FROM imports").first()).n, 10);
    assert.equal((await f.db.prepare("SELECT COUNT(*) AS n FROM links").first()).n, 0);
  });
});

describe("export", () => {
  test("streams every link with settings and clicks, guards formulas, and round-trips through import", async () => {
    const a = await w.workspace("Exporter", "business");
    const b = await w.workspace("Receiver", "business");
    const made = await w.api("POST", "/api/v1/links/bulk", {
      key: a.key,
      body: [
        { destinationUrl: "https://rt.example/1", slug: "rt-one", title: "=SUM(A1:A2)", tags: ["x", "@y"], description: "plain, with comma", clickLimit: 50 },
        { destinationUrl: "https://rt.example/2?a=1&b=2", slug: "rt-two", title: "Say \"hi\"", expiresAt: "2032-05-01T00:00:00Z", utmSource: "news", utmCampaign: "-spring", archived: true },
        { destinationUrl: "https://rt.example/3", slug: "rt-three", geoTargets: { DE: "https://rt.example/de" }, deviceTargets: { mobile: "https://m.rt.example/" }, suspended: true, escapeFromWechat: true },
      ],
    });
    assert.equal(made.status, 200, made.text);
    const originals = made.body.data.map((e) => e.link);
    // One counted click, read back as the link view shows it.
    const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
    assert.equal((await w.fetch("/rt-one", { headers: { "User-Agent": UA } })).status, 302);
    for (let i = 0; i < 100; i++) {
      const l = await w.api("GET", `/api/v1/links/${originals[0].id}`, { key: a.key });
      if (l.body.data.clickCount === 1) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const res = await w.fetch("/api/v1/links/export.csv", { headers: { Authorization: `Bearer ${a.key}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^text\/csv/);
    assert.match(res.headers.get("content-disposition"), /attachment/);
    const text = await res.text();
    // Oldest first; links created together (one bulk request) by id.
    const rows = parseCsv(text).sort((x, y) => ["rt-one", "rt-two", "rt-three"].indexOf(x.slug) - ["rt-one", "rt-two", "rt-three"].indexOf(y.slug));
    assert.deepEqual(rows.map((r) => r.slug), ["rt-one", "rt-two", "rt-three"]);
    assert.equal(rows[0].clickCount, "1");
    assert.equal(rows[0].title, "'=SUM(A1:A2)", "the formula guard");
    assert.equal(rows[0].tags, "x|@y", "only a cell's start is read as a formula");
    assert.equal(rows[1].utmCampaign, "'-spring");
    for (const r of rows) for (const v of Object.values(r)) assert.doesNotMatch(v, /^[=+\-@\t\r]/, `unguarded ${v}`);
    assert.equal(rows[0].shortUrl, `http://${DOMAIN}/rt-one`);
    assert.equal(rows[2].suspended, "true");

    // Round trip: the links move to workspace B (slugs are per host, so A's go first).
    const del = await w.api("DELETE", "/api/v1/links/bulk", { key: a.key, body: { ids: originals.map((l) => l.id) } });
    assert.equal(del.status, 200);
    const r = await upload(text, { k: b.key });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.body.data.ignoredColumns, []);
    const d = await finished(r.body.data.importId, { k: b.key });
    assert.deepEqual([d.status, d.created, d.skipped, d.failed], ["done", 3, 0, 0]);
    const list = await w.api("GET", "/api/v1/links?perPage=100", { key: b.key });
    const bySlug = Object.fromEntries(list.body.data.map((l) => [l.slug, l]));
    const SAME = ["slug", "domain", "destinationUrl", "title", "description", "tags", "expiresAt", "clickLimit", "geoTargets", "deviceTargets", "utmSource", "utmCampaign", "archived", "suspended", "escapeFromWechat", "hasPassword", "groupId"];
    for (const o of originals) {
      const got = bySlug[o.slug];
      assert.ok(got, o.slug);
      for (const k of SAME) assert.deepEqual(got[k], o[k], `${o.slug}.${k}`);
      assert.equal((await w.kvRecord(DOMAIN, o.slug)).ws, b.workspace.id, "the record is B's");
    }
    assert.equal((await w.fetch("/rt-two")).headers.get("location")?.startsWith("https://rt.example/2?a=1&b=2"), true);
  });

  test("an empty workspace exports the header only", async () => {
    const e = await w.workspace("Empty", "business");
    const res = await w.fetch("/api/v1/links/export.csv", { headers: { Authorization: `Bearer ${e.key}` } });
    const text = await res.text();
    assert.equal(text.split("\r\n")[0].split(",")[0], "id");
    assert.equal(text.trim().split("\r\n").length, 1);
  });
});
