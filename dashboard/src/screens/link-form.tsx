// Create or edit a link with every option of the API (LinkInput in
// src/openapi.json). An ApiError shows at the field it names (`error.field`,
// e.g. "geoTargets.US"); slug and domain errors that carry no field
// (SLUG_RESERVED, SLUG_EXISTS, DOMAIN_NOT_VERIFIED) are mapped by code.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, api } from "../api";
import { countries, countryName } from "../countries";
import type { Link } from "../types";
import { Button, CopyButton, ErrorBox, Field, Loading, errorMessage, formatDate, useApp, useAsync } from "../ui";
import { useGroupsAndDomains, downloadQr } from "./links";

type Device = "mobile" | "tablet" | "desktop";
const DEVICES: Device[] = ["mobile", "tablet", "desktop"];
const UTM = [
  ["utmSource", "utm_source", "Source", "e.g. newsletter, google"],
  ["utmMedium", "utm_medium", "Medium", "e.g. email, cpc"],
  ["utmCampaign", "utm_campaign", "Campaign", "e.g. summer-sale"],
  ["utmTerm", "utm_term", "Term", "paid keywords"],
  ["utmContent", "utm_content", "Content", "which ad or link"],
] as const;
type UtmKey = (typeof UTM)[number][0];

interface GeoRow {
  key: number;
  country: string;
  url: string;
}

interface VariantRow {
  key: number;
  url: string;
  weight: string;
}

const MAX_VARIANTS = 4;
const letter = (i: number) => String.fromCharCode(65 + i);

interface State {
  destinationUrl: string;
  domain: string;
  slug: string;
  title: string;
  description: string;
  tags: string;
  groupId: string;
  password: string;
  removePassword: boolean;
  expiresAt: string;
  clickLimit: string;
  geo: GeoRow[];
  variants: VariantRow[];
  preview: { title: string; description: string; image: string };
  devices: Record<Device, string>;
  iosUrl: string;
  androidUrl: string;
  utm: Record<UtmKey, string>;
  escapeFromWechat: boolean;
  advancedBotDetection: boolean;
  webhook: boolean;
  webhookScene: string;
  suspended: boolean;
  archived: boolean;
}

let rowKey = 1;
const empty = (): State => ({
  destinationUrl: "",
  domain: "",
  slug: "",
  title: "",
  description: "",
  tags: "",
  groupId: "",
  password: "",
  removePassword: false,
  expiresAt: "",
  clickLimit: "",
  geo: [],
  variants: [],
  preview: { title: "", description: "", image: "" },
  devices: { mobile: "", tablet: "", desktop: "" },
  iosUrl: "",
  androidUrl: "",
  utm: { utmSource: "", utmMedium: "", utmCampaign: "", utmTerm: "", utmContent: "" },
  escapeFromWechat: false,
  advancedBotDetection: false,
  webhook: false,
  webhookScene: "",
  suspended: false,
  archived: false,
});

/** "2025-12-31T23:59:59Z" → the value of a datetime-local input, in local time. */
function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function fromLink(l: Link): State {
  return {
    ...empty(),
    destinationUrl: l.destinationUrl,
    domain: l.domain,
    slug: l.slug,
    title: l.title ?? "",
    description: l.description ?? "",
    tags: l.tags.join(", "),
    groupId: l.groupId ?? "",
    expiresAt: toLocalInput(l.expiresAt),
    clickLimit: l.clickLimit === null ? "" : String(l.clickLimit),
    geo: Object.entries(l.geoTargets).map(([country, url]) => ({ key: rowKey++, country, url })),
    variants: (l.testVariants ?? []).map((v) => ({ key: rowKey++, url: v.url, weight: String(v.weight) })),
    preview: { title: l.preview?.title ?? "", description: l.preview?.description ?? "", image: l.preview?.image ?? "" },
    devices: { mobile: l.deviceTargets.mobile ?? "", tablet: l.deviceTargets.tablet ?? "", desktop: l.deviceTargets.desktop ?? "" },
    iosUrl: l.iosUrl ?? "",
    androidUrl: l.androidUrl ?? "",
    utm: {
      utmSource: l.utmSource ?? "",
      utmMedium: l.utmMedium ?? "",
      utmCampaign: l.utmCampaign ?? "",
      utmTerm: l.utmTerm ?? "",
      utmContent: l.utmContent ?? "",
    },
    escapeFromWechat: l.escapeFromWechat,
    advancedBotDetection: l.advancedBotDetection,
    webhook: l.webhook,
    webhookScene: l.webhookScene,
    suspended: l.suspended,
    archived: l.archived,
  };
}

/** Percent-encodes like the worker (core/src/url.rs encode_component). */
function encodeComponent(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** The URL a visitor lands on: the destination with the UTM query appended, as the redirect does. */
export function finalUrl(destination: string, utm: Record<UtmKey, string>): string {
  const extra = UTM.filter(([k]) => utm[k].trim())
    .map(([k, param]) => `${param}=${encodeComponent(utm[k].trim())}`)
    .join("&");
  if (!extra) return destination;
  const hash = destination.indexOf("#");
  const base = hash >= 0 ? destination.slice(0, hash) : destination;
  const frag = hash >= 0 ? destination.slice(hash) : "";
  const sep = !base.includes("?") ? "?" : /[?&]$/.test(base) ? "" : "&";
  return base + sep + extra + frag;
}

const nullable = (s: string) => (s.trim() === "" ? null : s.trim());

function body(s: State, original: Link | null): Record<string, unknown> {
  const b: Record<string, unknown> = {
    destinationUrl: s.destinationUrl.trim(),
    title: nullable(s.title),
    description: nullable(s.description),
    tags: s.tags
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean),
    groupId: nullable(s.groupId),
    expiresAt: s.expiresAt ? new Date(s.expiresAt).toISOString() : null,
    clickLimit: s.clickLimit.trim() === "" ? null : Number(s.clickLimit),
    geoTargets: Object.fromEntries(s.geo.filter((g) => g.country || g.url.trim()).map((g) => [g.country, g.url.trim()])),
    deviceTargets: Object.fromEntries(DEVICES.filter((d) => s.devices[d].trim()).map((d) => [d, s.devices[d].trim()])),
    iosUrl: nullable(s.iosUrl),
    androidUrl: nullable(s.androidUrl),
    escapeFromWechat: s.escapeFromWechat,
    advancedBotDetection: s.advancedBotDetection,
    webhook: s.webhook,
    webhookScene: s.webhookScene.trim(),
    suspended: s.suspended,
    archived: s.archived,
  };
  for (const [k] of UTM) b[k] = nullable(s.utm[k]);
  // Both are sent only when set, or as null to end what the link had.
  const variants = s.variants.filter((v) => v.url.trim() || v.weight.trim());
  if (variants.length) b.testVariants = variants.map((v) => ({ url: v.url.trim(), weight: Number(v.weight) }));
  else if (original?.testVariants) b.testVariants = null;
  const p = s.preview;
  if (p.title.trim() || p.description.trim() || p.image.trim()) {
    b.preview = { title: p.title.trim(), description: nullable(p.description), image: nullable(p.image) };
  } else if (original?.preview) b.preview = null;
  if (!original) {
    if (s.slug.trim()) b.slug = s.slug.trim();
    if (s.domain) b.domain = s.domain;
    if (s.password) b.password = s.password;
    if (b.title === null) delete b.title;
    if (b.description === null) delete b.description;
  } else {
    if (s.slug.trim() !== original.slug) b.slug = s.slug.trim();
    if (s.domain && s.domain !== original.domain) b.domain = s.domain;
    if (s.password) b.password = s.password;
    else if (s.removePassword) b.password = null;
  }
  return b;
}

/** The form field an ApiError belongs to. */
function errorField(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  if (e.field) return e.field;
  if (e.code === "SLUG_RESERVED" || e.code === "SLUG_EXISTS" || e.code === "INVALID_SLUG") return "slug";
  if (e.code === "DOMAIN_NOT_VERIFIED" || e.code === "DOMAIN_NOT_FOUND") return "domain";
  return null;
}

export function LinkForm({ id }: { id?: string }) {
  const { session, toast } = useApp();
  const editing = !!id;
  const existing = useAsync(
    () => (id ? api<Link>("GET", `/api/v1/links/${encodeURIComponent(id)}`) : Promise.resolve(null)),
    [id],
  );
  const { groups, domains } = useGroupsAndDomains();
  const [s, setS] = useState<State>(empty);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<Link | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const readOnly = session.readOnly;

  useEffect(() => {
    if (existing.data) setS(fromLink(existing.data));
  }, [existing.data]);

  const set = <K extends keyof State>(k: K, v: State[K]) => setS((p) => ({ ...p, [k]: v }));
  const field = errorField(error);
  const errFor = (name: string) => (field === name && error ? errorMessage(error) : null);
  const verified = (domains.data ?? []).filter((d) => d.verified);
  const preview = useMemo(() => finalUrl(s.destinationUrl.trim() || "https://example.com/page", s.utm), [s.destinationUrl, s.utm]);
  const usedCountries = new Set(s.geo.map((g) => g.country));

  // After a failed save, move focus to the field the error names (in the
  // same task as the render that shows the error).
  useLayoutEffect(() => {
    if (!field || !formRef.current) return;
    const el = formRef.current.querySelector<HTMLElement>(`[data-field="${CSS.escape(field)}"]`);
    el?.focus();
  }, [error]);

  // A row just added: keyboard users continue in its first field, focused in
  // the same task as the render that creates it (a timer could lose a race
  // with the next keystroke).
  const focusNext = useRef<string | null>(null);
  useLayoutEffect(() => {
    const name = focusNext.current;
    if (!name || !formRef.current) return;
    focusNext.current = null;
    formRef.current.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"]`)?.focus();
  });

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const missingCountry = s.geo.find((g) => !g.country && g.url.trim());
    if (missingCountry) {
      setError(new ApiError(400, "VALIDATION_ERROR", "Pick a country for this URL.", `geo.${missingCountry.key}`));
      return;
    }
    setBusy(true);
    try {
      const original = existing.data ?? null;
      const link = original
        ? await api<Link>("PATCH", `/api/v1/links/${encodeURIComponent(original.id)}`, body(s, original))
        : await api<Link>("POST", "/api/v1/links", body(s, null));
      setSaved(link);
      toast(original ? `Saved ${link.shortUrl}` : `Created ${link.shortUrl}`);
      if (original) existing.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  // The group list too, so the link's group shows selected at once.
  if (editing && ((existing.loading && !existing.data) || (groups.loading && !groups.data))) return <Loading label="Loading the link…" />;
  if (editing && existing.error) return <ErrorBox error={existing.error} />;

  if (saved && !editing) {
    return (
      <section aria-labelledby="saved-h">
        <h1 id="saved-h">Link created</h1>
        <div class="card" role="status">
          <p class="short">
            <a href={saved.shortUrl} target="_blank" rel="noopener noreferrer" data-testid="short-url">
              {saved.shortUrl}
            </a>
          </p>
          <p class="dest">→ {finalUrl(saved.destinationUrl, {
            utmSource: saved.utmSource ?? "",
            utmMedium: saved.utmMedium ?? "",
            utmCampaign: saved.utmCampaign ?? "",
            utmTerm: saved.utmTerm ?? "",
            utmContent: saved.utmContent ?? "",
          })}</p>
          <div class="actions">
            <CopyButton text={saved.shortUrl} label="Copy short URL" />
            <Button onClick={() => downloadQr(saved).catch((e2) => toast(errorMessage(e2), "error"))}>Download QR (PNG)</Button>
            <a class="btn btn-primary" href={`#/analytics/${encodeURIComponent(saved.id)}`}>
              Open analytics
            </a>
            <Button onClick={() => (setSaved(null), setS(empty()))}>Create another</Button>
            <a class="btn btn-plain" href="#/links">
              Back to links
            </a>
          </div>
        </div>
      </section>
    );
  }

  const title = editing ? (readOnly ? "Link details" : "Edit link") : "New link";
  const dis = readOnly;
  return (
    <section aria-labelledby="form-h">
      <div class="page-head">
        <h1 id="form-h">{title}</h1>
        <a class="btn btn-plain" href="#/links">
          Back to links
        </a>
      </div>
      {existing.data && (
        <div class="card">
          <span class="short">{existing.data.shortUrl}</span> <CopyButton text={existing.data.shortUrl} label="Copy short URL" />{" "}
          <a class="btn btn-plain" href={`#/analytics/${encodeURIComponent(existing.data.id)}`}>
            Analytics
          </a>
          <p class="muted">
            Id <code>{existing.data.id}</code> · {existing.data.clickCount} clicks · created {formatDate(existing.data.createdAt)} · updated{" "}
            {formatDate(existing.data.updatedAt)}
          </p>
          {existing.data.banned && <p class="alert alert-error">This link is banned by the operator: visitors get a 451 page until it is unbanned.</p>}
        </div>
      )}
      <form ref={formRef} onSubmit={submit} noValidate aria-describedby={error && !field ? "form-error" : undefined}>
        <fieldset class="card" disabled={dis}>
          <legend>Destination</legend>
          <Field label="Destination URL" error={errFor("destinationUrl")} hint="Where the short link sends visitors (http or https).">
            {(fid, d) => (
              <input
                id={fid}
                data-field="destinationUrl"
                type="url"
                inputMode="url"
                required
                value={s.destinationUrl}
                placeholder="https://example.com/landing-page"
                aria-describedby={d}
                aria-invalid={errFor("destinationUrl") ? "true" : undefined}
                onInput={(e) => set("destinationUrl", e.currentTarget.value)}
              />
            )}
          </Field>
          <div class="form-grid">
            <Field
              label="Domain"
              error={errFor("domain")}
              hint={verified.length ? "Only verified domains are offered." : "Add and verify a custom domain under Domains."}
            >
              {(fid, d) => (
                <select
                  id={fid}
                  data-field="domain"
                  aria-describedby={d}
                  aria-invalid={errFor("domain") ? "true" : undefined}
                  onChange={(e) => set("domain", e.currentTarget.value)}
                >
                  <option value="" selected={!s.domain}>
                    {editing && existing.data ? existing.data.domain : "Default short domain"}
                  </option>
                  {verified
                    .filter((v) => !(editing && existing.data && v.domain === existing.data.domain))
                    .map((v) => (
                      <option key={v.id} value={v.domain} selected={v.domain === s.domain}>
                        {v.domain}
                      </option>
                    ))}
                </select>
              )}
            </Field>
            <Field label="Slug" error={errFor("slug")} hint="Optional: the part after the domain. Left empty, one is generated.">
              {(fid, d) => (
                <input
                  id={fid}
                  data-field="slug"
                  value={s.slug}
                  autocomplete="off"
                  spellcheck={false}
                  placeholder="my-link"
                  aria-describedby={d}
                  aria-invalid={errFor("slug") ? "true" : undefined}
                  onInput={(e) => set("slug", e.currentTarget.value)}
                />
              )}
            </Field>
          </div>
        </fieldset>

        <fieldset class="card" disabled={dis}>
          <legend>Details</legend>
          <div class="form-grid">
            <TextField label="Title" name="title" value={s.title} err={errFor("title")} onInput={(v) => set("title", v)} max={200} />
            <TextField
              label="Tags"
              name="tags"
              value={s.tags}
              err={errFor("tags")}
              hint="Comma-separated, e.g. marketing, q1-2025"
              onInput={(v) => set("tags", v)}
            />
            <Field label="Group" error={errFor("groupId")}>
              {(fid, d) => (
                // `selected` on the options, not `value` on the select: the link
                // can load before the group list, and a select's value set
                // before its option exists is lost.
                <select id={fid} data-field="groupId" aria-describedby={d} onChange={(e) => set("groupId", e.currentTarget.value)}>
                  <option value="" selected={!s.groupId}>
                    No group
                  </option>
                  {(groups.data ?? []).map((g) => (
                    <option key={g.id} value={g.id} selected={g.id === s.groupId}>
                      {g.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          <Field label="Description" error={errFor("description")}>
            {(fid, d) => (
              <textarea
                id={fid}
                data-field="description"
                value={s.description}
                maxLength={2000}
                rows={2}
                aria-describedby={d}
                aria-invalid={errFor("description") ? "true" : undefined}
                onInput={(e) => set("description", e.currentTarget.value)}
              />
            )}
          </Field>
        </fieldset>

        <fieldset class="card" disabled={dis}>
          <legend>Access</legend>
          <div class="form-grid">
            <Field
              label="Password"
              error={errFor("password")}
              hint={
                existing.data?.hasPassword
                  ? "This link has a password. Type a new one to replace it."
                  : "Optional: visitors must enter it first."
              }
            >
              {(fid, d) => (
                <input
                  id={fid}
                  data-field="password"
                  type="password"
                  autocomplete="new-password"
                  value={s.password}
                  maxLength={128}
                  aria-describedby={d}
                  aria-invalid={errFor("password") ? "true" : undefined}
                  onInput={(e) => set("password", e.currentTarget.value)}
                />
              )}
            </Field>
            <Field label="Expires at" error={errFor("expiresAt")} hint="Your local time. After it, the link answers 410 Gone.">
              {(fid, d) => (
                <input
                  id={fid}
                  data-field="expiresAt"
                  type="datetime-local"
                  value={s.expiresAt}
                  aria-describedby={d}
                  aria-invalid={errFor("expiresAt") ? "true" : undefined}
                  onInput={(e) => set("expiresAt", e.currentTarget.value)}
                />
              )}
            </Field>
            <Field label="Click limit" error={errFor("clickLimit")} hint="Optional: stops redirecting after this many clicks.">
              {(fid, d) => (
                <input
                  id={fid}
                  data-field="clickLimit"
                  type="number"
                  min={1}
                  step={1}
                  inputMode="numeric"
                  value={s.clickLimit}
                  aria-describedby={d}
                  aria-invalid={errFor("clickLimit") ? "true" : undefined}
                  onInput={(e) => set("clickLimit", e.currentTarget.value)}
                />
              )}
            </Field>
          </div>
          {existing.data?.hasPassword && (
            <label class="check">
              <input type="checkbox" checked={s.removePassword} onChange={(e) => set("removePassword", e.currentTarget.checked)} /> Remove the
              password
            </label>
          )}
        </fieldset>

        <fieldset class="card" disabled={dis}>
          <legend>Geo targets</legend>
          <p class="hint" id="geo-hint">
            Visitors from these countries go to their own URL; everyone else to the destination.
          </p>
          {s.geo.length === 0 && <p class="muted">No geo targets.</p>}
          {s.geo.map((g, i) => {
            const err = errFor(`geoTargets.${g.country}`) ?? errFor(`geo.${g.key}`);
            const urlErr = errFor(`geoTargets.${g.country}`);
            return (
              <div class="pair" key={g.key} role="group" aria-label={`Geo target ${i + 1}`}>
                <Field label={`Country ${i + 1}`} error={urlErr ? null : err}>
                  {(fid, d) => (
                    <select
                      id={fid}
                      data-field={`geo.${g.key}`}
                      value={g.country}
                      aria-describedby={d}
                      onChange={(e) => {
                        const c = e.currentTarget.value;
                        setS((p) => ({ ...p, geo: p.geo.map((x) => (x.key === g.key ? { ...x, country: c } : x)) }));
                      }}
                    >
                      <option value="">Choose a country…</option>
                      {countries().map((c) => (
                        <option key={c.code} value={c.code} disabled={c.code !== g.country && usedCountries.has(c.code)}>
                          {c.name} ({c.code})
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
                <Field label={g.country ? `URL for ${countryName(g.country)}` : `URL for row ${i + 1}`} error={urlErr}>
                  {(fid, d) => (
                    <input
                      id={fid}
                      data-field={`geoTargets.${g.country}`}
                      type="url"
                      value={g.url}
                      placeholder="https://example.com/us"
                      aria-describedby={d}
                      aria-invalid={urlErr ? "true" : undefined}
                      onInput={(e) => {
                        const v = e.currentTarget.value;
                        setS((p) => ({ ...p, geo: p.geo.map((x) => (x.key === g.key ? { ...x, url: v } : x)) }));
                      }}
                    />
                  )}
                </Field>
                <button
                  type="button"
                  class="btn btn-plain"
                  aria-label={`Remove geo target ${g.country ? countryName(g.country) : i + 1}`}
                  onClick={() => setS((p) => ({ ...p, geo: p.geo.filter((x) => x.key !== g.key) }))}
                >
                  Remove
                </button>
              </div>
            );
          })}
          {errFor("geoTargets") && (
            <p class="field-error" role="alert">
              {errFor("geoTargets")}
            </p>
          )}
          <button
            type="button"
            class="btn btn-plain"
            aria-describedby="geo-hint"
            onClick={() => {
              const key = rowKey++;
              setS((p) => ({ ...p, geo: [...p.geo, { key, country: "", url: "" }] }));
              focusNext.current = `geo.${key}`;
            }}
          >
            Add a country
          </button>
        </fieldset>

        <fieldset class="card" disabled={dis}>
          <legend>A/B test</legend>
          <p class="hint" id="ab-hint">
            Split visitors between 2 to {MAX_VARIANTS} URLs by weight (whole percentages adding up to 100). A visitor keeps their
            variant for the day, and the analytics count clicks per variant. Geo and device targets and app links win first.
          </p>
          {s.variants.length === 0 && <p class="muted">No A/B test.</p>}
          {s.variants.map((v, i) => {
            const urlErr = errFor(`testVariants[${i}].url`);
            const weightErr = errFor(`testVariants[${i}].weight`);
            const setRow = (patch: Partial<VariantRow>) =>
              setS((p) => ({ ...p, variants: p.variants.map((x) => (x.key === v.key ? { ...x, ...patch } : x)) }));
            return (
              <div class="pair variant" key={v.key} role="group" aria-label={`Variant ${letter(i)}`}>
                <Field label={`Variant ${letter(i)} URL`} error={urlErr}>
                  {(fid, d) => (
                    <input
                      id={fid}
                      data-field={`testVariants[${i}].url`}
                      type="url"
                      value={v.url}
                      placeholder="https://example.com/variant"
                      aria-describedby={d}
                      aria-invalid={urlErr ? "true" : undefined}
                      onInput={(e) => setRow({ url: e.currentTarget.value })}
                    />
                  )}
                </Field>
                <Field label={`Variant ${letter(i)} weight (%)`} error={weightErr}>
                  {(fid, d) => (
                    <input
                      id={fid}
                      data-field={`testVariants[${i}].weight`}
                      type="number"
                      min={1}
                      max={100}
                      step={1}
                      value={v.weight}
                      aria-describedby={d}
                      aria-invalid={weightErr ? "true" : undefined}
                      onInput={(e) => setRow({ weight: e.currentTarget.value })}
                    />
                  )}
                </Field>
                <button
                  type="button"
                  class="btn btn-plain"
                  aria-label={`Remove variant ${letter(i)}`}
                  onClick={() => setS((p) => ({ ...p, variants: p.variants.filter((x) => x.key !== v.key) }))}
                >
                  Remove
                </button>
              </div>
            );
          })}
          {s.variants.length > 0 && (
            <p class="muted" data-field="testVariants" tabIndex={-1} aria-live="polite">
              Weights add up to {s.variants.reduce((n, v) => n + (Number(v.weight) || 0), 0)}%.
            </p>
          )}
          {errFor("testVariants") && (
            <p class="field-error" role="alert">
              {errFor("testVariants")}
            </p>
          )}
          <div class="actions">
            {s.variants.length === 0 ? (
              <button
                type="button"
                class="btn btn-plain"
                aria-describedby="ab-hint"
                onClick={() => {
                  const [a, b] = [rowKey++, rowKey++];
                  setS((p) => ({
                    ...p,
                    variants: [
                      { key: a, url: p.destinationUrl.trim(), weight: "50" },
                      { key: b, url: "", weight: "50" },
                    ],
                  }));
                  focusNext.current = "testVariants[1].url";
                }}
              >
                Start an A/B test
              </button>
            ) : (
              <>
                {s.variants.length < MAX_VARIANTS && (
                  <button
                    type="button"
                    class="btn btn-plain"
                    onClick={() => {
                      const n = s.variants.length;
                      setS((p) => ({ ...p, variants: [...p.variants, { key: rowKey++, url: "", weight: "" }] }));
                      focusNext.current = `testVariants[${n}].url`;
                    }}
                  >
                    Add a variant
                  </button>
                )}
                <button type="button" class="btn btn-plain" onClick={() => set("variants", [])}>
                  End the test
                </button>
              </>
            )}
          </div>
        </fieldset>

        <fieldset class="card" disabled={dis}>
          <legend>Social preview card</legend>
          <p class="hint">
            What Slack, X, Facebook, LinkedIn and other link unfurlers show for the short URL; visitors are still redirected.
            Leave it empty for no card.
          </p>
          <TextField
            label="Headline"
            name="preview.title"
            value={s.preview.title}
            err={errFor("preview.title")}
            max={200}
            onInput={(v) => set("preview", { ...s.preview, title: v })}
          />
          <TextField
            label="Summary"
            name="preview.description"
            value={s.preview.description}
            err={errFor("preview.description")}
            max={500}
            onInput={(v) => set("preview", { ...s.preview, description: v })}
          />
          <TextField
            label="Image (https URL)"
            name="preview.image"
            type="url"
            value={s.preview.image}
            err={errFor("preview.image")}
            placeholder="https://example.com/card.png"
            onInput={(v) => set("preview", { ...s.preview, image: v })}
          />
        </fieldset>

        <fieldset class="card" disabled={dis}>
          <legend>Devices and apps</legend>
          <div class="form-grid">
            {DEVICES.map((dv) => (
              <TextField
                key={dv}
                type="url"
                label={`URL for ${dv} visitors`}
                name={`deviceTargets.${dv}`}
                value={s.devices[dv]}
                err={errFor(`deviceTargets.${dv}`)}
                placeholder={dv === "mobile" ? "https://m.example.com" : ""}
                onInput={(v) => setS((p) => ({ ...p, devices: { ...p.devices, [dv]: v } }))}
              />
            ))}
            <TextField
              type="url"
              label="iOS app link"
              name="iosUrl"
              value={s.iosUrl}
              err={errFor("iosUrl")}
              placeholder="https://apps.apple.com/app/…"
              hint="For iPhone and iPad visitors; wins over the device URLs."
              onInput={(v) => set("iosUrl", v)}
            />
            <TextField
              type="url"
              label="Android app link"
              name="androidUrl"
              value={s.androidUrl}
              err={errFor("androidUrl")}
              placeholder="https://play.google.com/store/apps/details?id=…"
              hint="For Android visitors; wins over the device URLs."
              onInput={(v) => set("androidUrl", v)}
            />
          </div>
        </fieldset>

        <fieldset class="card" disabled={dis}>
          <legend>UTM parameters</legend>
          <div class="form-grid">
            {UTM.map(([k, param, label, ph]) => (
              <TextField
                key={k}
                label={`${label} (${param})`}
                name={k}
                value={s.utm[k]}
                err={errFor(k)}
                placeholder={ph}
                max={200}
                onInput={(v) => setS((p) => ({ ...p, utm: { ...p.utm, [k]: v } }))}
              />
            ))}
          </div>
          <p class="hint" id="utm-preview-label">
            Visitors land on:
          </p>
          <output class="preview" aria-labelledby="utm-preview-label" aria-live="polite" data-testid="utm-preview">
            {preview}
          </output>
        </fieldset>

        <fieldset class="card" disabled={dis}>
          <legend>Behaviour</legend>
          <Check label="Open in the system browser from WeChat (escape WeChat's in-app browser)" checked={s.escapeFromWechat} onChange={(v) => set("escapeFromWechat", v)} />
          <Check label="Advanced bot detection (bots are not redirected or counted)" checked={s.advancedBotDetection} onChange={(v) => set("advancedBotDetection", v)} />
          <Check label="Send a webhook event on each click" checked={s.webhook} onChange={(v) => set("webhook", v)} />
          <TextField
            label="Webhook scene"
            name="webhookScene"
            value={s.webhookScene}
            err={errFor("webhookScene")}
            hint="A label sent with each click event, so your endpoint can tell links apart."
            max={100}
            onInput={(v) => set("webhookScene", v)}
          />
          <Check label="Suspended (stop redirecting, keep the link)" checked={s.suspended} onChange={(v) => set("suspended", v)} />
          <Check label="Archived (hidden from the active list, still redirects)" checked={s.archived} onChange={(v) => set("archived", v)} />
        </fieldset>

        {error && !field ? (
          <div class="alert alert-error" role="alert" id="form-error">
            {errorMessage(error)}
          </div>
        ) : null}
        <div class="form-actions">
          <Button write type="submit" variant="primary" busy={busy}>
            {busy ? "Saving…" : editing ? "Save changes" : "Create link"}
          </Button>
          <a class="btn btn-plain" href="#/links">
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}

function TextField(props: {
  label: string;
  name: string;
  value: string;
  err: string | null;
  onInput: (v: string) => void;
  hint?: string;
  placeholder?: string;
  type?: "text" | "url";
  max?: number;
}) {
  return (
    <Field label={props.label} error={props.err} hint={props.hint}>
      {(fid, d) => (
        <input
          id={fid}
          data-field={props.name}
          type={(props.type ?? "text") as "text"}
          value={props.value}
          placeholder={props.placeholder}
          maxLength={props.max}
          aria-describedby={d}
          aria-invalid={props.err ? "true" : undefined}
          onInput={(e) => props.onInput(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

function Check(props: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label class="check">
      <input type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.currentTarget.checked)} /> {props.label}
    </label>
  );
}
