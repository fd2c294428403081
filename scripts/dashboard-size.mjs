// Prints the dashboard's first-load size (every JS and CSS file that
// public/dashboard/index.html loads, gzipped) and fails above the budget.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";

const BUDGET = 150 * 1000; // bytes, gzipped (issue #9: at most 150 KB)
const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../public/dashboard");
const html = readFileSync(path.join(dir, "index.html"), "utf8");
const urls = new Set();
for (const m of html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"[^>]*>/g)) {
  if (/\.(m?js|css)$/.test(m[1])) urls.add(m[1]);
}
let total = gzipSync(html, { level: 9 }).length;
const rows = [["index.html", Buffer.byteLength(html), total]];
for (const u of urls) {
  const file = path.join(dir, u.replace(/^\/dashboard\//, ""));
  const raw = readFileSync(file);
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
  rows.push([path.relative(dir, file), raw.length, gz]);
}
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
for (const [name, raw, gz] of rows) console.log(`  ${name.padEnd(40)} ${kb(raw).padStart(10)}  gzip ${kb(gz).padStart(9)}`);
console.log(`dashboard first load (JS + CSS + HTML, gzipped): ${kb(total)} of ${kb(BUDGET)} budget`);
if (total > BUDGET) {
  console.error(`dashboard first load is over budget: ${kb(total)} > ${kb(BUDGET)}`);
  process.exit(1);
}
