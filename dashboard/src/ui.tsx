// Shared building blocks: every form control has a visible label and an
// error slot wired with aria-describedby; read-only sessions get disabled
// write buttons that say why.
import type { ButtonHTMLAttributes, ComponentChildren } from "preact";
import { createContext } from "preact";
import { useCallback, useContext, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError, type Session } from "./api";

export interface AppState {
  session: Session;
  /** Shows a short message in the live region (role=status). */
  toast: (message: string, kind?: "ok" | "error") => void;
}

export const App = createContext<AppState>(null as unknown as AppState);
export const useApp = () => useContext(App);

export const READ_ONLY_REASON = "This API key is read-only: sign in with a full-access key to make changes.";

/** A labelled control with hint and error text. `children` receives the id. */
export function Field(props: {
  label: string;
  error?: string | null;
  hint?: ComponentChildren;
  children: (id: string, describedBy: string | undefined) => ComponentChildren;
}) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errId = props.error ? `${id}-err` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(" ") || undefined;
  return (
    <div class={`field${props.error ? " has-error" : ""}`}>
      <label for={id}>{props.label}</label>
      {props.children(id, describedBy)}
      {props.hint && (
        <div class="hint" id={hintId}>
          {props.hint}
        </div>
      )}
      {props.error && (
        <div class="field-error" id={errId} role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  /** A write action: disabled, with the reason, for a read-only key. */
  write?: boolean;
  variant?: "primary" | "danger" | "plain";
  busy?: boolean;
  type?: "button" | "submit";
  disabled?: boolean;
};

export function Button({ write, variant = "plain", busy, disabled, children, ...rest }: ButtonProps) {
  const { session } = useApp();
  const blocked = write && session.readOnly;
  return (
    <button
      type="button"
      {...rest}
      class={`btn btn-${variant} ${rest.class ?? ""}`}
      disabled={disabled || busy || blocked}
      title={blocked ? READ_ONLY_REASON : (rest.title as string | undefined)}
      aria-busy={busy ? "true" : undefined}
    >
      {children}
    </button>
  );
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard API unavailable (http, old browser): select-and-copy.
      const ta = document.createElement("textarea");
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return (
    <button type="button" class="btn btn-plain" onClick={copy} aria-label={`${label}: ${text}`}>
      {done ? "Copied" : label}
    </button>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p class="loading" role="status">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div class="alert alert-error" role="alert">
      {errorMessage(error)}
    </div>
  );
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** The error for one form field, from an ApiError naming it. */
export function fieldError(e: unknown, field: string): string | null {
  return e instanceof ApiError && e.field === field ? e.message : null;
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `fn` when `deps` change; `reload()` runs it again (keeping data shown). */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => n === seq.current && setState({ data, loading: false }),
      (error) => n === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Calls `fn` every `ms` while the tab is visible (and once when it shows again). */
export function useVisibleInterval(fn: () => void, ms: number) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    let timer: number | undefined;
    const start = () => {
      stop();
      if (document.visibilityState === "visible") timer = window.setInterval(() => saved.current(), ms);
    };
    const stop = () => timer !== undefined && (clearInterval(timer), (timer = undefined));
    const onVis = () => {
      if (document.visibilityState === "visible") saved.current();
      start();
    };
    start();
    document.addEventListener("visibilitychange", onVis);
    return () => {
      stop();
      document.removeEventListener("visibilitychange", onVis);
    };
  }, [ms]);
}

/** Debounces a value: the latest one, `ms` after it stopped changing. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** A modal <dialog>: focus moves in, Escape closes, focus returns. */
export function Modal(props: { title: string; open: boolean; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={props.onClose} class="modal">
      <div class="modal-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="btn btn-plain" onClick={props.onClose} aria-label="Close dialog">
          ×
        </button>
      </div>
      {props.open && props.children}
    </dialog>
  );
}

export function Pager(props: { page: number; totalPages: number; total: number; onPage: (p: number) => void }) {
  if (props.totalPages <= 1) return <p class="muted">{props.total} in all</p>;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="btn btn-plain" disabled={props.page <= 1} onClick={() => props.onPage(props.page - 1)}>
        Previous
      </button>
      <span aria-live="polite">
        Page {props.page} of {props.totalPages} ({props.total} in all)
      </span>
      <button
        type="button"
        class="btn btn-plain"
        disabled={props.page >= props.totalPages}
        onClick={() => props.onPage(props.page + 1)}
      >
        Next
      </button>
    </nav>
  );
}

export function formatDate(s: string | null | undefined): string {
  if (!s) return "—";
  const d = new Date(s);
  return isNaN(d.getTime()) ? s : d.toLocaleString();
}
