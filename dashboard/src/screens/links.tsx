// Links: the table (search, filters by tag, group, domain and archived,
// sorting, pagination, multi-select archive/delete), copy the short URL,
// download its QR code, CSV export and import (links-csv.tsx), and the
// create/edit form (link-form.tsx) under #/links/new and
// #/links/edit/<id>. Groups are managed here too.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, download, list, listAll, rawFetch } from "../api";
import { navigate } from "../router";
import type { Domain, Group, Link } from "../types";
import {
  Button,
  CopyButton,
  Empty,
  ErrorBox,
  Field,
  Loading,
  Pager,
  fieldError,
  formatDate,
  useApp,
  useAsync,
  useDebounced,
} from "../ui";
import type { ScreenProps } from "./index";
import { ConfirmDialog, useAction } from "./kit";
import { LinkForm } from "./link-form";
import { useLinksCsv } from "./links-csv";

export function LinksScreen({ params }: ScreenProps) {
  const rest = params.rest ?? "";
  if (rest === "new") return <LinkForm />;
  if (rest.startsWith("edit/")) return <LinkForm id={rest.slice(5)} />;
  return <LinksList />;
}

type Archived = "false" | "true" | "";

/** One entry of a bulk PATCH or DELETE answer. */
type BulkResult = { index: number; id: string; error?: { code: string; message: string } };

export function useGroupsAndDomains() {
  const groups = useAsync(() => listAll<Group>("/api/v1/groups"), []);
  const domains = useAsync(() => listAll<Domain>("/api/v1/domains"), []);
  return { groups, domains };
}

/** Downloads the PNG QR code of a short URL (POST /api/v1/qr/generate). */
export async function downloadQr(link: Pick<Link, "shortUrl" | "slug">) {
  const res = await rawFetch("POST", "/api/v1/qr/generate", { url: link.shortUrl, size: 512, format: "png" });
  download(await res.blob(), `qr-${link.slug}.png`);
}

function LinksList() {
  const { session, toast } = useApp();
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState("");
  const [groupId, setGroupId] = useState("");
  const [domain, setDomain] = useState("");
  const [archived, setArchived] = useState<Archived>("false");
  const [sort, setSort] = useState<"created" | "clicks" | "updated">("created");
  const [perPage, setPerPage] = useState(20);
  const [page, setPage] = useState(1);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState<null | { ids: string[] }>(null);
  const q = useDebounced(search.trim(), 300);
  const t = useDebounced(tag.trim(), 300);
  const { groups, domains } = useGroupsAndDomains();

  const links = useAsync(
    () =>
      list<Link>("/api/v1/links", {
        page,
        perPage,
        search: q,
        tag: t,
        groupId,
        domain,
        archived: archived === "" ? undefined : archived,
        sort,
      }),
    [page, perPage, q, t, groupId, domain, archived, sort],
  );
  // Back to page 1 whenever the filter changes.
  useEffect(() => setPage(1), [q, t, groupId, domain, archived, sort, perPage]);
  useEffect(() => setSelected(new Set()), [links.data]);

  const items = links.data?.items ?? [];
  const allSelected = items.length > 0 && items.every((l) => selected.has(l.id));
  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const n = new Set(s);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });
  const groupName = useMemo(() => new Map((groups.data ?? []).map((g) => [g.id, g.name])), [groups.data]);

  // One request for the selection (a page holds at most 100 links, the
  // bulk API's limit); each link succeeds or fails on its own.
  const bulk = useAction(async (what: "archive" | "unarchive" | "delete", ids: string[]) => {
    const results =
      what === "delete"
        ? await api<BulkResult[]>("DELETE", "/api/v1/links/bulk", { ids })
        : await api<BulkResult[]>("PATCH", "/api/v1/links/bulk", { ids, changes: { archived: what === "archive" } });
    const failed = results.filter((r) => r.error).map((r) => `${r.id}: ${r.error?.message}`);
    const done = results.length - failed.length;
    setConfirm(null);
    const verb = what === "delete" ? "deleted" : what === "archive" ? "archived" : "unarchived";
    toast(
      failed.length ? `${done} ${verb}; ${failed.length} failed (${failed[0]})` : `${done} link${done === 1 ? "" : "s"} ${verb}.`,
      failed.length ? "error" : "ok",
    );
    links.reload();
  });

  const qr = useAction(async (l: Link) => {
    await downloadQr(l);
    toast(`QR code for ${l.shortUrl} downloaded.`);
  });

  const csv = useLinksCsv(links.reload);

  const selectedIds = [...selected];
  return (
    <section aria-labelledby="links-h">
      <div class="page-head">
        <h1 id="links-h">Links</h1>
        <div class="actions">
          {csv.buttons}
          <Button write variant="primary" onClick={() => navigate("/links/new")}>
            New link
          </Button>
        </div>
      </div>
      {csv.status}

      <form class="card filters" role="search" aria-label="Filter links" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search">
          {(id) => (
            <input
              id={id}
              type="search"
              value={search}
              placeholder="Slug, title or URL"
              onInput={(e) => setSearch(e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="Tag">
          {(id) => <input id={id} value={tag} placeholder="e.g. marketing" onInput={(e) => setTag(e.currentTarget.value)} />}
        </Field>
        <Field label="Group">
          {(id) => (
            <select id={id} value={groupId} onChange={(e) => setGroupId(e.currentTarget.value)}>
              <option value="">All groups</option>
              {(groups.data ?? []).map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Domain">
          {(id) => (
            <select id={id} value={domain} onChange={(e) => setDomain(e.currentTarget.value)}>
              <option value="">All domains</option>
              {(domains.data ?? []).map((d) => (
                <option key={d.id} value={d.domain}>
                  {d.domain}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Show">
          {(id) => (
            <select id={id} value={archived} onChange={(e) => setArchived(e.currentTarget.value as Archived)}>
              <option value="false">Active links</option>
              <option value="true">Archived links</option>
              <option value="">Active and archived</option>
            </select>
          )}
        </Field>
        <Field label="Sort by">
          {(id) => (
            <select id={id} value={sort} onChange={(e) => setSort(e.currentTarget.value as typeof sort)}>
              <option value="created">Newest first</option>
              <option value="clicks">Most clicks</option>
              <option value="updated">Recently updated</option>
            </select>
          )}
        </Field>
        <Field label="Per page">
          {(id) => (
            <select id={id} value={perPage} onChange={(e) => setPerPage(Number(e.currentTarget.value))}>
              {[10, 20, 50, 100].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>

      {items.length > 0 && (
        <div class="bulk" role="region" aria-label="Selected links">
          <strong aria-live="polite">{selectedIds.length ? `${selectedIds.length} selected` : "Select links to act on several at once"}</strong>
          <Button write busy={bulk.busy} disabled={!selectedIds.length} onClick={() => bulk.run("archive", selectedIds)}>
            Archive
          </Button>
          <Button write busy={bulk.busy} disabled={!selectedIds.length} onClick={() => bulk.run("unarchive", selectedIds)}>
            Unarchive
          </Button>
          <Button write variant="danger" disabled={!selectedIds.length} onClick={() => setConfirm({ ids: selectedIds })}>
            Delete…
          </Button>
          {selectedIds.length > 0 && <Button onClick={() => setSelected(new Set())}>Clear selection</Button>}
        </div>
      )}

      <ErrorBox error={links.error} />
      <ErrorBox error={qr.error} />
      {links.loading && !links.data ? (
        <Loading label="Loading links…" />
      ) : items.length === 0 ? (
        <Empty>
          {q || t || groupId || domain || archived === "true" ? (
            <p>No links match these filters.</p>
          ) : (
            <>
              <p>No links yet.</p>
              {!session.readOnly && (
                <p>
                  <a href="#/links/new">Create your first short link</a>
                </p>
              )}
            </>
          )}
        </Empty>
      ) : (
        <div class="table-wrap">
          <table class="links-table" aria-describedby="links-count">
            <caption class="sr-only">Links, {sort === "created" ? "newest first" : sort === "clicks" ? "most clicks first" : "recently updated first"}</caption>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all links on this page"
                    checked={allSelected}
                    onChange={(e) => setSelected(e.currentTarget.checked ? new Set(items.map((l) => l.id)) : new Set())}
                  />
                </th>
                <th scope="col">Link</th>
                <th scope="col" class="hide-sm">
                  Tags and group
                </th>
                <th scope="col" class="num">
                  Clicks
                </th>
                <th scope="col" class="hide-sm">
                  Created
                </th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((l) => (
                <tr key={l.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${l.shortUrl}`}
                      checked={selected.has(l.id)}
                      onChange={(e) => toggle(l.id, e.currentTarget.checked)}
                    />
                  </td>
                  <td>
                    <div class="short">
                      <a href={l.shortUrl} target="_blank" rel="noopener noreferrer">
                        {l.shortUrl.replace(/^https?:\/\//, "")}
                      </a>
                    </div>
                    {l.title && <div>{l.title}</div>}
                    <div class="dest">→ {l.destinationUrl}</div>
                    <LinkStates link={l} />
                  </td>
                  <td class="hide-sm">
                    <div class="tags">
                      {l.tags.map((tg) => (
                        <button type="button" key={tg} class="tag" title={`Filter by tag ${tg}`} onClick={() => setTag(tg)}>
                          {tg}
                        </button>
                      ))}
                    </div>
                    {l.groupId && <div class="muted">{groupName.get(l.groupId) ?? l.groupId}</div>}
                  </td>
                  <td class="num">{l.clickCount}</td>
                  <td class="hide-sm">{formatDate(l.createdAt)}</td>
                  <td class="cell-actions">
                    <div class="actions">
                      <CopyButton text={l.shortUrl} label="Copy" />
                      <a class="btn btn-plain" href={`#/analytics/${encodeURIComponent(l.id)}`} aria-label={`Analytics of ${l.shortUrl}`}>
                        Analytics
                      </a>
                      <Button onClick={() => navigate(`/links/edit/${encodeURIComponent(l.id)}`)} aria-label={`${session.readOnly ? "View" : "Edit"} ${l.shortUrl}`}>
                        {session.readOnly ? "View" : "Edit"}
                      </Button>
                      <Button busy={qr.busy} onClick={() => qr.run(l)} aria-label={`Download the QR code of ${l.shortUrl} (PNG)`}>
                        QR
                      </Button>
                      <Button write variant="danger" onClick={() => setConfirm({ ids: [l.id] })} aria-label={`Delete ${l.shortUrl}`}>
                        Delete
                      </Button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div id="links-count">
        {links.data && (
          <Pager page={links.data.meta.page} totalPages={links.data.meta.totalPages} total={links.data.meta.total} onPage={setPage} />
        )}
      </div>

      <ConfirmDialog
        open={!!confirm}
        title={confirm && confirm.ids.length > 1 ? `Delete ${confirm.ids.length} links?` : "Delete this link?"}
        confirmLabel="Delete"
        busy={bulk.busy}
        error={bulk.error}
        onConfirm={() => confirm && bulk.run("delete", confirm.ids)}
        onClose={() => setConfirm(null)}
      >
        <p>The short URL stops working at once and its analytics can no longer be opened. This cannot be undone.</p>
        <p class="muted">Archiving keeps a link working while hiding it from the list.</p>
      </ConfirmDialog>

      <Groups groups={groups} onChange={() => groups.reload()} />
    </section>
  );
}

export function LinkStates({ link: l }: { link: Link }) {
  const expired = l.expiresAt && Date.parse(l.expiresAt) < Date.now();
  const used = l.clickLimit !== null && l.clickCount >= l.clickLimit;
  const s: Array<[string, string]> = [];
  if (l.banned) s.push(["Banned", "bad"]);
  if (l.suspended) s.push(["Suspended", "warn"]);
  if (l.archived) s.push(["Archived", "warn"]);
  if (expired) s.push(["Expired", "warn"]);
  if (used) s.push(["Click limit reached", "warn"]);
  if (l.hasPassword) s.push(["Password", "info"]);
  if (Object.keys(l.geoTargets).length) s.push(["Geo", "info"]);
  if (Object.keys(l.deviceTargets).length || l.iosUrl || l.androidUrl) s.push(["Device", "info"]);
  if (!s.length) return null;
  return (
    <div>
      {s.map(([label, kind]) => (
        <span key={label} class={`state state-${kind}`}>
          {label}
        </span>
      ))}
    </div>
  );
}

function Groups({ groups, onChange }: { groups: ReturnType<typeof useAsync<Group[]>>; onChange: () => void }) {
  const { toast } = useApp();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [removing, setRemoving] = useState<Group | null>(null);
  const create = useAction(async () => {
    const g = await api<Group>("POST", "/api/v1/groups", { name: name.trim(), description: description.trim() || null });
    setName("");
    setDescription("");
    toast(`Group "${g.name}" created.`);
    onChange();
  });
  const remove = useAction(async (g: Group) => {
    await api("DELETE", `/api/v1/groups/${encodeURIComponent(g.id)}`);
    setRemoving(null);
    toast(`Group "${g.name}" deleted.`);
    onChange();
  });
  return (
    <section aria-labelledby="groups-h" class="card">
      <h2 id="groups-h">Groups</h2>
      <p class="muted">Put links in a group to filter them together (and list them with the xiaomark-style batch API).</p>
      {groups.loading && !groups.data ? (
        <Loading label="Loading groups…" />
      ) : (groups.data ?? []).length === 0 ? (
        <p class="muted">No groups yet.</p>
      ) : (
        <ul class="group-list">
          {(groups.data ?? []).map((g) => (
            <li key={g.id}>
              <strong>{g.name}</strong> <span class="muted">({g.linkCount} links)</span>{" "}
              {g.description && <span class="muted">— {g.description}</span>}{" "}
              <code class="muted">{g.id}</code>{" "}
              <Button write variant="danger" class="btn-sm" onClick={() => setRemoving(g)} aria-label={`Delete group ${g.name}`}>
                Delete
              </Button>
            </li>
          ))}
        </ul>
      )}
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <Field label="New group name" error={fieldError(create.error, "name")}>
          {(id, d) => <input id={id} value={name} aria-describedby={d} maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field label="Description (optional)" error={fieldError(create.error, "description")}>
          {(id, d) => <input id={id} value={description} aria-describedby={d} onInput={(e) => setDescription(e.currentTarget.value)} />}
        </Field>
        <div class="form-actions">
          <Button write type="submit" busy={create.busy} disabled={!name.trim()}>
            Add group
          </Button>
        </div>
      </form>
      {create.error && !fieldError(create.error, "name") && !fieldError(create.error, "description") ? (
        <ErrorBox error={create.error} />
      ) : null}
      <ConfirmDialog
        open={!!removing}
        title={`Delete group "${removing?.name ?? ""}"?`}
        confirmLabel="Delete group"
        busy={remove.busy}
        error={remove.error}
        onConfirm={() => removing && remove.run(removing)}
        onClose={() => setRemoving(null)}
      >
        <p>Its links stay; they just leave the group.</p>
      </ConfirmDialog>
    </section>
  );
}
