#!/usr/bin/env node
// The traffic ratios docs/SCALE.md uses to price designs that write rows per
// link and time interval instead of per click: with the cost benchmark's own
// mix (scripts/bench-cost.mjs: Zipf-like link popularity, repeat visitors,
// ~5 % bots), spread evenly over a day, how many distinct (link, minute),
// (link, hour) and (link, day) pairs there are per click, and how many
// (link, hour, dimension value) keys today's hourly rollup would touch.
// A model, not a measurement: `node scripts/cost-model.mjs`.
import { traffic } from "./bench-cost.mjs";

const HOUR = 3_600_000;
const cases = [
  [400, 100_000], [5_000, 100_000], [50_000, 100_000],
  [400, 1_000_000], [5_000, 1_000_000],
];
console.log("| links | clicks/day | (link, minute) | (link, hour) | (link, day) | hourly rollup keys (today's layout) |");
console.log("|---|---|---|---|---|---|");
for (const [L, perDay] of cases) {
  const links = Array.from({ length: L }, (_, i) => ({ id: `l${i}` }));
  const clicks = traffic(links, perDay, 13);
  const lm = new Set(), lh = new Set(), ld = new Set(), keys = new Set();
  clicks.forEach((c, i) => {
    if (c.bot) return;
    const ts = Math.floor((i / clicks.length) * 86_400_000);
    const h = Math.floor(ts / HOUR), m = Math.floor(ts / 60_000);
    lm.add(`${c.link.id}|${m}`); lh.add(`${c.link.id}|${h}`); ld.add(c.link.id);
    for (const [d, v] of [["total", ""], ["country", c.country], ["ua", c.ua], ["referrer", c.referer], ["source", c.qr]]) {
      keys.add(`${c.link.id}|${h}|${d}|${v}`);
    }
  });
  const n = clicks.length;
  const f = (x) => (x / n).toFixed(4);
  console.log(`| ${L.toLocaleString("en-US")} | ${perDay.toLocaleString("en-US")} | ${f(lm.size)} | ${f(lh.size)} | ${f(ld.size)} | ${f(keys.size)} |`);
}
