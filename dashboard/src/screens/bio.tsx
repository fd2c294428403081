// Link-in-bio pages. "/bio" lists and creates them; "/bio/{id}" edits one:
// settings and theme, publish, items (add, edit, delete, drag-and-drop
// reorder with Move up/down buttons as the keyboard alternative, each move
// announced), and a live preview of the public page /bio/{slug} in an
// iframe, reloaded after every change.
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, list } from "../api";
import { navigate } from "../router";
import { Button, CopyButton, Empty, ErrorBox, Field, Loading, Modal, Pager, errorMessage, useApp, useAsync } from "../ui";
import type { ScreenProps } from "./index";
import { Badge, ConfirmDialog, FormError, Toggle, When, invalid, useAction } from "./kit";
import "./kit.css";

export type Theme = "default" | "minimal" | "gradient" | "dark" | "neon" | "custom";
export type ItemType = "link" | "header" | "divider" | "embed" | "image";

export interface Item {
  id: string;
  type: ItemType;
  title: string | null;
  url: string | null;
  imageUrl: string | null;
  embedType: string | null;
  embedData: { videoId?: string } | null;
  position: number;
}

export interface Gallery {
  id: string;
  slug: string;
  title: string;
  bio: string | null;
  avatarUrl: string | null;
  theme: Theme;
  customCss: string | null;
  isPublished: boolean;
  url: string;
  items?: Item[];
  createdAt: string;
  updatedAt: string;
}

const THEMES: { id: Theme; label: string; bg: string; fg: string; card: string }[] = [
  { id: "default", label: "Default", bg: "#f4f5f7", fg: "#1f2933", card: "#ffffff" },
  { id: "minimal", label: "Minimal", bg: "#ffffff", fg: "#111111", card: "#ffffff" },
  { id: "gradient", label: "Gradient", bg: "linear-gradient(135deg,#6366f1,#ec4899)", fg: "#ffffff", card: "rgba(255,255,255,.25)" },
  { id: "dark", label: "Dark", bg: "#0f172a", fg: "#f1f5f9", card: "#1e293b" },
  { id: "neon", label: "Neon", bg: "#050505", fg: "#39ff14", card: "#000000" },
  { id: "custom", label: "Custom CSS", bg: "repeating-linear-gradient(45deg,#e5e7eb 0 6px,#f9fafb 6px 12px)", fg: "#111827", card: "#ffffff" },
];

const TYPES: { id: ItemType; label: string }[] = [
  { id: "link", label: "Link" },
  { id: "header", label: "Header" },
  { id: "divider", label: "Divider" },
  { id: "embed", label: "YouTube video" },
  { id: "image", label: "Image" },
];

const gid = (id: string) => encodeURIComponent(id);

/** The message of an error about `field`, also for slug codes without a field. */
function errAt(e: unknown, field: string): string | null {
  if (!(e instanceof ApiError)) return null;
  if (e.field === field) return e.message;
  if (field === "slug" && (e.code === "SLUG_EXISTS" || e.code === "SLUG_RESERVED")) return e.message;
  return null;
}

export function BioScreen({ params }: ScreenProps) {
  if (params.rest) return <BioEditor id={decodeURIComponent(params.rest.split("/")[0])} />;
  return <BioList />;
}

// ---------------------------------------------------------------------------
// Pages list and create
// ---------------------------------------------------------------------------

function BioList() {
  const { toast } = useApp();
  const [page, setPage] = useState(1);
  const pages = useAsync(() => list<Gallery>("/api/v1/galleries", { page, perPage: 20 }), [page]);
  const [deleting, setDeleting] = useState<Gallery | null>(null);
  const del = useAction(async (g: Gallery) => {
    await api("DELETE", `/api/v1/galleries/${gid(g.id)}`);
    setDeleting(null);
    toast(`Page "${g.title}" deleted.`);
    pages.reload();
  });
  return (
    <section aria-labelledby="bio-h">
      <h1 id="bio-h">Link-in-bio pages</h1>
      <p class="muted lede">
        One page with all your links, at <code>/bio/your-name</code>: build it here, publish it, and put its address in
        your social profiles.
      </p>
      <CreatePage />
      <h2>Your pages</h2>
      <ErrorBox error={pages.error} />
      {!pages.data && pages.loading && <Loading label="Loading pages…" />}
      {pages.data && pages.data.items.length === 0 && <Empty>No pages yet: create your first one above.</Empty>}
      {pages.data && pages.data.items.length > 0 && (
        <>
          <ul class="cards" aria-label="Pages">
            {pages.data.items.map((g) => (
              <li class="card" key={g.id}>
                <div class="card-head">
                  <h3>
                    <a href={`#/bio/${gid(g.id)}`}>{g.title}</a>
                  </h3>
                  {g.isPublished ? <Badge kind="ok">Published</Badge> : <Badge kind="off">Draft</Badge>}
                </div>
                <p class="small">
                  <code>/bio/{g.slug}</code> · theme {g.theme} · updated <When at={g.updatedAt} />
                </p>
                <div class="acts">
                  <a class="btn btn-plain" href={`#/bio/${gid(g.id)}`} aria-label={`Edit page ${g.title}`}>
                    Edit
                  </a>
                  {g.isPublished && (
                    <a class="btn btn-plain" href={`/bio/${g.slug}`} target="_blank" rel="noopener">
                      Open /bio/{g.slug}
                      <span class="sr-only"> (opens in a new tab)</span>
                    </a>
                  )}
                  <Button
                    write
                    variant="danger"
                    aria-label={`Delete page ${g.title}`}
                    onClick={() => {
                      del.setError(null);
                      setDeleting(g);
                    }}
                  >
                    Delete
                  </Button>
                </div>
              </li>
            ))}
          </ul>
          <Pager page={page} totalPages={pages.data.meta.totalPages} total={pages.data.meta.total} onPage={setPage} />
        </>
      )}
      <ConfirmDialog
        open={!!deleting}
        title="Delete this page?"
        confirmLabel="Delete page"
        busy={del.busy}
        error={del.error}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && del.run(deleting)}
      >
        {deleting && (
          <p>
            <strong>{deleting.title}</strong> and its items are deleted; <code>/bio/{deleting.slug}</code> stops
            working.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}

function slugify(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
}

function CreatePage() {
  const { toast } = useApp();
  const [title, setTitle] = useState("");
  const [slug, setSlug] = useState("");
  const [slugTouched, setSlugTouched] = useState(false);
  const [bio, setBio] = useState("");
  const [theme, setTheme] = useState<Theme>("default");
  const create = useAction(async () => {
    const g = await api<Gallery>("POST", "/api/v1/galleries", {
      title: title.trim(),
      slug: slug.trim(),
      bio: bio.trim() || undefined,
      theme,
    });
    toast(`Page "${g.title}" created: add items, then publish it.`);
    navigate(`/bio/${g.id}`);
  });
  return (
    <form
      noValidate
      class="card"
      aria-labelledby="new-page-h"
      onSubmit={(e) => {
        e.preventDefault();
        create.run();
      }}
    >
      <h2 id="new-page-h" class="card-title">
        Create a page
      </h2>
      <div class="row top">
        <Field label="Title" error={errAt(create.error, "title")} hint="Your name or brand.">
          {(id, d) => (
            <input
              id={id}
              value={title}
              maxLength={100}
              required
              aria-describedby={d}
              {...invalid(errAt(create.error, "title"))}
              onInput={(e) => {
                const v = e.currentTarget.value;
                setTitle(v);
                if (!slugTouched) setSlug(slugify(v));
              }}
            />
          )}
        </Field>
        <Field label="Address (slug)" error={errAt(create.error, "slug")} hint={`The page will be at /bio/${slug || "…"}`}>
          {(id, d) => (
            <input
              id={id}
              value={slug}
              required
              maxLength={100}
              spellcheck={false}
              autocomplete="off"
              aria-describedby={d}
              {...invalid(errAt(create.error, "slug"))}
              onInput={(e) => {
                setSlugTouched(true);
                setSlug(e.currentTarget.value);
              }}
            />
          )}
        </Field>
      </div>
      <Field label="Bio" error={errAt(create.error, "bio")} hint="Optional, up to 500 characters.">
        {(id, d) => (
          <textarea
            id={id}
            value={bio}
            maxLength={500}
            rows={2}
            aria-describedby={d}
            {...invalid(errAt(create.error, "bio"))}
            onInput={(e) => setBio(e.currentTarget.value)}
          />
        )}
      </Field>
      <ThemePicker name="new-theme" value={theme} onChange={setTheme} error={errAt(create.error, "theme")} />
      <FormError error={create.error} fields={["title", "slug", "bio", "theme"]} />
      <Button write type="submit" variant="primary" busy={create.busy}>
        Create page
      </Button>
    </form>
  );
}

function ThemePicker(props: { name: string; value: Theme; onChange: (t: Theme) => void; error?: string | null }) {
  return (
    <fieldset class="themes" aria-describedby={props.error ? `${props.name}-err` : undefined}>
      <legend>Theme</legend>
      <div class="theme-grid">
        {THEMES.map((t) => (
          <label key={t.id} class={`theme-opt${props.value === t.id ? " selected" : ""}`}>
            <span class="swatch" aria-hidden="true" style={{ background: t.bg }}>
              <span style={{ background: t.card, borderColor: t.fg }} />
              <span style={{ background: t.card, borderColor: t.fg }} />
            </span>
            <span class="theme-name">
              <input
                type="radio"
                name={props.name}
                value={t.id}
                checked={props.value === t.id}
                onChange={() => props.onChange(t.id)}
              />
              {t.label}
            </span>
          </label>
        ))}
      </div>
      {props.error && (
        <div class="field-error" id={`${props.name}-err`} role="alert">
          {props.error}
        </div>
      )}
    </fieldset>
  );
}

// ---------------------------------------------------------------------------
// Editor
// ---------------------------------------------------------------------------

function BioEditor({ id }: { id: string }) {
  const { toast } = useApp();
  const page = useAsync(() => api<Gallery>("GET", `/api/v1/galleries/${gid(id)}`), [id]);
  const [g, setG] = useState<Gallery | null>(null);
  const [previewTick, setPreviewTick] = useState(0);
  useEffect(() => {
    if (page.data) setG(page.data);
  }, [page.data]);
  const changed = () => setPreviewTick((t) => t + 1);

  const publish = useAction(async (on: boolean) => {
    const r = await api<Gallery>("POST", `/api/v1/galleries/${gid(id)}/publish`, { isPublished: on });
    setG(r);
    changed();
    toast(on ? `Published at /bio/${r.slug}.` : "Unpublished: the page now answers 404.");
  });

  if (page.error && !g) {
    return (
      <section>
        <p>
          <a href="#/bio">← All pages</a>
        </p>
        <ErrorBox error={page.error} />
      </section>
    );
  }
  if (!g) return <Loading label="Loading the page…" />;
  const publicPath = `/bio/${g.slug}`;

  return (
    <section aria-labelledby="ed-h">
      <p>
        <a href="#/bio">← All pages</a>
      </p>
      <div class="card-head">
        <h1 id="ed-h">{g.title}</h1>
        {g.isPublished ? <Badge kind="ok">Published</Badge> : <Badge kind="off">Draft</Badge>}
      </div>
      <div class="card publish-bar">
        <Toggle label="Published" checked={g.isPublished} busy={publish.busy} onChange={(v) => publish.run(v)} />
        <p class="small">
          {g.isPublished ? (
            <>
              Live at{" "}
              <a href={publicPath} target="_blank" rel="noopener">
                {g.url}
                <span class="sr-only"> (opens in a new tab)</span>
              </a>{" "}
              <CopyButton text={g.url} label="Copy address" />
            </>
          ) : (
            <span class="muted">Not published: {publicPath} answers “not found” until you publish it.</span>
          )}
        </p>
        <ErrorBox error={publish.error} />
      </div>
      <div class="bio-layout">
        <div class="bio-edit">
          <Items
            gallery={g}
            onChange={(items) => {
              setG((x) => (x ? { ...x, items } : x));
              changed();
            }}
          />
          <Settings
            key={g.updatedAt}
            gallery={g}
            onSaved={(r) => {
              setG(r);
              changed();
            }}
          />
          <DeletePage gallery={g} />
        </div>
        <Preview gallery={g} tick={previewTick} />
      </div>
    </section>
  );
}

function Preview({ gallery, tick }: { gallery: Gallery; tick: number }) {
  const path = `/bio/${gallery.slug}`;
  return (
    <aside class="card bio-preview" aria-labelledby="pv-h">
      <div class="card-head">
        <h2 id="pv-h" class="card-title">
          Live preview
        </h2>
        {gallery.isPublished && (
          <a href={path} target="_blank" rel="noopener" class="small">
            Open<span class="sr-only"> {path} in a new tab</span>
          </a>
        )}
      </div>
      {gallery.isPublished ? (
        <div class="phone">
          <iframe
            key={tick}
            src={`${path}?preview=${tick}`}
            title={`Preview of the public page ${path}`}
            data-testid="bio-preview"
          />
        </div>
      ) : (
        <div class="empty" data-testid="bio-unpublished">
          <p>
            <strong>This page is not published yet.</strong>
          </p>
          <p>
            Visitors to <code>{path}</code> get “not found”. Turn on <em>Published</em> above to see the live page here.
          </p>
        </div>
      )}
    </aside>
  );
}

function Settings({ gallery, onSaved }: { gallery: Gallery; onSaved: (g: Gallery) => void }) {
  const { toast } = useApp();
  const [title, setTitle] = useState(gallery.title);
  const [slug, setSlug] = useState(gallery.slug);
  const [bio, setBio] = useState(gallery.bio ?? "");
  const [avatar, setAvatar] = useState(gallery.avatarUrl ?? "");
  const [theme, setTheme] = useState<Theme>(gallery.theme);
  const [css, setCss] = useState(gallery.customCss ?? "");
  const save = useAction(async () => {
    const r = await api<Gallery>("PATCH", `/api/v1/galleries/${gid(gallery.id)}`, {
      title: title.trim(),
      slug: slug.trim(),
      bio: bio.trim() || null,
      avatarUrl: avatar.trim() || null,
      theme,
      customCss: css.trim() || null,
    });
    toast("Page settings saved.");
    onSaved(r);
  });
  const e = (f: string) => errAt(save.error, f);
  return (
    <form
      noValidate
      class="card"
      aria-labelledby="settings-h"
      onSubmit={(ev) => {
        ev.preventDefault();
        save.run();
      }}
    >
      <h2 id="settings-h" class="card-title">
        Page settings
      </h2>
      <div class="row top">
        <Field label="Title" error={e("title")}>
          {(id, d) => (
            <input
              id={id}
              value={title}
              maxLength={100}
              required
              aria-describedby={d}
              {...invalid(e("title"))}
              onInput={(x) => setTitle(x.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="Address (slug)" error={e("slug")} hint={`/bio/${slug}`}>
          {(id, d) => (
            <input
              id={id}
              value={slug}
              maxLength={100}
              required
              spellcheck={false}
              aria-describedby={d}
              {...invalid(e("slug"))}
              onInput={(x) => setSlug(x.currentTarget.value)}
            />
          )}
        </Field>
      </div>
      <Field label="Bio" error={e("bio")} hint="Up to 500 characters; line breaks are kept.">
        {(id, d) => (
          <textarea
            id={id}
            value={bio}
            maxLength={500}
            rows={3}
            aria-describedby={d}
            {...invalid(e("bio"))}
            onInput={(x) => setBio(x.currentTarget.value)}
          />
        )}
      </Field>
      <Field label="Avatar image URL" error={e("avatarUrl")} hint="Optional; an https:// image.">
        {(id, d) => (
          <input
            id={id}
            type="url"
            value={avatar}
            spellcheck={false}
            aria-describedby={d}
            {...invalid(e("avatarUrl"))}
            onInput={(x) => setAvatar(x.currentTarget.value)}
          />
        )}
      </Field>
      <ThemePicker name="theme" value={theme} onChange={setTheme} error={e("theme")} />
      {theme === "custom" && (
        <Field
          label="Custom CSS"
          error={e("customCss")}
          hint={
            <>
              Applied with the Custom theme. Variables: <code>--bg --fg --muted --card --card-fg --border --radius</code>;
              classes <code>.item</code>, <code>h1</code>, <code>.bio</code>. No “&lt;”.
            </>
          }
        >
          {(id, d) => (
            <textarea
              id={id}
              class="mono"
              value={css}
              rows={6}
              spellcheck={false}
              placeholder=":root { --bg: #fdf6e3; --fg: #073642; --card: #eee8d5; --card-fg: #073642; --border: #93a1a1; --radius: 20px }"
              aria-describedby={d}
              {...invalid(e("customCss"))}
              onInput={(x) => setCss(x.currentTarget.value)}
            />
          )}
        </Field>
      )}
      <FormError error={save.error} fields={["title", "slug", "bio", "avatarUrl", "theme", "customCss"]} />
      <Button write type="submit" variant="primary" busy={save.busy}>
        Save page settings
      </Button>
    </form>
  );
}

function DeletePage({ gallery }: { gallery: Gallery }) {
  const { toast } = useApp();
  const [open, setOpen] = useState(false);
  const del = useAction(async () => {
    await api("DELETE", `/api/v1/galleries/${gid(gallery.id)}`);
    toast(`Page "${gallery.title}" deleted.`);
    navigate("/bio");
  });
  return (
    <div class="acts danger-zone">
      <Button write variant="danger" onClick={() => setOpen(true)}>
        Delete page
      </Button>
      <ConfirmDialog
        open={open}
        title="Delete this page?"
        confirmLabel="Delete page"
        busy={del.busy}
        error={del.error}
        onClose={() => setOpen(false)}
        onConfirm={() => del.run()}
      >
        <p>
          <strong>{gallery.title}</strong> and its items are deleted; <code>/bio/{gallery.slug}</code> stops working.
        </p>
      </ConfirmDialog>
    </div>
  );
}

// ---------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------

export function itemLabel(it: Item): string {
  switch (it.type) {
    case "link":
      return it.title ?? "Link";
    case "header":
      return `Header: ${it.title ?? ""}`;
    case "divider":
      return "Divider";
    case "embed":
      return `YouTube: ${it.title || it.embedData?.videoId || ""}`;
    case "image":
      return `Image${it.title ? `: ${it.title}` : ""}`;
  }
}

function Items({ gallery, onChange }: { gallery: Gallery; onChange: (items: Item[]) => void }) {
  const { session, toast } = useApp();
  const items = gallery.items ?? [];
  const [announce, setAnnounce] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<Item | null>(null);
  const [deleting, setDeleting] = useState<Item | null>(null);
  const [adding, setAdding] = useState(false);
  const [drag, setDrag] = useState<{ from: number; over: number | null } | null>(null);
  const focusAfter = useRef<{ id: string; dir: "up" | "down" } | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const seq = useRef(0);
  const saving = useRef<Promise<unknown>>(Promise.resolve());

  // Keep keyboard focus on the moved item's button after the list re-renders
  // (a layout effect: in the same task as the re-render, so focus never sits
  // on a button the move just disabled).
  useLayoutEffect(() => {
    const f = focusAfter.current;
    if (!f || !listRef.current) return;
    focusAfter.current = null;
    const li = listRef.current.querySelector<HTMLElement>(`[data-item="${CSS.escape(f.id)}"]`);
    const btn =
      li?.querySelector<HTMLButtonElement>(`[data-move="${f.dir}"]:not(:disabled)`) ??
      li?.querySelector<HTMLButtonElement>(`[data-move]:not(:disabled)`);
    btn?.focus();
  });

  const move = (from: number, to: number, dir?: "up" | "down") => {
    if (session.readOnly || to < 0 || to >= items.length || from === to) return;
    const next = [...items];
    const [it] = next.splice(from, 1);
    next.splice(to, 0, it);
    if (dir) focusAfter.current = { id: it.id, dir };
    onChange(next);
    setAnnounce(`Moved “${itemLabel(it)}” to position ${to + 1} of ${next.length}.`);
    setError(null);
    // Moves apply at once; their saves run one after another (the last
    // order sent wins), so quick key presses are never dropped.
    const n = ++seq.current;
    const ids = next.map((x) => x.id);
    saving.current = saving.current
      .then(() => api<Item[]>("PATCH", `/api/v1/galleries/${gid(gallery.id)}/items/reorder`, { itemIds: ids }))
      .then(
        (saved) => {
          if (n === seq.current) onChange(saved);
        },
        async (e) => {
          if (n !== seq.current) return;
          setError(e);
          setAnnounce(`The move could not be saved: ${errorMessage(e)}`);
          const fresh = await api<Gallery>("GET", `/api/v1/galleries/${gid(gallery.id)}`).catch(() => null);
          if (fresh?.items && n === seq.current) onChange(fresh.items);
        },
      );
  };

  const del = useAction(async (it: Item) => {
    await api("DELETE", `/api/v1/galleries/${gid(gallery.id)}/items/${gid(it.id)}`);
    setDeleting(null);
    onChange(items.filter((x) => x.id !== it.id));
    toast(`“${itemLabel(it)}” deleted.`);
  });

  return (
    <section class="card" aria-labelledby="items-h">
      <div class="card-head">
        <h2 id="items-h" class="card-title">
          Items
        </h2>
        <Button write variant="primary" onClick={() => setAdding(true)}>
          Add item
        </Button>
      </div>
      <p class="small muted" id="reorder-help">
        Drag an item by its handle to reorder, or use its Move up / Move down buttons.
      </p>
      <div class="sr-only" role="status" aria-live="assertive" data-testid="reorder-live">
        {announce}
      </div>
      <ErrorBox error={error} />
      {items.length === 0 ? (
        <Empty>No items yet: add a link, a header, a divider, a YouTube video or an image.</Empty>
      ) : (
        <ol class="items" ref={listRef} aria-describedby="reorder-help">
          {items.map((it, i) => (
            <li
              key={it.id}
              data-item={it.id}
              class={`item-row${drag?.from === i ? " dragging" : ""}${drag && drag.over === i && drag.from !== i ? " drop-target" : ""}`}
              draggable={!session.readOnly}
              onDragStart={(e) => {
                setDrag({ from: i, over: null });
                e.dataTransfer?.setData("text/plain", it.id);
                if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
              }}
              onDragOver={(e) => {
                if (!drag) return;
                e.preventDefault();
                if (drag.over !== i) setDrag({ ...drag, over: i });
              }}
              onDrop={(e) => {
                e.preventDefault();
                if (drag) move(drag.from, i);
                setDrag(null);
              }}
              onDragEnd={() => setDrag(null)}
            >
              <span class="handle" aria-hidden="true" title="Drag to reorder">
                ⠿
              </span>
              <span class="item-pos" aria-hidden="true">
                {i + 1}
              </span>
              <div class="item-main">
                <span class={`pill pill-type`}>{TYPES.find((t) => t.id === it.type)?.label}</span>{" "}
                <span class="item-title">{it.type === "divider" ? "—" : it.title || (it.type === "embed" ? it.embedData?.videoId : "") || ""}</span>
                {(it.url || it.imageUrl) && <div class="small muted break">{it.imageUrl ?? it.url}</div>}
              </div>
              <div class="item-actions">
                <Button
                  write
                  data-move="up"
                  disabled={i === 0}
                  aria-label={`Move up: ${itemLabel(it)}`}
                  onClick={() => move(i, i - 1, "up")}
                >
                  ↑<span class="sr-only"> Move up</span>
                </Button>
                <Button
                  write
                  data-move="down"
                  disabled={i === items.length - 1}
                  aria-label={`Move down: ${itemLabel(it)}`}
                  onClick={() => move(i, i + 1, "down")}
                >
                  ↓<span class="sr-only"> Move down</span>
                </Button>
                <Button write aria-label={`Edit: ${itemLabel(it)}`} onClick={() => setEditing(it)}>
                  Edit
                </Button>
                <Button
                  write
                  variant="danger"
                  aria-label={`Delete: ${itemLabel(it)}`}
                  onClick={() => {
                    del.setError(null);
                    setDeleting(it);
                  }}
                >
                  Delete
                </Button>
              </div>
            </li>
          ))}
        </ol>
      )}
      <Modal title="Add an item" open={adding} onClose={() => setAdding(false)}>
        <ItemForm
          galleryId={gallery.id}
          onSaved={(it) => {
            setAdding(false);
            onChange([...items, it]);
            setAnnounce(`Added “${itemLabel(it)}” at position ${items.length + 1}.`);
          }}
          onCancel={() => setAdding(false)}
        />
      </Modal>
      <Modal title="Edit item" open={!!editing} onClose={() => setEditing(null)}>
        {editing && (
          <ItemForm
            galleryId={gallery.id}
            item={editing}
            onSaved={(it) => {
              setEditing(null);
              onChange(items.map((x) => (x.id === it.id ? it : x)));
              toast(`“${itemLabel(it)}” saved.`);
            }}
            onCancel={() => setEditing(null)}
          />
        )}
      </Modal>
      <ConfirmDialog
        open={!!deleting}
        title="Delete this item?"
        confirmLabel="Delete item"
        busy={del.busy}
        error={del.error}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && del.run(deleting)}
      >
        {deleting && <p>“{itemLabel(deleting)}” is removed from the page.</p>}
      </ConfirmDialog>
    </section>
  );
}

/** The YouTube video id of a watch/short/embed URL, or the id itself. */
export function youtubeId(s: string): string {
  const t = s.trim();
  if (/^[\w-]{11}$/.test(t)) return t;
  try {
    const u = new URL(t);
    const v = u.searchParams.get("v");
    if (v) return v;
    const parts = u.pathname.split("/").filter(Boolean);
    if (u.hostname.endsWith("youtu.be") && parts[0]) return parts[0];
    const i = parts.findIndex((p) => p === "embed" || p === "shorts" || p === "live");
    if (i >= 0 && parts[i + 1]) return parts[i + 1];
  } catch {
    /* not a URL: sent as typed, the API names the field */
  }
  return t;
}

function ItemForm(props: { galleryId: string; item?: Item; onSaved: (it: Item) => void; onCancel: () => void }) {
  const it = props.item;
  const [type, setType] = useState<ItemType>(it?.type ?? "link");
  const [title, setTitle] = useState(it?.title ?? "");
  const [url, setUrl] = useState(it?.url ?? "");
  const [imageUrl, setImageUrl] = useState(it?.imageUrl ?? "");
  const [video, setVideo] = useState(it?.embedData?.videoId ?? "");
  const save = useAction(async () => {
    const body: Record<string, unknown> = { type };
    const t = title.trim();
    const u = url.trim();
    if (type === "link") Object.assign(body, { title: t, url: u });
    if (type === "header") Object.assign(body, { title: t });
    if (type === "image") Object.assign(body, { imageUrl: imageUrl.trim(), url: u || null, title: t || null });
    if (type === "embed") Object.assign(body, { embedType: "youtube", embedData: { videoId: youtubeId(video) }, title: t || null });
    // A PATCH carries over only the stored fields the (new) type has, and
    // refuses fields of other types, so the body holds this type's alone.
    const saved = it
      ? await api<Item>("PATCH", `/api/v1/galleries/${gid(props.galleryId)}/items/${gid(it.id)}`, body)
      : await api<Item>("POST", `/api/v1/galleries/${gid(props.galleryId)}/items`, body);
    props.onSaved(saved);
  });
  const e = (f: string) => errAt(save.error, f);
  const videoErr = e("embedData.videoId") ?? e("embedData") ?? e("embedType");
  return (
    <form
      noValidate
      class="item-form"
      onSubmit={(ev) => {
        ev.preventDefault();
        save.run();
      }}
    >
      <Field label="Type" error={e("type")}>
        {(id, d) => (
          <select id={id} value={type} aria-describedby={d} onChange={(x) => setType(x.currentTarget.value as ItemType)}>
            {TYPES.map((t) => (
              <option key={t.id} value={t.id}>
                {t.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      {type === "divider" && <p class="muted">A divider is a horizontal line: it has no fields.</p>}
      {type === "image" && (
        <TextField label="Image URL" value={imageUrl} onInput={setImageUrl} error={e("imageUrl")} type="url" required />
      )}
      {type === "embed" && (
        <TextField
          label="YouTube video"
          value={video}
          onInput={setVideo}
          error={videoErr}
          hint="A YouTube address (youtube.com/watch?v=…, youtu.be/…) or the 11-character video id."
          required
        />
      )}
      {type !== "divider" && (
        <TextField
          label={type === "image" ? "Caption (optional)" : type === "embed" ? "Title (optional)" : "Title"}
          value={title}
          onInput={setTitle}
          error={e("title")}
          required={type === "link" || type === "header"}
        />
      )}
      {(type === "link" || type === "image") && (
        <TextField
          label={type === "image" ? "Link when tapped (optional)" : "URL"}
          value={url}
          onInput={setUrl}
          error={e("url")}
          type="url"
          required={type === "link"}
        />
      )}
      <FormError error={save.error} fields={["type", "title", "url", "imageUrl", "embedData.videoId", "embedData", "embedType"]} />
      <div class="acts">
        <Button write type="submit" variant="primary" busy={save.busy}>
          {it ? "Save item" : "Add item"}
        </Button>
        <Button onClick={props.onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

function TextField(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  error: string | null;
  hint?: ComponentChildren;
  type?: "text" | "url";
  required?: boolean;
}) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint}>
      {(id, d) => (
        <input
          id={id}
          type={(props.type ?? "text") as "text"}
          value={props.value}
          required={props.required}
          spellcheck={props.type === "url" ? false : undefined}
          aria-describedby={d}
          {...invalid(props.error)}
          onInput={(x) => props.onInput(x.currentTarget.value)}
        />
      )}
    </Field>
  );
}
