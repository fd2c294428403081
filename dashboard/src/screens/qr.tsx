// QR designer: a live preview (debounced POST /api/v1/qr/generate, the
// public endpoint, 30 requests a minute per IP: identical designs are
// served from a small in-page cache and a 429 pauses the preview until
// Retry-After), colours with the API's contrast warning, corner radius,
// error correction and size; SVG/PNG download; save (optionally tied to a
// link, so scans are counted); the saved codes with their scan counts,
// download, edit and delete.
// "#/qr?link=lnk_…" opens the designer on that link.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, ApiError, download, list, rawFetch } from "../api";
import {
  Button,
  Empty,
  ErrorBox,
  Field,
  Loading,
  Pager,
  errorMessage,
  fieldError,
  useApp,
  useAsync,
  useDebounced,
} from "../ui";
import type { ScreenProps } from "./index";
import { Badge, ConfirmDialog, FormError, When, invalid, useAction } from "./kit";
import "./kit.css";

type Ec = "L" | "M" | "Q" | "H";

interface Style {
  size: number;
  foregroundColor: string;
  backgroundColor: string;
  cornerRadius: number;
  errorCorrection: Ec;
}

export interface SavedQr extends Style {
  id: string;
  name: string;
  url: string;
  linkId: string | null;
  shortUrl: string | null;
  format: "svg" | "png";
  createdAt: string;
  updatedAt: string;
}

interface LinkLite {
  id: string;
  slug: string;
  shortUrl: string;
  title: string | null;
  destinationUrl: string;
}

const DEFAULT_STYLE: Style = {
  size: 512,
  foregroundColor: "#1A365D",
  backgroundColor: "#FFFFFF",
  cornerRadius: 0,
  errorCorrection: "M",
};

const EC_LEVELS: { id: Ec; label: string }[] = [
  { id: "L", label: "L: 7% (densest code)" },
  { id: "M", label: "M: 15% (default)" },
  { id: "Q", label: "Q: 25%" },
  { id: "H", label: "H: 30% (survives a logo or damage)" },
];

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
const QR_MARKER = "qr=1";

/** #abc → #AABBCC (the colour input needs six digits). */
export function expandHex(h: string): string {
  if (!HEX.test(h)) return "#000000";
  const s = h.slice(1);
  const full = s.length === 3 ? [...s].map((c) => c + c).join("") : s;
  return `#${full.toUpperCase()}`;
}

/** WCAG contrast ratio of two hex colours (the API's own rule, for display). */
export function contrastRatio(a: string, b: string): number {
  const lum = (hex: string) => {
    const h = expandHex(hex).slice(1);
    const c = [0, 2, 4].map((i) => {
      const v = parseInt(h.slice(i, i + 2), 16) / 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

function linkData(l: LinkLite): string {
  return `${l.shortUrl}${l.shortUrl.includes("?") ? "&" : "?"}${QR_MARKER}`;
}

function hashQuery(): URLSearchParams {
  const h = location.hash;
  const i = h.indexOf("?");
  return new URLSearchParams(i >= 0 ? h.slice(i + 1) : "");
}

export function QrScreen(_: ScreenProps) {
  const { toast } = useApp();
  const [source, setSource] = useState<"link" | "url">(hashQuery().get("link") ? "link" : "url");
  const [text, setText] = useState("https://example.com");
  const [fallback, setFallback] = useState("");
  const [link, setLink] = useState<LinkLite | null>(null);
  const [style, setStyle] = useState<Style>(DEFAULT_STYLE);
  const [fgText, setFgText] = useState(DEFAULT_STYLE.foregroundColor);
  const [bgText, setBgText] = useState(DEFAULT_STYLE.backgroundColor);
  const [name, setName] = useState("");
  const [editing, setEditing] = useState<SavedQr | null>(null);
  const [savedTick, setSavedTick] = useState(0);
  const designRef = useRef<HTMLHeadingElement>(null);

  const data = source === "link" ? (link ? linkData(link) : "") : text;
  const set = <K extends keyof Style>(k: K, v: Style[K]) => setStyle((s) => ({ ...s, [k]: v }));
  const fgBad = HEX.test(fgText) ? null : "Enter a hex colour like #1A365D or #FFF.";
  const bgBad = HEX.test(bgText) ? null : "Enter a hex colour like #FFFFFF.";

  const preview = usePreview(data, style);
  const pErr = preview.error instanceof ApiError ? preview.error : null;
  const pField = (f: string) => (pErr && pErr.field === f ? pErr.message : null);

  const save = useAction(async () => {
    const body: Record<string, unknown> = {
      name: name.trim(),
      ...style,
      format: "svg",
    };
    if (source === "link") {
      if (!link) throw new ApiError(400, "VALIDATION_ERROR", "Choose a link.", "linkId");
      body.linkId = link.id;
      // Kept by the API and encoded instead should the link be deleted.
      if (fallback.trim()) body.url = fallback.trim();
    } else {
      body.url = text;
      if (editing) body.linkId = null;
    }
    const q = editing
      ? await api<SavedQr>("PATCH", `/api/v1/qr/${encodeURIComponent(editing.id)}`, body)
      : await api<SavedQr>("POST", "/api/v1/qr", body);
    toast(editing ? `QR code "${q.name}" updated.` : `QR code "${q.name}" saved.`);
    setEditing(null);
    setName("");
    setFallback("");
    setSavedTick((t) => t + 1);
  });
  const sErr = (f: string) => fieldError(save.error, f);

  const dl = useAction(async (format: "svg" | "png") => {
    const res = await rawFetch("POST", "/api/v1/qr/generate", { url: data, ...style, format });
    download(await res.blob(), `${fileBase(name || (link ? link.slug : "qr-code"))}.${format}`);
  });

  const startEdit = (q: SavedQr) => {
    setEditing(q);
    setName(q.name);
    const s: Style = {
      size: q.size,
      foregroundColor: q.foregroundColor,
      backgroundColor: q.backgroundColor,
      cornerRadius: q.cornerRadius,
      errorCorrection: q.errorCorrection,
    };
    setStyle(s);
    setFgText(s.foregroundColor);
    setBgText(s.backgroundColor);
    if (q.linkId) {
      setSource("link");
      setLink(null);
      api<LinkLite>("GET", `/api/v1/links/${encodeURIComponent(q.linkId)}`).then(setLink, () => {
        setSource("url");
        setText(q.url);
      });
    } else {
      setSource("url");
      setText(q.url);
    }
    designRef.current?.focus();
    designRef.current?.scrollIntoView({ behavior: "smooth", block: "start" });
  };

  const ratio = !fgBad && !bgBad ? contrastRatio(fgText, bgText) : null;

  return (
    <section aria-labelledby="qr-h">
      <h1 id="qr-h">QR codes</h1>
      <div class="qr-layout">
        <form
      noValidate
          class="card qr-form"
          aria-labelledby="design-h"
          onSubmit={(e) => {
            e.preventDefault();
            save.run();
          }}
        >
          <h2 id="design-h" class="card-title" tabIndex={-1} ref={designRef}>
            {editing ? `Edit “${editing.name}”` : "Design a QR code"}
          </h2>
          <fieldset class="segmented">
            <legend>Encode</legend>
            <label class="check">
              <input type="radio" name="qr-source" checked={source === "url"} onChange={() => setSource("url")} /> Any
              URL or text
            </label>
            <label class="check">
              <input type="radio" name="qr-source" checked={source === "link"} onChange={() => setSource("link")} /> One
              of my short links (scans are counted)
            </label>
          </fieldset>
          {source === "url" ? (
            <Field label="URL or text" error={pField("url") ?? sErr("url")}>
              {(id, d) => (
                <input
                  id={id}
                  value={text}
                  spellcheck={false}
                  maxLength={2048}
                  onInput={(e) => setText(e.currentTarget.value)}
                  aria-describedby={d}
                  {...invalid(pField("url") ?? sErr("url"))}
                />
              )}
            </Field>
          ) : (
            <LinkPicker
              value={link}
              initialId={editing?.linkId ?? hashQuery().get("link")}
              onChange={setLink}
              error={sErr("linkId")}
            />
          )}
          {source === "link" && (
            <Field
              label="Fallback URL (optional)"
              error={sErr("url")}
              hint="Saved with the code and encoded instead if the link is ever deleted."
            >
              {(id, d) => (
                <input
                  id={id}
                  type="url"
                  value={fallback}
                  spellcheck={false}
                  maxLength={2048}
                  onInput={(e) => setFallback(e.currentTarget.value)}
                  aria-describedby={d}
                  {...invalid(sErr("url"))}
                />
              )}
            </Field>
          )}

          <div class="row top">
            <ColorField
              label="Foreground colour"
              example="#1A365D"
              text={fgText}
              onText={(v) => {
                setFgText(v);
                if (HEX.test(v)) set("foregroundColor", v);
              }}
              error={fgBad ?? pField("foregroundColor") ?? sErr("foregroundColor")}
            />
            <ColorField
              label="Background colour"
              example="#FFFFFF"
              text={bgText}
              onText={(v) => {
                setBgText(v);
                if (HEX.test(v)) set("backgroundColor", v);
              }}
              error={bgBad ?? pField("backgroundColor") ?? sErr("backgroundColor")}
            />
          </div>
          <div class="contrast" role="status" aria-live="polite">
            {ratio !== null && (
              <span class="muted small">
                Contrast {ratio.toFixed(2)}:1 {ratio >= 4.5 ? "(good)" : ""}
              </span>
            )}
            {preview.warning && !pErr && (
              <p class="alert alert-warn" data-testid="contrast-warning">
                Low contrast ({preview.warning}:1): the code scans, but some phones will struggle. 4.5:1 or more is
                recommended: darken the foreground or lighten the background.
              </p>
            )}
          </div>

          <div class="row top">
            <Field
              label={`Corner radius: ${style.cornerRadius}%`}
              hint="Rounds each module, 0 (square) to 50 (dots)."
              error={pField("cornerRadius") ?? sErr("cornerRadius")}
            >
              {(id, d) => (
                <input
                  id={id}
                  type="range"
                  min={0}
                  max={50}
                  step={1}
                  value={style.cornerRadius}
                  aria-describedby={d}
                  aria-valuetext={`${style.cornerRadius} percent`}
                  onInput={(e) => set("cornerRadius", Number(e.currentTarget.value))}
                />
              )}
            </Field>
            <Field label="Error correction" error={pField("errorCorrection") ?? sErr("errorCorrection")}>
              {(id, d) => (
                <select
                  id={id}
                  value={style.errorCorrection}
                  aria-describedby={d}
                  onChange={(e) => set("errorCorrection", e.currentTarget.value as Ec)}
                >
                  {EC_LEVELS.map((l) => (
                    <option key={l.id} value={l.id}>
                      {l.label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <SizeField
              value={style.size}
              onChange={(n) => set("size", n)}
              error={pField("size") ?? sErr("size")}
            />
          </div>

          <Field label="Name" error={sErr("name")} hint="Needed to save, e.g. “Business card”.">
            {(id, d) => (
              <input
                id={id}
                value={name}
                maxLength={100}
                onInput={(e) => setName(e.currentTarget.value)}
                aria-describedby={d}
                {...invalid(sErr("name"))}
              />
            )}
          </Field>
          <FormError
            error={save.error}
            fields={["name", "url", "linkId", "foregroundColor", "backgroundColor", "cornerRadius", "errorCorrection", "size"]}
          />
          <div class="acts">
            <Button write type="submit" variant="primary" busy={save.busy} disabled={!data}>
              {editing ? "Save changes" : "Save QR code"}
            </Button>
            {editing && (
              <Button
                onClick={() => {
                  setEditing(null);
                  setName("");
                  save.setError(null);
                }}
              >
                Cancel editing
              </Button>
            )}
          </div>
        </form>

        <div class="card qr-preview-card" aria-labelledby="preview-h">
          <h2 id="preview-h" class="card-title">
            Preview
          </h2>
          <div class="qr-preview" aria-busy={preview.loading ? "true" : "false"}>
            {preview.src ? (
              <img
                src={preview.src}
                alt={`QR code for ${preview.data}`}
                data-testid="qr-preview"
                class={preview.stale ? "stale" : ""}
              />
            ) : (
              <p class="muted">{data ? "Rendering…" : "Enter what to encode."}</p>
            )}
          </div>
          <div role="status" aria-live="polite" class="small">
            {preview.paused && <p class="alert alert-warn">{preview.paused}</p>}
            {pErr && !pErr.field && <p class="alert alert-error">{pErr.message}</p>}
            {preview.error && !(preview.error instanceof ApiError) && (
              <p class="alert alert-error">{errorMessage(preview.error)}</p>
            )}
          </div>
          {data && (
            <p class="small break">
              <span class="muted">Encodes:</span> <code data-testid="qr-data">{data}</code>
            </p>
          )}
          <div class="acts">
            <Button onClick={() => dl.run("svg")} busy={dl.busy} disabled={!data}>
              Download SVG
            </Button>
            <Button onClick={() => dl.run("png")} busy={dl.busy} disabled={!data}>
              Download PNG
            </Button>
          </div>
          <ErrorBox error={dl.error} />
        </div>
      </div>

      <SavedList tick={savedTick} onEdit={startEdit} />
    </section>
  );
}

function fileBase(s: string): string {
  return s.replace(/[^\w.-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "qr-code";
}

// ---------------------------------------------------------------------------
// Preview
// ---------------------------------------------------------------------------

interface PreviewResult {
  url: string;
  warning: string | null;
}

/** Rendered previews by request body: a design seen before costs no request. */
const cache = new Map<string, PreviewResult>();

function usePreview(data: string, style: Style) {
  const body = useMemo(
    () => JSON.stringify({ url: data, ...style, format: "svg" }),
    [data, style.size, style.foregroundColor, style.backgroundColor, style.cornerRadius, style.errorCorrection],
  );
  const debounced = useDebounced(body, 350);
  const [state, setState] = useState<{
    src: string | null;
    data: string;
    warning: string | null;
    error: unknown;
    loading: boolean;
    paused: string | null;
  }>({ src: null, data: "", warning: null, error: null, loading: false, paused: null });
  const [retry, setRetry] = useState(0);

  useEffect(() => {
    if (!data) return;
    const req = JSON.parse(debounced) as { url: string };
    if (!req.url) return;
    const hit = cache.get(debounced);
    if (hit) {
      setState({ src: hit.url, data: req.url, warning: hit.warning, error: null, loading: false, paused: null });
      return;
    }
    let gone = false;
    setState((s) => ({ ...s, loading: true }));
    fetch("/api/v1/qr/generate", { method: "POST", headers: { "Content-Type": "application/json" }, body: debounced })
      .then(async (res) => {
        if (res.status === 429) {
          const after = Number(res.headers.get("Retry-After") ?? "10") || 10;
          if (!gone) {
            setState((s) => ({
              ...s,
              loading: false,
              paused: `The preview is paused: too many previews this minute. It resumes in ${after} s.`,
            }));
            setTimeout(() => !gone && setRetry((r) => r + 1), after * 1000);
          }
          return;
        }
        if (!res.ok) {
          let e = new ApiError(res.status, `HTTP_${res.status}`, `The preview failed (${res.status}).`);
          try {
            const j = await res.json();
            if (j?.error) e = new ApiError(res.status, j.error.code, j.error.message, j.error.field ?? undefined);
          } catch {
            /* keep the generic message */
          }
          if (!gone) setState((s) => ({ ...s, error: e, loading: false, paused: null }));
          return;
        }
        const warning = res.headers.get("X-QR-Contrast-Warning") ? res.headers.get("X-QR-Contrast-Ratio") ?? "low" : null;
        const url = URL.createObjectURL(await res.blob());
        const r = { url, warning };
        cache.set(debounced, r);
        if (cache.size > 40) {
          const first = cache.keys().next().value as string;
          URL.revokeObjectURL(cache.get(first)!.url);
          cache.delete(first);
        }
        if (!gone) setState({ src: url, data: req.url, warning, error: null, loading: false, paused: null });
      })
      .catch((e) => !gone && setState((s) => ({ ...s, error: e, loading: false })));
    return () => {
      gone = true;
    };
  }, [debounced, retry]);

  return { ...state, stale: state.loading || body !== debounced || !!state.error };
}

// ---------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------

function ColorField(props: { label: string; text: string; onText: (v: string) => void; error: string | null; example: string }) {
  return (
    <Field label={props.label} error={props.error} hint={`Hex, e.g. ${props.example}.`}>
      {(id, d) => (
        <div class="color-pair">
          <input
            type="color"
            value={expandHex(props.text)}
            aria-label={`${props.label} picker`}
            onInput={(e) => props.onText(e.currentTarget.value.toUpperCase())}
          />
          <input
            id={id}
            value={props.text}
            maxLength={7}
            spellcheck={false}
            autocomplete="off"
            class="mono hex"
            aria-describedby={d}
            {...invalid(props.error)}
            onInput={(e) => props.onText(e.currentTarget.value.trim())}
          />
        </div>
      )}
    </Field>
  );
}

function SizeField(props: { value: number; onChange: (n: number) => void; error: string | null }) {
  const [text, setText] = useState(String(props.value));
  useEffect(() => setText(String(props.value)), [props.value]);
  const n = Number(text);
  const local = text !== "" && Number.isInteger(n) && n >= 64 && n <= 2048 ? null : "Enter a whole number from 64 to 2048.";
  return (
    <Field label="Size (pixels)" error={local ?? props.error} hint="64 to 2048; the PNG is this wide.">
      {(id, d) => (
        <input
          id={id}
          type="number"
          min={64}
          max={2048}
          step={1}
          inputMode="numeric"
          value={text}
          aria-describedby={d}
          {...invalid(local ?? props.error)}
          onInput={(e) => {
            const v = e.currentTarget.value;
            setText(v);
            const x = Number(v);
            if (Number.isInteger(x) && x >= 64 && x <= 2048) props.onChange(x);
          }}
        />
      )}
    </Field>
  );
}

function LinkPicker(props: {
  value: LinkLite | null;
  initialId: string | null;
  onChange: (l: LinkLite | null) => void;
  error: string | null;
}) {
  const [search, setSearch] = useState("");
  const q = useDebounced(search, 300);
  const links = useAsync(() => list<LinkLite>("/api/v1/links", { search: q, perPage: 50, sort: "created" }), [q]);
  // Preselect (from "#/qr?link=" or a saved code being edited).
  useEffect(() => {
    if (!props.initialId || props.value?.id === props.initialId) return;
    api<LinkLite>("GET", `/api/v1/links/${encodeURIComponent(props.initialId)}`).then(props.onChange, () => {});
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.initialId]);
  const options = links.data?.items ?? [];
  const withCurrent = props.value && !options.some((o) => o.id === props.value!.id) ? [props.value, ...options] : options;
  return (
    <div class="row top">
      <Field label="Search links" hint="Slug, title or destination.">
        {(id, d) => (
          <input id={id} type="search" value={search} aria-describedby={d} onInput={(e) => setSearch(e.currentTarget.value)} />
        )}
      </Field>
      <Field label="Link" error={props.error} hint={links.loading ? "Loading links…" : `${links.data?.meta.total ?? 0} found`}>
        {(id, d) => (
          <select
            id={id}
            value={props.value?.id ?? ""}
            aria-describedby={d}
            {...invalid(props.error)}
            onChange={(e) => props.onChange(withCurrent.find((l) => l.id === e.currentTarget.value) ?? null)}
          >
            <option value="">Choose a link…</option>
            {withCurrent.map((l) => (
              <option key={l.id} value={l.id}>
                /{l.slug} · {l.title || l.destinationUrl}
              </option>
            ))}
          </select>
        )}
      </Field>
    </div>
  );
}

// ---------------------------------------------------------------------------
// Saved codes
// ---------------------------------------------------------------------------

interface Stats {
  totalClicks: number;
  bySource?: { source: string; clicks: number }[];
}

function SavedList({ tick, onEdit }: { tick: number; onEdit: (q: SavedQr) => void }) {
  const { toast } = useApp();
  const [page, setPage] = useState(1);
  const saved = useAsync(() => list<SavedQr>("/api/v1/qr", { page, perPage: 12 }), [page, tick]);
  const [scans, setScans] = useState<Record<string, number | null>>({});
  const [deleting, setDeleting] = useState<SavedQr | null>(null);

  // Scans of a link's saved codes = its clicks whose source is "qr".
  useEffect(() => {
    const ids = [...new Set((saved.data?.items ?? []).map((q) => q.linkId).filter((x): x is string => !!x))];
    let gone = false;
    Promise.all(
      ids.map((id) =>
        api<Stats>("GET", `/api/v1/links/${encodeURIComponent(id)}/stats`, undefined).then(
          (s) => [id, s.bySource?.find((b) => b.source === "qr")?.clicks ?? 0] as const,
          () => [id, null] as const,
        ),
      ),
    ).then((pairs) => !gone && setScans(Object.fromEntries(pairs)));
    return () => {
      gone = true;
    };
  }, [saved.data]);

  const perLink = useMemo(() => {
    const m: Record<string, number> = {};
    for (const q of saved.data?.items ?? []) if (q.linkId) m[q.linkId] = (m[q.linkId] ?? 0) + 1;
    return m;
  }, [saved.data]);

  const del = useAction(async (q: SavedQr) => {
    await api("DELETE", `/api/v1/qr/${encodeURIComponent(q.id)}`);
    setDeleting(null);
    toast(`QR code "${q.name}" deleted.`);
    saved.reload();
  });

  return (
    <section aria-labelledby="saved-h">
      <h2 id="saved-h">Saved QR codes</h2>
      <ErrorBox error={saved.error} />
      {!saved.data && saved.loading && <Loading label="Loading saved QR codes…" />}
      {saved.data && saved.data.items.length === 0 && (
        <Empty>No saved QR codes yet. Design one above, give it a name and save it.</Empty>
      )}
      {saved.data && saved.data.items.length > 0 && (
        <>
          <ul class="qr-grid" aria-label="Saved QR codes">
            {saved.data.items.map((q) => (
              <SavedCard
                key={q.id + q.updatedAt}
                qr={q}
                scans={q.linkId ? scans[q.linkId] : undefined}
                shared={q.linkId ? perLink[q.linkId] > 1 : false}
                onEdit={() => onEdit(q)}
                onDelete={() => {
                  del.setError(null);
                  setDeleting(q);
                }}
              />
            ))}
          </ul>
          <Pager page={page} totalPages={saved.data.meta.totalPages} total={saved.data.meta.total} onPage={setPage} />
        </>
      )}
      <ConfirmDialog
        open={!!deleting}
        title="Delete this QR code?"
        confirmLabel="Delete QR code"
        busy={del.busy}
        error={del.error}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && del.run(deleting)}
      >
        {deleting && (
          <p>
            <strong>{deleting.name}</strong> is removed from this list. Printed copies keep working
            {deleting.linkId ? " as long as the link exists" : ""}.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}

function SavedCard(props: {
  qr: SavedQr;
  scans: number | null | undefined;
  shared: boolean;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const q = props.qr;
  const [thumb, setThumb] = useState<string | null>(null);
  useEffect(() => {
    let url: string | null = null;
    let gone = false;
    rawFetch("GET", `/api/v1/qr/${encodeURIComponent(q.id)}/download?format=svg`)
      .then((r) => r.blob())
      .then((b) => {
        if (gone) return;
        url = URL.createObjectURL(b);
        setThumb(url);
      })
      .catch(() => {});
    return () => {
      gone = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [q.id, q.updatedAt]);
  const dl = useAction(async (format: "svg" | "png") => {
    const r = await rawFetch("GET", `/api/v1/qr/${encodeURIComponent(q.id)}/download?format=${format}`);
    download(await r.blob(), `${fileBase(q.name)}.${format}`);
  });
  return (
    <li class="card qr-card">
      <div class="qr-thumb">{thumb ? <img src={thumb} alt="" /> : <span class="muted small">…</span>}</div>
      <div class="qr-meta">
        <h3>{q.name}</h3>
        <p class="small break">
          <code>{q.url}</code>
        </p>
        <p class="small">
          {q.linkId ? (
            <>
              <strong data-testid="scan-count">
                {props.scans === undefined ? "…" : props.scans === null ? "?" : props.scans}
              </strong>{" "}
              scan{props.scans === 1 ? "" : "s"}
              {props.shared && <span class="muted"> (all codes of this link)</span>}
            </>
          ) : (
            <span class="muted">Scans not counted: tie it to a short link to count them.</span>
          )}
        </p>
        <p class="small muted">
          {q.size} px · EC {q.errorCorrection} · saved <When at={q.updatedAt} />
          {q.linkId && (
            <>
              {" "}
              · <Badge kind="info">link</Badge>
            </>
          )}
        </p>
        <div class="acts">
          <Button onClick={() => dl.run("svg")} busy={dl.busy} aria-label={`Download ${q.name} as SVG`}>
            SVG
          </Button>
          <Button onClick={() => dl.run("png")} busy={dl.busy} aria-label={`Download ${q.name} as PNG`}>
            PNG
          </Button>
          <Button write onClick={props.onEdit} aria-label={`Edit ${q.name}`}>
            Edit
          </Button>
          <Button write variant="danger" onClick={props.onDelete} aria-label={`Delete ${q.name}`}>
            Delete
          </Button>
        </div>
        <ErrorBox error={dl.error} />
      </div>
    </li>
  );
}
