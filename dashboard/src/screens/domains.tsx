// Custom domains: add one, see the TXT record that proves ownership,
// verify it (the result and what the DNS lookup found are shown), delete it
// (refused with a 409 while links use it: the message shows in the dialog).
import { useState } from "preact/hooks";
import { api, ApiError, list } from "../api";
import { Button, CopyButton, Empty, ErrorBox, Field, Loading, Pager, errorMessage, useApp, useAsync } from "../ui";
import type { ScreenProps } from "./index";
import { Badge, ConfirmDialog, FormError, When, invalid, useAction } from "./kit";
import "./kit.css";

export interface Domain {
  id: string;
  domain: string;
  verified: boolean;
  verifiedAt: string | null;
  linkCount: number;
  createdAt: string;
  verification: { type: "TXT"; name: string; value: string; status?: "verified" | "pending"; detail?: string };
}

export function DomainsScreen(_: ScreenProps) {
  const { toast } = useApp();
  const [page, setPage] = useState(1);
  const domains = useAsync(() => list<Domain>("/api/v1/domains", { page, perPage: 20 }), [page]);
  const [deleting, setDeleting] = useState<Domain | null>(null);
  const del = useAction(async (d: Domain) => {
    await api("DELETE", `/api/v1/domains/${encodeURIComponent(d.id)}`);
    setDeleting(null);
    toast(`${d.domain} deleted.`);
    domains.reload();
  });

  return (
    <section aria-labelledby="domains-h">
      <h1 id="domains-h">Custom domains</h1>
      <p class="muted lede">
        Use your own short domain (e.g. <code>go.example.com</code>): add it, publish the TXT record shown in your DNS,
        then verify. Point the domain at this worker (a CNAME or a Workers route) so its short links resolve here.
      </p>
      <AddDomain
        onAdded={() => {
          setPage(1);
          domains.reload();
        }}
      />
      <h2>Your domains</h2>
      <ErrorBox error={domains.error} />
      {!domains.data && domains.loading && <Loading label="Loading domains…" />}
      {domains.data && domains.data.items.length === 0 && (
        <Empty>No custom domains yet. Links use the platform's own short domain until you add one.</Empty>
      )}
      {domains.data && domains.data.items.length > 0 && (
        <>
          <ul class="cards" aria-label="Domains">
            {domains.data.items.map((d) => (
              <DomainCard
                key={d.id}
                domain={d}
                onDelete={() => {
                  del.setError(null);
                  setDeleting(d);
                }}
              />
            ))}
          </ul>
          <Pager page={page} totalPages={domains.data.meta.totalPages} total={domains.data.meta.total} onPage={setPage} />
        </>
      )}
      <ConfirmDialog
        open={!!deleting}
        title="Delete this domain?"
        confirmLabel="Delete domain"
        busy={del.busy}
        error={del.error}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && del.run(deleting)}
      >
        {deleting && (
          <p>
            <strong>{deleting.domain}</strong> will no longer serve short links.
            {deleting.linkCount > 0 &&
              ` It still has ${deleting.linkCount} link${deleting.linkCount === 1 ? "" : "s"}: move or delete them first.`}
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}

function AddDomain({ onAdded }: { onAdded: () => void }) {
  const { toast } = useApp();
  const [name, setName] = useState("");
  const add = useAction(async () => {
    const d = await api<Domain>("POST", "/api/v1/domains", { domain: name.trim() });
    setName("");
    toast(`${d.domain} added: publish its TXT record, then verify.`);
    onAdded();
  });
  // 409 (already added) carries no field but is about the domain.
  const err =
    add.error instanceof ApiError && (add.error.field === "domain" || add.error.status === 409)
      ? errorMessage(add.error)
      : null;
  return (
    <form
      noValidate
      class="card"
      aria-labelledby="add-domain-h"
      onSubmit={(e) => {
        e.preventDefault();
        add.run();
      }}
    >
      <h2 id="add-domain-h" class="card-title">
        Add a domain
      </h2>
      <div class="row top">
        <Field label="Domain name" error={err} hint="A host name only: no https://, no path.">
          {(id, d) => (
            <input
              id={id}
              value={name}
              placeholder="go.example.com"
              autocomplete="off"
              spellcheck={false}
              inputMode="url"
              onInput={(e) => setName(e.currentTarget.value)}
              aria-describedby={d}
              required
              {...invalid(err)}
            />
          )}
        </Field>
        <div class="field field-button">
          <Button write type="submit" variant="primary" busy={add.busy}>
            Add domain
          </Button>
        </div>
      </div>
      {!err && <FormError error={add.error} fields={[]} />}
    </form>
  );
}

function DomainCard({ domain, onDelete }: { domain: Domain; onDelete: () => void }) {
  const [d, setD] = useState(domain);
  const [detail, setDetail] = useState<string | null>(null);
  const headingId = `dom-${d.id}`;
  const verify = useAction(async () => {
    const r = await api<Domain>("POST", `/api/v1/domains/${encodeURIComponent(d.id)}/verify`);
    setD(r);
    setDetail(r.verified ? null : (r.verification.detail ?? "The TXT record was not found yet."));
  });
  return (
    <li class="card domain">
      <div class="card-head">
        <h3 id={headingId} class="mono">
          {d.domain}
        </h3>
        {d.verified ? <Badge kind="ok">Verified</Badge> : <Badge kind="warn">Pending verification</Badge>}
      </div>
      <p class="muted small">
        Added <When at={d.createdAt} />
        {d.verified && (
          <>
            {" "}
            · verified <When at={d.verifiedAt} />
          </>
        )}{" "}
        · {d.linkCount} link{d.linkCount === 1 ? "" : "s"}
      </p>
      {!d.verified && (
        <div class="dns">
          <p>Create this DNS record at your DNS provider, then press Verify:</p>
          <dl class="kv">
            <dt>Type</dt>
            <dd>
              <code>{d.verification.type}</code>
            </dd>
            <dt>Name</dt>
            <dd>
              <code class="break" data-testid="txt-name">
                {d.verification.name}
              </code>{" "}
              <CopyButton text={d.verification.name} label="Copy name" />
            </dd>
            <dt>Value</dt>
            <dd>
              <code class="break" data-testid="txt-value">
                {d.verification.value}
              </code>{" "}
              <CopyButton text={d.verification.value} label="Copy value" />
            </dd>
          </dl>
        </div>
      )}
      <div role="status" aria-live="polite" class="verify-result">
        {verify.busy && <span class="muted">Looking up the TXT record…</span>}
        {!verify.busy && d.verified && domain.verified !== d.verified && (
          <span class="alert alert-ok inline">Verified: links can now use {d.domain}.</span>
        )}
        {!verify.busy && detail && <span class="alert alert-warn inline">Not verified yet. {detail}</span>}
      </div>
      <ErrorBox error={verify.error} />
      <div class="acts">
        {!d.verified && (
          <Button write variant="primary" busy={verify.busy} onClick={() => verify.run()} aria-label={`Verify ${d.domain}`}>
            Verify
          </Button>
        )}
        <Button write variant="danger" onClick={onDelete} aria-label={`Delete ${d.domain}`}>
          Delete
        </Button>
      </div>
    </li>
  );
}
