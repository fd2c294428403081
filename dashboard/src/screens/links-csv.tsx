// CSV in and out of the links table: export every link
// (GET /api/v1/links/export.csv) and import a CSV or a Bitly export
// (POST /api/v1/links/import, processed in the background), followed until
// it is done, with its rejected rows as a CSV.
import { useEffect, useRef, useState } from "preact/hooks";
import type { JSX } from "preact";
import { api, download, rawFetch } from "../api";
import type { Import } from "../types";
import { Button, errorMessage, useApp } from "../ui";

const finished = (j: Import | null) => j?.status === "done" || j?.status === "failed";

/** The toolbar buttons and, while an import runs or after it, its status card. */
export function useLinksCsv(onImported: () => void): { buttons: JSX.Element; status: JSX.Element | null } {
  const { toast } = useApp();
  const file = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState<"" | "export" | "import">("");
  const [name, setName] = useState("");
  const [job, setJob] = useState<Import | null>(null);

  // Poll once a second until the import ends; then the table shows its links.
  useEffect(() => {
    if (!job || finished(job)) return;
    const t = setTimeout(async () => {
      try {
        setJob(await api<Import>("GET", `/api/v1/imports/${encodeURIComponent(job.id)}`));
      } catch (e) {
        toast(errorMessage(e), "error");
        setJob(null);
      }
    }, 1000);
    return () => clearTimeout(t);
  }, [job]);
  useEffect(() => {
    if (finished(job)) onImported();
  }, [job?.status]);

  const fetchCsv = async (path: string, filename: string, what: "export" | "import") => {
    setBusy(what);
    try {
      download(await (await rawFetch("GET", path)).blob(), filename);
    } catch (e) {
      toast(errorMessage(e), "error");
    } finally {
      setBusy("");
    }
  };

  const upload = async (f: File) => {
    setBusy("import");
    try {
      // The server takes text/csv whatever type the browser guessed.
      const started = await api<{ importId: string; totalRows: number }>(
        "POST",
        "/api/v1/links/import",
        new Blob([f], { type: "text/csv" }),
      );
      setName(f.name);
      setJob({
        id: started.importId,
        status: "queued",
        totalRows: started.totalRows,
        processedRows: 0,
        created: 0,
        skipped: 0,
        failed: 0,
        error: null,
        errorsUrl: `/api/v1/imports/${encodeURIComponent(started.importId)}/errors.csv`,
      });
    } catch (e) {
      toast(errorMessage(e), "error");
    } finally {
      setBusy("");
      if (file.current) file.current.value = "";
    }
  };

  const buttons = (
    <>
      <Button onClick={() => fetchCsv("/api/v1/links/export.csv", "links.csv", "export")} busy={busy === "export"}>
        Export CSV
      </Button>
      <Button write onClick={() => file.current?.click()} busy={busy === "import"} disabled={!!job && !finished(job)}>
        Import CSV
      </Button>
      <input
        ref={file}
        type="file"
        accept=".csv,text/csv"
        hidden
        aria-label="CSV file to import"
        onChange={(e) => {
          const f = e.currentTarget.files?.[0];
          if (f) void upload(f);
        }}
      />
    </>
  );

  const status = job && (
    <div class="card import-status" role="status" aria-live="polite" aria-label="Import">
      {!finished(job) ? (
        <p>
          Importing {name}: {job.processedRows} of {job.totalRows} rows…
        </p>
      ) : (
        <>
          <p>
            {job.status === "failed" ? `Import of ${name} stopped${job.error ? `: ${job.error}` : ""}. ` : `Imported ${name}: `}
            {job.created} created, {job.skipped} skipped, {job.failed} failed.
          </p>
          <div class="actions">
            {job.skipped + job.failed > 0 && (
              <Button onClick={() => fetchCsv(job.errorsUrl, `import-errors-${job.id}.csv`, "import")} busy={busy === "import"}>
                Download rejected rows (CSV)
              </Button>
            )}
            <Button onClick={() => setJob(null)}>Dismiss</Button>
          </div>
        </>
      )}
    </div>
  );
  return { buttons, status };
}
