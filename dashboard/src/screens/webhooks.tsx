// Webhooks: create (the signing secret shown once), enable/disable, edit
// the events, send a test and see what the target answered, the delivery
// log with a status filter and each delivery's payload, delete.
// "/webhooks" lists them; "/webhooks/{id}" is one webhook with its log.
import { useEffect, useState } from "preact/hooks";
import { api, list } from "../api";
import { navigate } from "../router";
import {
  Button,
  Empty,
  ErrorBox,
  Field,
  Loading,
  Modal,
  Pager,
  fieldError,
  useApp,
  useAsync,
  useVisibleInterval,
} from "../ui";
import type { ScreenProps } from "./index";
import { Badge, ConfirmDialog, FormError, OnceSecret, Toggle, When, invalid, useAction } from "./kit";
import "./kit.css";

export interface Webhook {
  id: string;
  name: string;
  url: string;
  events: string[];
  isActive: boolean;
  /** Set when the platform switched it off after failed deliveries. */
  disabledReason: string | null;
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

export interface Delivery {
  id: string;
  webhookId: string;
  event: string;
  eventId: string;
  status: "pending" | "success" | "failed";
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastDurationMs: number | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  payload?: unknown;
  lastResponse?: string | null;
}

interface TestResult {
  success: boolean;
  deliveryId: string;
  event: string;
  statusCode: number | null;
  durationMs: number | null;
  error: string | null;
}

export const EVENTS: { id: string; label: string; hint: string }[] = [
  { id: "click", label: "click", hint: "a click on a link that has webhook notifications on" },
  { id: "link.created", label: "link.created", hint: "a link was created" },
  { id: "link.updated", label: "link.updated", hint: "a link was changed" },
  { id: "link.deleted", label: "link.deleted", hint: "a link was deleted" },
  { id: "domain.verified", label: "domain.verified", hint: "a custom domain passed verification" },
  { id: "qr.scanned", label: "qr.scanned", hint: "a saved QR code tied to a link was scanned" },
];

const wid = (id: string) => encodeURIComponent(id);

export function WebhooksScreen({ params }: ScreenProps) {
  if (params.rest) return <WebhookDetail id={decodeURIComponent(params.rest.split("/")[0])} />;
  return <WebhookList />;
}

// ---------------------------------------------------------------------------
// List
// ---------------------------------------------------------------------------

function WebhookList() {
  const { toast } = useApp();
  const [page, setPage] = useState(1);
  const hooks = useAsync(() => list<Webhook>("/api/v1/webhooks", { page, perPage: 25 }), [page]);
  const [created, setCreated] = useState<Webhook | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const del = useAction(async (w: Webhook) => {
    await api("DELETE", `/api/v1/webhooks/${wid(w.id)}`);
    setDeleting(null);
    toast(`Webhook ${w.name || w.url} deleted.`);
    hooks.reload();
  });

  return (
    <section aria-labelledby="wh-h">
      <h1 id="wh-h">Webhooks</h1>
      <p class="muted lede">
        Get a signed HTTP POST when something happens. Each delivery carries <code>X-Webhook-Signature</code>, the hex
        HMAC-SHA256 of the raw body with the webhook's secret; failures are retried after 5 s, 30 s, 2 min and 10 min.
      </p>
      <WebhookForm
        onSaved={(w) => {
          setCreated(w);
          setPage(1);
          hooks.reload();
        }}
      />
      {created?.secret && (
        <OnceSecret
          label={`Signing secret of ${created.name || created.url}`}
          value={created.secret}
          onDismiss={() => setCreated(null)}
        >
          <p>Use it to check the X-Webhook-Signature header of every delivery.</p>
        </OnceSecret>
      )}

      <h2>Your webhooks</h2>
      <ErrorBox error={hooks.error} />
      {!hooks.data && hooks.loading && <Loading label="Loading webhooks…" />}
      {hooks.data && hooks.data.items.length === 0 && <Empty>No webhooks yet: create one above.</Empty>}
      {hooks.data && hooks.data.items.length > 0 && (
        <>
          <ul class="cards" aria-label="Webhooks">
            {hooks.data.items.map((w) => (
              <WebhookCard
                key={w.id}
                hook={w}
                onDelete={() => {
                  del.setError(null);
                  setDeleting(w);
                }}
              />
            ))}
          </ul>
          <Pager page={page} totalPages={hooks.data.meta.totalPages} total={hooks.data.meta.total} onPage={setPage} />
        </>
      )}
      <DeleteDialog hook={deleting} del={del} onClose={() => setDeleting(null)} />
    </section>
  );
}

function DeleteDialog({
  hook,
  del,
  onClose,
}: {
  hook: Webhook | null;
  del: ReturnType<typeof useAction<[Webhook], void>>;
  onClose: () => void;
}) {
  return (
    <ConfirmDialog
      open={!!hook}
      title="Delete this webhook?"
      confirmLabel="Delete webhook"
      busy={del.busy}
      error={del.error}
      onClose={onClose}
      onConfirm={() => hook && del.run(hook)}
    >
      {hook && (
        <p>
          <strong>{hook.name || hook.url}</strong> stops receiving events, and its delivery log is deleted.
        </p>
      )}
    </ConfirmDialog>
  );
}

function WebhookCard({ hook, onDelete }: { hook: Webhook; onDelete: () => void }) {
  const [w, setW] = useState(hook);
  const title = w.name || w.url;
  return (
    <li class="card">
      <div class="card-head">
        <h3>
          <a href={`#/webhooks/${wid(w.id)}`}>{title}</a>
        </h3>
        <StatusBadge hook={w} />
      </div>
      <DisabledNote hook={w} />
      {w.name && <p class="mono break small">{w.url}</p>}
      <EventChips events={w.events} />
      <ActiveToggle hook={w} onChange={setW} />
      <TestPanel hook={w} />
      <div class="acts">
        <a class="btn btn-plain" href={`#/webhooks/${wid(w.id)}`}>
          Settings &amp; delivery log<span class="sr-only"> of {title}</span>
        </a>
        <Button write variant="danger" onClick={onDelete} aria-label={`Delete webhook ${title}`}>
          Delete
        </Button>
      </div>
    </li>
  );
}

function StatusBadge({ hook }: { hook: Webhook }) {
  return hook.isActive ? <Badge kind="ok">Enabled</Badge> : <Badge kind="off">Disabled</Badge>;
}

/** Why the platform switched a webhook off, and how to switch it back on. */
function DisabledNote({ hook }: { hook: Webhook }) {
  if (hook.isActive || !hook.disabledReason) return null;
  return (
    <p class="alert alert-warn">
      Switched off automatically: {hook.disabledReason}. Fix the receiver, then turn “Enabled” back on.
    </p>
  );
}

/** A new signing secret, shown once; the old one keeps signing for 24 h. */
function RotateSecret({ hook, onRotated }: { hook: Webhook; onRotated: () => void }) {
  const { toast } = useApp();
  const [asking, setAsking] = useState(false);
  const [fresh, setFresh] = useState<Webhook | null>(null);
  const rotate = useAction(async () => {
    const w = await api<Webhook>("POST", `/api/v1/webhooks/${wid(hook.id)}/rotate-secret`);
    setAsking(false);
    setFresh(w);
    toast("New signing secret issued.");
  });
  const overlap = hook.previousSecretExpiresAt && Date.parse(hook.previousSecretExpiresAt) > Date.now();
  return (
    <div class="card">
      <h2 class="card-title">Signing secret</h2>
      <p class="muted">
        Rotating issues a new secret. For 24 hours deliveries are signed with both the new and the old one (two entries
        in <code>webhook-signature</code>), so your receiver can switch without missing a delivery.
      </p>
      {overlap && (
        <p class="small">The previous secret also signs until {new Date(hook.previousSecretExpiresAt!).toLocaleString()}.</p>
      )}
      {fresh?.secret && (
        <OnceSecret
          label="New signing secret"
          value={fresh.secret}
          onDismiss={() => {
            setFresh(null);
            onRotated();
          }}
        />
      )}
      <div class="acts">
        <Button
          write
          onClick={() => {
            rotate.setError(null);
            setAsking(true);
          }}
        >
          Rotate secret
        </Button>
      </div>
      <ConfirmDialog
        open={asking}
        title="Rotate the signing secret?"
        confirmLabel="Rotate"
        onConfirm={() => rotate.run()}
        onClose={() => setAsking(false)}
        busy={rotate.busy}
        error={rotate.error}
      >
        <p>The old secret keeps signing deliveries for 24 hours, next to the new one.</p>
      </ConfirmDialog>
    </div>
  );
}

function EventChips({ events }: { events: string[] }) {
  return (
    <ul class="chips" aria-label="Events">
      {events.map((e) => (
        <li key={e} class="chip">
          {e === "*" ? "all events (*)" : e}
        </li>
      ))}
    </ul>
  );
}

function ActiveToggle({ hook, onChange }: { hook: Webhook; onChange: (w: Webhook) => void }) {
  const { toast } = useApp();
  const set = useAction(async (v: boolean) => {
    const w = await api<Webhook>("PATCH", `/api/v1/webhooks/${wid(hook.id)}`, { isActive: v });
    onChange(w);
    toast(`${w.name || w.url} ${w.isActive ? "enabled" : "disabled"}.`);
  });
  return (
    <>
      <Toggle
        label="Enabled"
        srSuffix={`(${hook.name || hook.url})`}
        checked={hook.isActive}
        busy={set.busy}
        onChange={(v) => set.run(v)}
      />
      <ErrorBox error={set.error} />
    </>
  );
}

function TestPanel({ hook, onSent }: { hook: Webhook; onSent?: () => void }) {
  const [result, setResult] = useState<TestResult | null>(null);
  const send = useAction(async () => {
    setResult(null);
    const r = await api<TestResult>("POST", `/api/v1/webhooks/${wid(hook.id)}/test`);
    setResult(r);
    onSent?.();
  });
  return (
    <div class="test-panel">
      <Button write busy={send.busy} onClick={() => send.run()}>
        {send.busy ? "Sending…" : "Send test"}
        <span class="sr-only"> to {hook.name || hook.url}</span>
      </Button>
      <div role="status" aria-live="polite" class="test-result" data-testid="test-result">
        {result &&
          (result.success ? (
            <span class="alert alert-ok inline">
              Test delivered: the target answered HTTP {result.statusCode}
              {result.durationMs !== null && ` in ${result.durationMs} ms`}.
            </span>
          ) : (
            <span class="alert alert-error inline">
              Test failed:{" "}
              {result.statusCode ? `the target answered HTTP ${result.statusCode}` : "no answer from the target"}
              {result.error && ` (${result.error})`}.
            </span>
          ))}
      </div>
      <ErrorBox error={send.error} />
    </div>
  );
}

// ---------------------------------------------------------------------------
// Create / edit form
// ---------------------------------------------------------------------------

function WebhookForm({ hook, onSaved }: { hook?: Webhook; onSaved: (w: Webhook) => void }) {
  const { toast } = useApp();
  const [name, setName] = useState(hook?.name ?? "");
  const [url, setUrl] = useState(hook?.url ?? "");
  const [events, setEvents] = useState<string[]>(hook?.events ?? ["click", "link.created"]);
  const [active, setActive] = useState(hook?.isActive ?? true);
  const save = useAction(async () => {
    const body = { name: name.trim(), url: url.trim(), events, isActive: active };
    const w = hook
      ? await api<Webhook>("PATCH", `/api/v1/webhooks/${wid(hook.id)}`, body)
      : await api<Webhook>("POST", "/api/v1/webhooks", body);
    if (!hook) {
      setName("");
      setUrl("");
    }
    toast(hook ? "Webhook saved." : "Webhook created.");
    onSaved(w);
  });
  const headId = hook ? "edit-wh-h" : "create-wh-h";
  return (
    <form
      noValidate
      class="card"
      aria-labelledby={headId}
      onSubmit={(e) => {
        e.preventDefault();
        save.run();
      }}
    >
      <h2 id={headId} class="card-title">
        {hook ? "Settings" : "Create a webhook"}
      </h2>
      <div class="row top">
        <Field label="Name" error={fieldError(save.error, "name")} hint="Optional, e.g. “Click tracker”.">
          {(id, d) => (
            <input
              id={id}
              value={name}
              maxLength={100}
              onInput={(e) => setName(e.currentTarget.value)}
              aria-describedby={d}
              {...invalid(fieldError(save.error, "name"))}
            />
          )}
        </Field>
        <Field label="Target URL" error={fieldError(save.error, "url")} hint="An https:// address that accepts POST.">
          {(id, d) => (
            <input
              id={id}
              type="url"
              value={url}
              required
              placeholder="https://your-server.com/webhook"
              inputMode="url"
              spellcheck={false}
              onInput={(e) => setUrl(e.currentTarget.value)}
              aria-describedby={d}
              {...invalid(fieldError(save.error, "url"))}
            />
          )}
        </Field>
      </div>
      <EventsPicker value={events} onChange={setEvents} error={fieldError(save.error, "events")} />
      <label class="check">
        <input type="checkbox" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} /> Enabled (send
        deliveries)
      </label>
      <FormError error={save.error} fields={["name", "url", "events"]} />
      <div class="acts">
        <Button write type="submit" variant="primary" busy={save.busy}>
          {hook ? "Save changes" : "Create webhook"}
        </Button>
      </div>
    </form>
  );
}

export function EventsPicker(props: { value: string[]; onChange: (v: string[]) => void; error?: string | null }) {
  const all = props.value.includes("*");
  const toggle = (id: string, on: boolean) => {
    const rest = props.value.filter((e) => e !== id && e !== "*");
    props.onChange(on ? [...rest, id] : rest);
  };
  return (
    <fieldset class="events" aria-describedby={props.error ? "events-err" : undefined}>
      <legend>Events</legend>
      <label class="check">
        <input
          type="checkbox"
          checked={all}
          onChange={(e) => props.onChange(e.currentTarget.checked ? ["*"] : [])}
        />{" "}
        <span>
          <strong>All events</strong> <code>*</code> <span class="muted">(including ones added later)</span>
        </span>
      </label>
      <div class="event-grid">
        {EVENTS.map((ev) => (
          <label class="check" key={ev.id}>
            <input
              type="checkbox"
              checked={all || props.value.includes(ev.id)}
              disabled={all}
              onChange={(e) => toggle(ev.id, e.currentTarget.checked)}
            />{" "}
            <span>
              <code>{ev.label}</code> <span class="muted small">{ev.hint}</span>
            </span>
          </label>
        ))}
      </div>
      {props.error && (
        <div class="field-error" id="events-err" role="alert">
          {props.error}
        </div>
      )}
    </fieldset>
  );
}

// ---------------------------------------------------------------------------
// Detail: settings, test, delivery log
// ---------------------------------------------------------------------------

function WebhookDetail({ id }: { id: string }) {
  const { toast } = useApp();
  const hook = useAsync(() => api<Webhook>("GET", `/api/v1/webhooks/${wid(id)}`), [id]);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [logTick, setLogTick] = useState(0);
  const del = useAction(async (w: Webhook) => {
    await api("DELETE", `/api/v1/webhooks/${wid(w.id)}`);
    setDeleting(null);
    toast(`Webhook ${w.name || w.url} deleted.`);
    navigate("/webhooks");
  });
  const w = hook.data;
  return (
    <section aria-labelledby="whd-h">
      <p>
        <a href="#/webhooks">← All webhooks</a>
      </p>
      <h1 id="whd-h">{w ? w.name || w.url : "Webhook"}</h1>
      <ErrorBox error={hook.error} />
      {!w && hook.loading && <Loading label="Loading webhook…" />}
      {w && (
        <>
          <div class="card">
            <div class="card-head">
              <p class="mono break">{w.url}</p>
              <StatusBadge hook={w} />
            </div>
            <DisabledNote hook={w} />
            <TestPanel hook={w} onSent={() => setLogTick((t) => t + 1)} />
          </div>
          <RotateSecret hook={w} onRotated={() => hook.reload()} />
          <WebhookForm key={w.updatedAt} hook={w} onSaved={() => hook.reload()} />
          <DeliveryLog hookId={w.id} tick={logTick} />
          <div class="acts danger-zone">
            <Button
              write
              variant="danger"
              onClick={() => {
                del.setError(null);
                setDeleting(w);
              }}
            >
              Delete webhook
            </Button>
          </div>
        </>
      )}
      <DeleteDialog hook={deleting} del={del} onClose={() => setDeleting(null)} />
    </section>
  );
}

function statusBadge(s: Delivery["status"]) {
  if (s === "success") return <Badge kind="ok">Delivered</Badge>;
  if (s === "failed") return <Badge kind="error">Failed</Badge>;
  return <Badge kind="warn">Pending</Badge>;
}

function DeliveryLog({ hookId, tick }: { hookId: string; tick: number }) {
  const [status, setStatus] = useState("");
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<string | null>(null);
  const log = useAsync(
    () => list<Delivery>(`/api/v1/webhooks/${wid(hookId)}/deliveries`, { status, page, perPage: 20 }),
    [hookId, status, page, tick],
  );
  // Pending deliveries change on their own (retries): refresh while visible.
  const hasPending = !!log.data?.items.some((d) => d.status === "pending");
  useVisibleInterval(() => hasPending && log.reload(), 5000);
  useEffect(() => setPage(1), [status]);
  return (
    <section class="card" aria-labelledby="log-h">
      <div class="card-head">
        <h2 id="log-h" class="card-title">
          Delivery log
        </h2>
        <Button onClick={() => log.reload()} busy={log.loading && !!log.data}>
          Refresh
        </Button>
      </div>
      <div class="toolbar">
        <Field label="Status">
          {(id) => (
            <select id={id} value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
              <option value="">All</option>
              <option value="success">Delivered</option>
              <option value="failed">Failed</option>
              <option value="pending">Pending (retrying)</option>
            </select>
          )}
        </Field>
      </div>
      <ErrorBox error={log.error} />
      {!log.data && log.loading && <Loading label="Loading deliveries…" />}
      {log.data && log.data.items.length === 0 && (
        <Empty>{status ? "No deliveries with this status." : "No deliveries yet: send a test to see one here."}</Empty>
      )}
      {log.data && log.data.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table class="stack-sm" aria-describedby="log-h">
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col">Response</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">When</th>
                  <th scope="col">
                    <span class="sr-only">Details</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {log.data.items.map((d) => (
                  <tr key={d.id}>
                    <td data-label="Event">
                      <code>{d.event}</code>
                    </td>
                    <td data-label="Status">{statusBadge(d.status)}</td>
                    <td data-label="Response">
                      {d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : d.lastError ? "—" : "—"}
                      {d.lastDurationMs !== null && <span class="muted"> · {d.lastDurationMs} ms</span>}
                      {d.lastError && <div class="small field-error-text">{d.lastError}</div>}
                      {d.nextAttemptAt && (
                        <div class="small muted">
                          next try <When at={d.nextAttemptAt} />
                        </div>
                      )}
                    </td>
                    <td data-label="Attempts">{d.attempts}</td>
                    <td data-label="When">
                      <When at={d.lastAttemptAt ?? d.createdAt} />
                    </td>
                    <td class="cell-actions">
                      <Button onClick={() => setOpen(d.id)} aria-label={`Payload of ${d.event} delivery ${d.id}`}>
                        Payload
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={page} totalPages={log.data.meta.totalPages} total={log.data.meta.total} onPage={setPage} />
        </>
      )}
      <Modal title="Delivery" open={!!open} onClose={() => setOpen(null)}>
        {open && <DeliveryDetail hookId={hookId} id={open} />}
      </Modal>
    </section>
  );
}

function DeliveryDetail({ hookId, id }: { hookId: string; id: string }) {
  const d = useAsync(() => api<Delivery>("GET", `/api/v1/webhooks/${wid(hookId)}/deliveries/${wid(id)}`), [hookId, id]);
  if (d.error) return <ErrorBox error={d.error} />;
  if (!d.data) return <Loading label="Loading the delivery…" />;
  const x = d.data;
  return (
    <div class="delivery">
      <dl class="kv">
        <dt>Delivery</dt>
        <dd>
          <code>{x.id}</code>
        </dd>
        <dt>Event</dt>
        <dd>
          <code>{x.event}</code> (<code>{x.eventId}</code>)
        </dd>
        <dt>Status</dt>
        <dd>
          {statusBadge(x.status)} after {x.attempts} attempt{x.attempts === 1 ? "" : "s"}
          {x.lastStatusCode ? `, last answer HTTP ${x.lastStatusCode}` : ""}
        </dd>
        {x.lastError && (
          <>
            <dt>Error</dt>
            <dd>{x.lastError}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          <When at={x.createdAt} />
        </dd>
      </dl>
      <h3>Payload</h3>
      <pre class="code" tabIndex={0} aria-label="Payload JSON" data-testid="payload">
        {JSON.stringify(x.payload, null, 2)}
      </pre>
      {x.lastResponse && (
        <>
          <h3>Target's answer</h3>
          <pre class="code" tabIndex={0} aria-label="Response body">
            {x.lastResponse}
          </pre>
        </>
      )}
    </div>
  );
}
