// API keys: list, create (full access or read-only, the key shown once),
// revoke with a confirmation that warns when it is the key in use.
import { useState } from "preact/hooks";
import { api, list } from "../api";
import { Button, Empty, ErrorBox, Field, Loading, Pager, fieldError, useApp, useAsync } from "../ui";
import type { ScreenProps } from "./index";
import { Badge, ConfirmDialog, FormError, OnceSecret, When, invalid, useAction } from "./kit";
import "./kit.css";

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scope: "full" | "read-only";
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
}

export function KeysScreen(_: ScreenProps) {
  const { session, toast } = useApp();
  const [page, setPage] = useState(1);
  const keys = useAsync(() => list<ApiKey>("/api/v1/keys", { page, perPage: 20 }), [page]);
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const isMine = (k: ApiKey) => session.token.startsWith(k.prefix);

  const revoke = useAction(async (k: ApiKey) => {
    await api("DELETE", `/api/v1/keys/${encodeURIComponent(k.id)}`);
    setRevoking(null);
    toast(`Key "${k.name}" revoked.`);
    // Revoking the key in use: the next request answers 401 and the shell
    // signs out with a message.
    keys.reload();
  });

  return (
    <section aria-labelledby="keys-h">
      <h1 id="keys-h">API keys</h1>
      <p class="muted lede">
        Keys let scripts and apps use the API (<code>Authorization: Bearer go2_…</code>). A read-only key can list and
        read everything but change nothing.
      </p>
      <CreateKey
        onCreated={(k) => {
          setCreated(k);
          setPage(1);
          keys.reload();
        }}
      />
      {created && (
        <OnceSecret label={`New key "${created.name}"`} value={created.key} onDismiss={() => setCreated(null)}>
          <p>
            Access: <strong>{created.scope === "full" ? "Full access" : "Read-only"}</strong>
          </p>
        </OnceSecret>
      )}

      <h2>Active keys</h2>
      <ErrorBox error={keys.error} />
      {!keys.data && keys.loading && <Loading label="Loading keys…" />}
      {keys.data && keys.data.items.length === 0 && <Empty>No active keys.</Empty>}
      {keys.data && keys.data.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table class="stack-sm">
              <caption class="sr-only">Active API keys</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Access</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.items.map((k) => (
                  <tr key={k.id}>
                    <td data-label="Name">
                      {k.name}
                      {isMine(k) && (
                        <>
                          {" "}
                          <Badge kind="info">signed in with this key</Badge>
                        </>
                      )}
                    </td>
                    <td data-label="Key">
                      <code>{k.prefix}…</code>
                    </td>
                    <td data-label="Access">
                      {k.scope === "full" ? <Badge kind="ok">Full access</Badge> : <Badge kind="off">Read-only</Badge>}
                    </td>
                    <td data-label="Created">
                      <When at={k.createdAt} />
                    </td>
                    <td data-label="Last used">
                      <When at={k.lastUsedAt} />
                    </td>
                    <td class="cell-actions">
                      <Button
                        write
                        variant="danger"
                        aria-label={`Revoke key ${k.name} (${k.prefix}…)`}
                        onClick={() => {
                          revoke.setError(null);
                          setRevoking(k);
                        }}
                      >
                        Revoke
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={page} totalPages={keys.data.meta.totalPages} total={keys.data.meta.total} onPage={setPage} />
        </>
      )}

      <ConfirmDialog
        open={!!revoking}
        title="Revoke this key?"
        confirmLabel="Revoke key"
        busy={revoke.busy}
        error={revoke.error}
        onClose={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.run(revoking)}
      >
        {revoking && (
          <>
            <p>
              <strong>{revoking.name}</strong> (<code>{revoking.prefix}…</code>) stops working at once, for every app
              that uses it. This cannot be undone.
            </p>
            {isMine(revoking) && (
              <p class="alert alert-warn" role="note">
                You are signed in with this key: revoking it signs you out of this dashboard.
              </p>
            )}
          </>
        )}
      </ConfirmDialog>
    </section>
  );
}

function CreateKey({ onCreated }: { onCreated: (k: ApiKey & { key: string }) => void }) {
  const [name, setName] = useState("");
  const [scope, setScope] = useState<"full" | "read-only">("full");
  const create = useAction(async () => {
    const k = await api<ApiKey & { key: string }>("POST", "/api/v1/keys", {
      name: name.trim() || undefined,
      scopes: scope,
    });
    setName("");
    onCreated(k);
  });
  const nameErr = fieldError(create.error, "name");
  const scopeErr = fieldError(create.error, "scopes");
  return (
    <form
      noValidate
      class="card"
      aria-labelledby="create-key-h"
      onSubmit={(e) => {
        e.preventDefault();
        create.run();
      }}
    >
      <h2 id="create-key-h" class="card-title">
        Create a key
      </h2>
      <div class="row top">
        <Field label="Name" error={nameErr} hint="What uses it, e.g. “Zapier” or “CI”.">
          {(id, d) => (
            <input
              id={id}
              value={name}
              maxLength={100}
              onInput={(e) => setName(e.currentTarget.value)}
              aria-describedby={d}
              {...invalid(nameErr)}
            />
          )}
        </Field>
        <fieldset class="segmented" aria-describedby={scopeErr ? "scope-err" : undefined}>
          <legend>Access</legend>
          <label class="check">
            <input type="radio" name="scope" checked={scope === "full"} onChange={() => setScope("full")} /> Full access
          </label>
          <label class="check">
            <input type="radio" name="scope" checked={scope === "read-only"} onChange={() => setScope("read-only")} />{" "}
            Read-only
          </label>
          {scopeErr && (
            <div class="field-error" id="scope-err" role="alert">
              {scopeErr}
            </div>
          )}
        </fieldset>
      </div>
      <FormError error={create.error} fields={["name", "scopes"]} />
      <Button write type="submit" variant="primary" busy={create.busy}>
        Create key
      </Button>
    </form>
  );
}
