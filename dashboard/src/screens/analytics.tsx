// Analytics for the workspace (#/analytics) and for one link
// (#/analytics/<id>): clicks over time (uPlot), breakdowns, unique
// visitors, a period picker (24h, 7d, 30d, 90d, all, custom), hour/day
// interval, CSV export, and a refresh every 5 s while the tab is visible.
import { useState } from "preact/hooks";
import { api, download, list, rawFetch, withQuery } from "../api";
import { ClicksChart } from "../chart";
import { countryName } from "../countries";
import type { Breakdown, ClickStats, Link, LinkStats, WorkspaceStats } from "../types";
import type { ComponentChildren } from "preact";
import {
  Button,
  CopyButton,
  Empty,
  ErrorBox,
  Field,
  Loading,
  errorMessage,
  useApp,
  useAsync,
  useDebounced,
  useVisibleInterval,
} from "../ui";
import type { ScreenProps } from "./index";
import { LinkStates } from "./links";

const REFRESH_MS = 5000;
type PeriodKey = "24h" | "7d" | "30d" | "90d" | "all" | "custom";
const PERIODS: Array<[PeriodKey, string]> = [
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["90d", "Last 90 days"],
  ["all", "All time"],
  ["custom", "Custom range"],
];

interface PeriodState {
  period: PeriodKey;
  from: string;
  to: string;
  interval: "" | "hour" | "day";
}

function query(p: PeriodState): Record<string, string | undefined> {
  if (p.period === "custom") {
    return {
      from: p.from ? new Date(p.from + "T00:00:00").toISOString() : undefined,
      // The end date is included: the window ends at the next midnight.
      to: p.to ? new Date(new Date(p.to + "T00:00:00").getTime() + 86400000).toISOString() : undefined,
      interval: p.interval || undefined,
    };
  }
  return { period: p.period, interval: p.interval || undefined };
}

export function AnalyticsScreen({ params }: ScreenProps) {
  const id = params.rest;
  return id ? <LinkAnalytics id={decodeURIComponent(id)} /> : <WorkspaceAnalytics />;
}

function PeriodPicker({ value, onChange }: { value: PeriodState; onChange: (p: PeriodState) => void }) {
  const today = new Date().toISOString().slice(0, 10);
  return (
    <form class="card period" aria-label="Choose the period" onSubmit={(e) => e.preventDefault()}>
      <Field label="Period">
        {(id) => (
          <select
            id={id}
            value={value.period}
            onChange={(e) => {
              const period = e.currentTarget.value as PeriodKey;
              const back = (days: number) => new Date(Date.now() - days * 86400000).toISOString().slice(0, 10);
              onChange({
                ...value,
                period,
                from: period === "custom" && !value.from ? back(7) : value.from,
                to: period === "custom" && !value.to ? today : value.to,
              });
            }}
          >
            {PERIODS.map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        )}
      </Field>
      {value.period === "custom" && (
        <>
          <Field label="From (date)">
            {(id) => (
              <input id={id} type="date" max={value.to || today} value={value.from} onInput={(e) => onChange({ ...value, from: e.currentTarget.value })} />
            )}
          </Field>
          <Field label="To (date, included)">
            {(id) => (
              <input id={id} type="date" min={value.from} value={value.to} onInput={(e) => onChange({ ...value, to: e.currentTarget.value })} />
            )}
          </Field>
        </>
      )}
      <Field label="Group by">
        {(id) => (
          <select id={id} value={value.interval} onChange={(e) => onChange({ ...value, interval: e.currentTarget.value as PeriodState["interval"] })}>
            <option value="">Automatic</option>
            <option value="hour">Hour</option>
            <option value="day">Day</option>
          </select>
        )}
      </Field>
    </form>
  );
}

/** Reloads `reload` every few seconds while visible; shows when it last did. */
function useLive(reload: () => void, loadedAt: number | null) {
  useVisibleInterval(reload, REFRESH_MS);
  return (
    <p class="live" aria-live="off">
      Updates every {REFRESH_MS / 1000} s while this tab is visible
      {loadedAt ? ` · last updated ${new Date(loadedAt).toLocaleTimeString()}` : ""}
    </p>
  );
}

function Stat({ n, label, testid }: { n: number | string; label: string; testid?: string }) {
  return (
    <div class="stat">
      <div class="n" data-testid={testid}>
        {typeof n === "number" ? n.toLocaleString() : n}
      </div>
      <div class="l">{label}</div>
    </div>
  );
}

const LABELS: Record<string, (v: string) => string> = {
  country: (v) => (v === "unknown" ? "Unknown" : `${countryName(v)} (${v})`),
  source: (v) => (v === "qr" ? "QR code scans" : v === "link" ? "Link clicks" : v),
};

/** "A → example.com/a (50%)" while the test runs; the letter alone after it ended. */
function variantLabel(letter: string, variants: Link["testVariants"]): string {
  const v = variants?.[letter.charCodeAt(0) - 65];
  return v ? `${letter} → ${v.url.replace(/^https?:\/\//, "")} (${v.weight}%)` : letter;
}

function BreakdownTable({
  title,
  rows,
  keyName,
  total,
  labelOf,
}: {
  title: string;
  rows: Breakdown;
  keyName: string;
  total: number;
  labelOf?: (v: string) => string;
}) {
  const label = labelOf ?? LABELS[keyName] ?? ((v: string) => v);
  return (
    <section class="card" aria-label={title}>
      <h3>{title}</h3>
      {rows.length === 0 ? (
        <p class="muted">No clicks yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{title.replace(/^By (\w)/, (_m, c: string) => c.toUpperCase())}</th>
              <th scope="col" class="num">
                Clicks
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const v = String(r[keyName]);
              const pct = total ? Math.round((r.clicks / total) * 100) : 0;
              return (
                <tr key={v}>
                  <td>
                    {label(v)}
                    <span class="bar" style={{ width: `${Math.max(2, pct)}%` }} aria-hidden="true" />
                  </td>
                  <td class="num">
                    {r.clicks} <span class="muted">({pct}%)</span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * The numbers, chart and breakdown cards of a link's or the workspace's
 * stats (the same fields); `stats` adds numbers, `cards` more cards.
 */
function StatsView({ s, chartLabel, stats, cards }: { s: ClickStats; chartLabel: string; stats?: ComponentChildren; cards?: ComponentChildren }) {
  return (
    <>
      <div class="stats">
        <Stat n={s.totalClicks} label="Clicks in this period" testid="total-clicks" />
        <Stat n={s.uniqueVisitors} label="Unique visitors" testid="unique-visitors" />
        {stats}
        <Stat n={s.bySource.find((r) => r.source === "qr")?.clicks ?? 0} label="QR code scans" />
      </div>
      <h2>Clicks over time</h2>
      <ClicksChart points={s.overTime} interval={s.period.interval} label={chartLabel} />
      <div class="breakdowns">
        {cards}
        <BreakdownTable title="By country" rows={s.byCountry} keyName="country" total={s.totalClicks} />
        <BreakdownTable title="By device" rows={s.byDevice} keyName="device" total={s.totalClicks} />
        <BreakdownTable title="By browser" rows={s.byBrowser} keyName="browser" total={s.totalClicks} />
        <BreakdownTable title="By OS" rows={s.byOs} keyName="os" total={s.totalClicks} />
        <BreakdownTable title="By referrer" rows={s.byReferrer} keyName="referrer" total={s.totalClicks} />
        <BreakdownTable title="By source" rows={s.bySource} keyName="source" total={s.totalClicks} />
      </div>
    </>
  );
}

function LinkAnalytics({ id }: { id: string }) {
  const { toast } = useApp();
  const [p, setP] = useState<PeriodState>({ period: "7d", from: "", to: "", interval: "" });
  const link = useAsync(() => api<Link>("GET", `/api/v1/links/${encodeURIComponent(id)}`), [id]);
  const [loadedAt, setLoadedAt] = useState<number | null>(null);
  const stats = useAsync(async () => {
    const s = await api<LinkStats>("GET", withQuery(`/api/v1/links/${encodeURIComponent(id)}/stats`, query(p)));
    setLoadedAt(Date.now());
    return s;
  }, [id, JSON.stringify(p)]);
  const live = useLive(() => (stats.reload(), link.reload()), loadedAt);
  const [exporting, setExporting] = useState(false);

  const exportCsv = async () => {
    setExporting(true);
    try {
      const q = query(p);
      delete q.interval;
      const res = await rawFetch("GET", withQuery(`/api/v1/links/${encodeURIComponent(id)}/clicks.csv`, q));
      download(await res.blob(), `clicks-${link.data?.slug ?? id}.csv`);
      toast("CSV downloaded.");
    } catch (e) {
      toast(errorMessage(e), "error");
    } finally {
      setExporting(false);
    }
  };

  const s = stats.data;
  return (
    <section aria-labelledby="an-h">
      <div class="page-head">
        <h1 id="an-h">Analytics{link.data ? `: ${link.data.shortUrl.replace(/^https?:\/\//, "")}` : ""}</h1>
        <div class="actions">
          <Button onClick={exportCsv} busy={exporting}>
            Export clicks (CSV)
          </Button>
          <a class="btn btn-plain" href="#/analytics">
            Workspace analytics
          </a>
        </div>
      </div>
      <ErrorBox error={link.error} />
      {link.data && (
        <div class="card">
          <span class="short">{link.data.shortUrl}</span> <CopyButton text={link.data.shortUrl} label="Copy short URL" />{" "}
          <a class="btn btn-plain" href={`#/links/edit/${encodeURIComponent(link.data.id)}`}>
            Edit link
          </a>
          <div class="dest">→ {link.data.destinationUrl}</div>
          <LinkStates link={link.data} />
        </div>
      )}
      <PeriodPicker value={p} onChange={setP} />
      {live}
      <ErrorBox error={stats.error} />
      {!s ? (
        <Loading label="Loading analytics…" />
      ) : (
        <StatsView
          s={s}
          chartLabel="Clicks over time"
          stats={<Stat n={link.data?.clickCount ?? "—"} label="Clicks all time" />}
          cards={
            s.byVariant && s.byVariant.length > 0 ? (
              <BreakdownTable
                title="By A/B variant"
                rows={s.byVariant}
                keyName="variant"
                total={s.totalClicks}
                labelOf={(v) => variantLabel(v, link.data?.testVariants)}
              />
            ) : undefined
          }
        />
      )}
    </section>
  );
}

function WorkspaceAnalytics() {
  const [p, setP] = useState<PeriodState>({ period: "7d", from: "", to: "", interval: "" });
  const [loadedAt, setLoadedAt] = useState<number | null>(null);
  const stats = useAsync(async () => {
    const s = await api<WorkspaceStats>("GET", withQuery("/api/v1/stats", { ...query(p), limit: 10 }));
    setLoadedAt(Date.now());
    return s;
  }, [JSON.stringify(p)]);
  const live = useLive(stats.reload, loadedAt);
  const s = stats.data;
  return (
    <section aria-labelledby="wan-h">
      <h1 id="wan-h">Workspace analytics</h1>
      <p class="muted">
        Every link together (unique visitors: each link's, added up). For one link's numbers and CSV export, find it below.
      </p>
      <LinkPicker />
      <PeriodPicker value={p} onChange={setP} />
      {live}
      <ErrorBox error={stats.error} />
      {!s ? (
        <Loading label="Loading analytics…" />
      ) : (
        <StatsView
          s={s}
          chartLabel="Workspace clicks over time"
          stats={<Stat n={s.topLinks.length} label="Links clicked (up to 10 listed)" />}
          cards={
            <section class="card" aria-labelledby="top-h">
              <h3 id="top-h">Top links</h3>
              {s.topLinks.length === 0 ? (
                <Empty>No clicks in this period.</Empty>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Link</th>
                      <th scope="col" class="num">
                        Clicks
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.topLinks.map((l) => (
                      <tr key={l.id}>
                        <td>
                          <a href={`#/analytics/${encodeURIComponent(l.id)}`}>{l.shortUrl.replace(/^https?:\/\//, "")}</a>
                          {l.title && <div class="muted">{l.title}</div>}
                        </td>
                        <td class="num">{l.clicks}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          }
        />
      )}
    </section>
  );
}

/** Finds a link by slug, title or URL and opens its analytics. */
function LinkPicker() {
  const [q, setQ] = useState("");
  const term = useDebounced(q.trim(), 300);
  const found = useAsync(
    () => (term ? list<Link>("/api/v1/links", { search: term, perPage: 8 }) : Promise.resolve(null)),
    [term],
  );
  return (
    <div class="card">
      <Field label="Open a link's analytics" hint="Search by slug, title or destination URL.">
        {(id, d) => <input id={id} type="search" value={q} aria-describedby={d} onInput={(e) => setQ(e.currentTarget.value)} />}
      </Field>
      {term && found.data && (
        found.data.items.length === 0 ? (
          <p class="muted" role="status">No link matches “{term}”.</p>
        ) : (
          <ul class="picker" aria-label="Matching links">
            {found.data.items.map((l) => (
              <li key={l.id}>
                <a href={`#/analytics/${encodeURIComponent(l.id)}`}>{l.shortUrl.replace(/^https?:\/\//, "")}</a>{" "}
                <span class="muted">
                  {l.title ? `${l.title} · ` : ""}
                  {l.clickCount} clicks
                </span>
              </li>
            ))}
          </ul>
        )
      )}
    </div>
  );
}
