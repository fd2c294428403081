// The operator's blocklist (/api/v1/admin/blocklist): block a host (and its
// subdomains) for every workspace, see how many links each block banned
// (the bans run in the background, so the count grows), and unblock,
// which lifts exactly those bans.
import { useState } from "preact/hooks";
import { api, listAll } from "../api";
import { Button, Empty, ErrorBox, Field, Loading, fieldError, formatDate, useApp, useAsync } from "../ui";
import { ConfirmDialog, FormError, useAction } from "./kit";

interface Block {
  id: string;
  host: string;
  bannedLinks: number;
  createdAt: string;
}

export function Blocklist() {
  const { toast } = useApp();
  const blocks = useAsync(() => listAll<Block>("/api/v1/admin/blocklist"), []);
  const [host, setHost] = useState("");
  const [unblocking, setUnblocking] = useState<Block | null>(null);
  const add = useAction(async () => {
    const b = await api<Block>("POST", "/api/v1/admin/blocklist", { host: host.trim() });
    setHost("");
    toast(`${b.host} is blocked; its links are being banned.`);
    blocks.reload();
  });
  const remove = useAction(async (b: Block) => {
    await api("DELETE", `/api/v1/admin/blocklist/${encodeURIComponent(b.id)}`);
    setUnblocking(null);
    toast(`${b.host} is unblocked; the links it banned are being unbanned.`);
    blocks.reload();
  });
  const hostError = fieldError(add.error, "host");
  return (
    <section class="card" aria-labelledby="bl-h">
      <h2 id="bl-h">Blocked hosts</h2>
      <p class="muted">
        No link may point at a blocked host or its subdomains. Blocking bans the links that already do, in every
        workspace; unblocking lifts those bans (not the ones you set by hand).
      </p>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
        noValidate
      >
        <Field label="Host to block" hint="e.g. evil.example (blocks a.evil.example too)" error={hostError}>
          {(fid, d) => (
            <input
              id={fid}
              value={host}
              autocomplete="off"
              aria-describedby={d}
              aria-invalid={hostError ? "true" : undefined}
              onInput={(e) => setHost(e.currentTarget.value)}
            />
          )}
        </Field>
        <div class="form-actions">
          <Button type="submit" variant="danger" busy={add.busy} disabled={!host.trim()}>
            Block host
          </Button>
          <Button onClick={() => blocks.reload()}>Refresh</Button>
        </div>
      </form>
      <FormError error={add.error} fields={["host"]} />
      <ErrorBox error={blocks.error} />
      {!blocks.data ? (
        <Loading label="Loading the blocklist…" />
      ) : blocks.data.length === 0 ? (
        <Empty>No blocked hosts.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col" class="num">
                  Links banned
                </th>
                <th scope="col">Blocked</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {blocks.data.map((b) => (
                <tr key={b.id}>
                  <td>
                    <code>{b.host}</code>
                  </td>
                  <td class="num">{b.bannedLinks}</td>
                  <td>{formatDate(b.createdAt)}</td>
                  <td>
                    <Button onClick={() => setUnblocking(b)} aria-label={`Unblock ${b.host}`}>
                      Unblock
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={!!unblocking}
        title={`Unblock ${unblocking?.host ?? ""}?`}
        confirmLabel="Unblock"
        onConfirm={() => unblocking && remove.run(unblocking)}
        onClose={() => setUnblocking(null)}
        busy={remove.busy}
        error={remove.error}
      >
        <p>
          Links to it can be created again, and the {unblocking?.bannedLinks ?? 0} link(s) this block banned are unbanned.
        </p>
      </ConfirmDialog>
    </section>
  );
}
