// Clicks over time as a uPlot line chart, redrawn in place when the data
// changes (no flicker on auto-refresh), resized with its container, with
// the same numbers as a table for screen readers and keyboard users.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Point {
  date: string;
  clicks: number;
}

/** "dark" or "light", following the system while the page is open. */
function useScheme(): string {
  const q = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
  const [dark, setDark] = useState(!!q?.matches);
  useEffect(() => {
    if (!q) return;
    const on = () => setDark(q.matches);
    q.addEventListener("change", on);
    return () => q.removeEventListener("change", on);
  }, []);
  return dark ? "dark" : "light";
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function ClicksChart({ points, interval, label }: { points: Point[]; interval: "hour" | "day"; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const scheme = useScheme();
  const xs = points.map((p) => Date.parse(p.date) / 1000);
  const ys = points.map((p) => p.clicks);
  const total = ys.reduce((a, b) => a + b, 0);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const accent = cssVar("--accent", "#1d4ed8");
    const text = cssVar("--muted", "#4f5663");
    const grid = cssVar("--border", "#c9ced6");
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: 240,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
      axes: [
        interval === "hour"
          ? axis
          : { ...axis, space: 60, incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400], values: "{D} {MMM}" },
        { ...axis, size: 44, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? String(v) : "")) },
      ],
      series: [
        {},
        { label: "Clicks", stroke: accent, width: 2, fill: accent + "22", points: { show: points.length <= 60 } },
      ],
    };
    plot.current = new uPlot(opts, [xs, ys], el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(240, el.clientWidth), height: 240 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [interval, scheme]);

  useEffect(() => {
    plot.current?.setData([xs, ys]);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [JSON.stringify(points)]);

  const fmt = (d: string) =>
    new Date(d).toLocaleString(undefined, interval === "hour" ? { dateStyle: "short", timeStyle: "short" } : { dateStyle: "medium" });
  const nonZero = points.filter((p) => p.clicks > 0);
  return (
    <figure class="chart">
      <div
        ref={box}
        class="chart-canvas"
        role="img"
        aria-label={`${label}: ${total} clicks in ${points.length} ${interval === "hour" ? "hours" : "days"}`}
        data-total={total}
      />
      <figcaption>
        <details>
          <summary>Show the numbers as a table</summary>
          {nonZero.length === 0 ? (
            <p class="muted">No clicks in this period.</p>
          ) : (
            <table>
              <caption class="sr-only">{label}</caption>
              <thead>
                <tr>
                  <th scope="col">{interval === "hour" ? "Hour" : "Day"}</th>
                  <th scope="col">Clicks</th>
                </tr>
              </thead>
              <tbody>
                {nonZero.map((p) => (
                  <tr key={p.date}>
                    <td>{fmt(p.date)}</td>
                    <td>{p.clicks}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </details>
      </figcaption>
    </figure>
  );
}
