// Operator mode (signed in with ADMIN_TOKEN): create a workspace and see
// its first API key once; change a workspace's plan, name or link quota;
// ban or unban a link by id; block hosts (operator-blocklist.tsx). The
// operator API lists no workspaces, so the workspaces created in this tab
// are remembered (ids only) for reuse.
import { useState } from "preact/hooks";
import { api } from "../api";
import type { Link } from "../types";
import { Button, ErrorBox, Field, fieldError, useApp } from "../ui";
import type { ScreenProps } from "./index";
import { OnceSecret, useAction } from "./kit";
import { Blocklist } from "./operator-blocklist";

type Plan = "free" | "pro" | "business";
interface Workspace {
  id: string;
  name: string;
  plan: Plan;
  linkQuota?: number | null;
}
const PLANS: Array<[Plan, string]> = [
  ["free", "Free (60 requests/min)"],
  ["pro", "Pro (300 requests/min)"],
  ["business", "Business (1000 requests/min)"],
];
const RECENT = "edgelink.operator.workspaces";

function recent(): Workspace[] {
  try {
    return JSON.parse(sessionStorage.getItem(RECENT) ?? "[]") as Workspace[];
  } catch {
    return [];
  }
}
function remember(w: Workspace) {
  const list = [w, ...recent().filter((x) => x.id !== w.id)].slice(0, 20);
  sessionStorage.setItem(RECENT, JSON.stringify(list));
}

const quota = (s: string) => (s.trim() === "" ? null : Number(s));
const errs = (e: unknown, fields: string[]) => (e && !fields.some((f) => fieldError(e, f)) ? e : null);

export function OperatorScreen(_: ScreenProps) {
  const [known, setKnown] = useState<Workspace[]>(recent);
  const keep = (w: Workspace) => {
    remember(w);
    setKnown(recent());
  };
  return (
    <section aria-labelledby="op-h">
      <h1 id="op-h">Operator</h1>
      <p class="muted">
        You are signed in with the deployment's operator token. It can create workspaces, change their plans and ban
        links; it cannot read a workspace's links (sign in with that workspace's key for that).
      </p>
      <div class="grid-2">
        <CreateWorkspace onCreated={keep} />
        <ChangePlan known={known} onChanged={keep} />
      </div>
      <BanLink />
      <Blocklist />
      {known.length > 0 && (
        <section class="card" aria-labelledby="known-h">
          <h2 id="known-h">Workspaces changed in this tab</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Id</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Link quota</th>
                </tr>
              </thead>
              <tbody>
                {known.map((w) => (
                  <tr key={w.id}>
                    <td>{w.name}</td>
                    <td>
                      <code>{w.id}</code>
                    </td>
                    <td>{w.plan}</td>
                    <td>{w.linkQuota ?? "plan default"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </section>
  );
}

function CreateWorkspace({ onCreated }: { onCreated: (w: Workspace) => void }) {
  const { toast } = useApp();
  const [name, setName] = useState("");
  const [plan, setPlan] = useState<Plan>("free");
  const [linkQuota, setLinkQuota] = useState("");
  const [created, setCreated] = useState<{ workspace: Workspace; key: string } | null>(null);
  const create = useAction(async () => {
    const body: Record<string, unknown> = { name: name.trim(), plan };
    if (linkQuota.trim()) body.linkQuota = quota(linkQuota);
    const r = await api<{ workspace: Workspace; apiKey: { key: string } }>("POST", "/api/v1/admin/workspaces", body);
    setCreated({ workspace: r.workspace, key: r.apiKey.key });
    onCreated(r.workspace);
    setName("");
    setLinkQuota("");
    toast(`Workspace "${r.workspace.name}" created.`);
  });
  return (
    <section class="card" aria-labelledby="cw-h">
      <h2 id="cw-h">Create a workspace</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
        noValidate
      >
        <Field label="Workspace name" error={fieldError(create.error, "name")}>
          {(id, d) => (
            <input
              id={id}
              value={name}
              required
              aria-describedby={d}
              aria-invalid={fieldError(create.error, "name") ? "true" : undefined}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          )}
        </Field>
        <Field label="Plan" error={fieldError(create.error, "plan")}>
          {(id, d) => (
            <select id={id} value={plan} aria-describedby={d} onChange={(e) => setPlan(e.currentTarget.value as Plan)}>
              {PLANS.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Link quota (optional)" hint="Empty: the plan's default." error={fieldError(create.error, "linkQuota")}>
          {(id, d) => (
            <input id={id} type="number" min={0} value={linkQuota} aria-describedby={d} onInput={(e) => setLinkQuota(e.currentTarget.value)} />
          )}
        </Field>
        <ErrorBox error={errs(create.error, ["name", "plan", "linkQuota"])} />
        <Button type="submit" variant="primary" busy={create.busy}>
          Create workspace
        </Button>
      </form>
      {created && (
        <OnceSecret label={`First API key of "${created.workspace.name}"`} value={created.key} onDismiss={() => setCreated(null)}>
          <p>
            Workspace id <code data-testid="workspace-id">{created.workspace.id}</code>, plan <strong>{created.workspace.plan}</strong>.
            Give this full-access key to the workspace's owner.
          </p>
        </OnceSecret>
      )}
    </section>
  );
}

function ChangePlan({ known, onChanged }: { known: Workspace[]; onChanged: (w: Workspace) => void }) {
  const { toast } = useApp();
  const [id, setId] = useState("");
  const [plan, setPlan] = useState<Plan | "">("");
  const [name, setName] = useState("");
  const [linkQuota, setLinkQuota] = useState("");
  const [clearQuota, setClearQuota] = useState(false);
  const [result, setResult] = useState<Workspace | null>(null);
  const change = useAction(async () => {
    const body: Record<string, unknown> = {};
    if (plan) body.plan = plan;
    if (name.trim()) body.name = name.trim();
    if (clearQuota) body.linkQuota = null;
    else if (linkQuota.trim()) body.linkQuota = quota(linkQuota);
    const w = await api<Workspace>("PATCH", `/api/v1/admin/workspaces/${encodeURIComponent(id.trim())}`, body);
    setResult(w);
    onChanged(w);
    toast(`Workspace "${w.name}" is now on the ${w.plan} plan.`);
  });
  return (
    <section class="card" aria-labelledby="cp-h">
      <h2 id="cp-h">Change a workspace</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void change.run();
        }}
        noValidate
      >
        <Field label="Workspace id" hint="ws_… (from its creation)" error={change.error && !fieldError(change.error, "plan") && !fieldError(change.error, "name") && !fieldError(change.error, "linkQuota") ? (change.error as Error).message : null}>
          {(fid, d) => (
            <input
              id={fid}
              list="known-workspaces"
              value={id}
              required
              autocomplete="off"
              aria-describedby={d}
              onInput={(e) => setId(e.currentTarget.value)}
            />
          )}
        </Field>
        <datalist id="known-workspaces">
          {known.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name} ({w.plan})
            </option>
          ))}
        </datalist>
        <Field label="New plan" error={fieldError(change.error, "plan")}>
          {(fid, d) => (
            <select id={fid} value={plan} aria-describedby={d} onChange={(e) => setPlan(e.currentTarget.value as Plan | "")}>
              <option value="">Keep the current plan</option>
              {PLANS.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="New name (optional)" error={fieldError(change.error, "name")}>
          {(fid, d) => <input id={fid} value={name} aria-describedby={d} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field label="New link quota (optional)" error={fieldError(change.error, "linkQuota")}>
          {(fid, d) => (
            <input
              id={fid}
              type="number"
              min={0}
              value={linkQuota}
              disabled={clearQuota}
              aria-describedby={d}
              onInput={(e) => setLinkQuota(e.currentTarget.value)}
            />
          )}
        </Field>
        <label class="check">
          <input type="checkbox" checked={clearQuota} onChange={(e) => setClearQuota(e.currentTarget.checked)} /> Use the plan's default
          link quota
        </label>
        <Button type="submit" variant="primary" busy={change.busy} disabled={!id.trim()}>
          Save workspace
        </Button>
      </form>
      {result && (
        <p class="alert alert-ok" role="status">
          <strong>{result.name}</strong> (<code>{result.id}</code>): plan <strong data-testid="plan-result">{result.plan}</strong>
          {result.linkQuota !== undefined && `, link quota ${result.linkQuota ?? "plan default"}`}.
        </p>
      )}
    </section>
  );
}

function BanLink() {
  const { toast } = useApp();
  const [id, setId] = useState("");
  const [link, setLink] = useState<Link | null>(null);
  const ban = useAction(async (banned: boolean) => {
    const l = await api<Link>("PATCH", `/api/v1/admin/links/${encodeURIComponent(id.trim())}`, { banned });
    setLink(l);
    toast(`${l.shortUrl} is ${l.banned ? "banned" : "no longer banned"}.`);
  });
  return (
    <section class="card" aria-labelledby="ban-h">
      <h2 id="ban-h">Ban or unban a link</h2>
      <p class="muted">A banned link answers 451 (unavailable) to visitors, and its owner cannot unban it. Works on any workspace's link.</p>
      <form class="row" onSubmit={(e) => e.preventDefault()} noValidate>
        <Field label="Link id" hint="lnk_… (the owner sees it in the API and on the link's page)" error={ban.error ? (ban.error as Error).message : null}>
          {(fid, d) => (
            <input id={fid} value={id} autocomplete="off" aria-describedby={d} onInput={(e) => setId(e.currentTarget.value)} />
          )}
        </Field>
        <div class="form-actions">
          <Button variant="danger" busy={ban.busy} disabled={!id.trim()} onClick={() => ban.run(true)}>
            Ban link
          </Button>
          <Button busy={ban.busy} disabled={!id.trim()} onClick={() => ban.run(false)}>
            Unban link
          </Button>
        </div>
      </form>
      {link && (
        <p class="alert alert-ok" role="status" data-testid="ban-result">
          <strong>{link.shortUrl}</strong> → {link.destinationUrl}: {link.banned ? "banned" : "not banned"}.
        </p>
      )}
    </section>
  );
}
