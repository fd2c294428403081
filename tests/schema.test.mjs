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
    d1Databases: ["MIGRATED", "SCHEMA", "OLD"],
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

// A database created from schema.sql before migrations existed is what
// 0001_initial describes (all IF NOT EXISTS, so it only records itself
// there); `wrangler d1 migrations apply` then runs the later migrations,
// whose ALTER TABLEs cannot be IF NOT EXISTS. Such a database must end up
// exactly as schema.sql describes.
test("a database from the pre-migration schema.sql upgrades in place", async () => {
  const schema = await mf.getD1Database("SCHEMA");
  const expected = await describe(schema);
  const old = await mf.getD1Database("OLD");
  const [initial] = migrationStatements();
  assert.equal(initial.name, "0001_initial.sql");
  for (const stmt of initial.statements) await old.prepare(stmt).run();
  await applyMigrations(old);
  assert.deepEqual(await describe(old), expected);
});
