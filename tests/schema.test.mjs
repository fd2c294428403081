// schema.sql (the readable whole schema) and migrations/ (what databases
// get) must describe the same tables, columns and indexes: both applied to
// fresh D1s in Miniflare, then compared through sqlite_master and pragmas.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { unstable_splitSqlQuery } from "wrangler";
import { applyMigrations, migrationStatements, root } from "./helpers.mjs";

const mf = new Miniflare(
  convertV4MiniflareOptions({
    modules: true,
    script: "export default { fetch() { return new Response(''); } }",
    compatibilityDate: "2025-09-01",
    d1Databases: ["MIGRATED", "SCHEMA", "UPGRADED"],
  }),
);
after(() => mf.dispose());

/** Tables (columns) and indexes (table, uniqueness, columns, partial condition). */
async function describe(db) {
  const { results: objects } = await db
    .prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('table', 'index') " +
        "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' ORDER BY type, name",
    )
    .all();
  const out = {};
  for (const o of objects) {
    if (o.type === "table") {
      const { results } = await db.prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)").bind(o.name).all();
      out[`table ${o.name}`] = results;
    } else {
      const { results } = await db.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno").bind(o.name).all();
      const where = o.sql?.match(/\bWHERE\b(.*)$/is)?.[1].replace(/\s+/g, " ").trim() ?? null;
      out[`index ${o.name}`] = { table: o.tbl_name, unique: /^CREATE UNIQUE/i.test(o.sql ?? ""), columns: results.map((r) => r.name), where };
    }
  }
  return out;
}

test("migrations/ and schema.sql give the same tables, columns and indexes", async () => {
  const migrated = await mf.getD1Database("MIGRATED");
  const schema = await mf.getD1Database("SCHEMA");
  await applyMigrations(migrated);
  for (const stmt of unstable_splitSqlQuery(readFileSync(path.join(root, "schema.sql"), "utf8"))) {
    await schema.prepare(stmt).run();
  }
  const a = await describe(migrated);
  const b = await describe(schema);
  assert.ok(Object.keys(b).length > 20, `schema.sql described: ${Object.keys(b)}`);
  assert.deepEqual(a, b);
});

test("a database at the first migration upgrades in place to schema.sql, and a second run changes nothing", async () => {
  // Later migrations ALTER tables, which SQLite cannot repeat: like
  // wrangler, the runner applies each file once (d1_migrations).
  const db = await mf.getD1Database("UPGRADED");
  const [first] = migrationStatements();
  await applyMigrations(db, { upTo: first.name });
  await db.prepare("INSERT INTO workspaces (id, name, plan, created_at) VALUES ('ws_old', 'Old', 'free', 0)").run();
  await db
    .prepare(
      "INSERT INTO webhooks (id, workspace_id, name, url, events, secret, is_active, created_at, updated_at) " +
        "VALUES ('wh_old', 'ws_old', 'Old', 'https://a.example/', '[\"*\"]', 'whsec_x', 1, 0, 0)",
    )
    .run();
  await applyMigrations(db);
  const upgraded = await describe(db);
  assert.deepEqual(upgraded, await describe(await mf.getD1Database("SCHEMA")));
  await applyMigrations(db);
  assert.deepEqual(await describe(db), upgraded);
  assert.equal((await db.prepare("SELECT name FROM workspaces WHERE id = 'ws_old'").first()).name, "Old", "rows survive");
  const hook = await db.prepare("SELECT secret, failure_streak, disabled_reason FROM webhooks WHERE id = 'wh_old'").first();
  assert.deepEqual(hook, { secret: "whsec_x", failure_streak: 0, disabled_reason: null });
});
