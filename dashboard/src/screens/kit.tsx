// Small pieces shared by the QR, bio, webhook, domain and key screens:
// a confirm dialog, a "shown once" secret, status badges, a form-submit
// helper that keeps the ApiError for field messages, and a few formatters.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api";
import { Button, CopyButton, Modal, errorMessage, useApp, READ_ONLY_REASON } from "../ui";

/** Runs a write; keeps its error (for `fieldError`) and a busy flag. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const running = useRef(false);
  const run = async (...args: A): Promise<R | undefined> => {
    if (running.current) return undefined;
    running.current = true;
    setBusy(true);
    setError(null);
    try {
      return await fn(...args);
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return { run, busy, error, setError };
}

/** The error message when it names none of `fields` (those show at the field). */
export function FormError({ error, fields }: { error: unknown; fields: string[] }) {
  if (!error) return null;
  if (error instanceof ApiError && error.field && fields.includes(error.field)) return null;
  return (
    <div class="alert alert-error" role="alert">
      {errorMessage(error)}
    </div>
  );
}

/** Asks before a destructive action; the error (e.g. a 409) shows inside. */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  confirmLabel: string;
  onConfirm: () => unknown;
  onClose: () => void;
  busy?: boolean;
  error?: unknown;
  children: ComponentChildren;
}) {
  return (
    <Modal title={props.title} open={props.open} onClose={props.onClose}>
      <div class="confirm-body">{props.children}</div>
      {!!props.error && (
        <div class="alert alert-error" role="alert">
          {errorMessage(props.error)}
        </div>
      )}
      <div class="acts">
        <Button write variant="danger" busy={props.busy} onClick={() => props.onConfirm()}>
          {props.confirmLabel}
        </Button>
        <Button onClick={props.onClose}>Cancel</Button>
      </div>
    </Modal>
  );
}

/** A secret the API shows only once: a copy button and a clear warning. */
export function OnceSecret(props: { label: string; value: string; onDismiss: () => void; children?: ComponentChildren }) {
  // Focus moves here when it appears, so nobody misses it (below the form).
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.scrollIntoView?.({ block: "center" });
  }, [props.value]);
  return (
    <div class="card once" role="region" aria-label={props.label}>
      <h2 class="once-title" tabIndex={-1} ref={ref}>
        {props.label}
      </h2>
      <p class="alert alert-warn">
        Copy it now: it is shown only this once and cannot be shown again.
      </p>
      {props.children}
      <div class="secret-row">
        <code class="secret" data-testid="secret">
          {props.value}
        </code>
        <CopyButton text={props.value} label="Copy" />
      </div>
      <div class="acts">
        <button type="button" class="btn btn-plain" onClick={props.onDismiss}>
          I have copied it
        </button>
      </div>
    </div>
  );
}

export function Badge({ kind, children }: { kind: "ok" | "warn" | "off" | "error" | "info"; children: ComponentChildren }) {
  return <span class={`pill pill-${kind}`}>{children}</span>;
}

/** A checkbox that writes at once (publish, enable): disabled with the reason for read-only keys. */
export function Toggle(props: {
  label: string;
  checked: boolean;
  busy?: boolean;
  onChange: (v: boolean) => void;
  /** Read by screen readers after the label (e.g. which webhook). */
  srSuffix?: string;
}) {
  const { session } = useApp();
  const blocked = session.readOnly;
  // Shows the new state at once; the saved state wins when the write ends.
  const [optimistic, setOptimistic] = useState<boolean | null>(null);
  useEffect(() => {
    if (!props.busy) setOptimistic(null);
  }, [props.busy, props.checked]);
  const on = optimistic ?? props.checked;
  return (
    <label class="toggle" title={blocked ? READ_ONLY_REASON : undefined}>
      <input
        type="checkbox"
        role="switch"
        checked={on}
        disabled={blocked || props.busy}
        aria-checked={on ? "true" : "false"}
        onChange={(e) => {
          const v = e.currentTarget.checked;
          setOptimistic(v);
          props.onChange(v);
        }}
      />
      <span class="toggle-track" aria-hidden="true" />
      <span>
        {props.label}
        {props.srSuffix && <span class="sr-only"> {props.srSuffix}</span>}
      </span>
      {blocked && <span class="sr-only"> ({READ_ONLY_REASON})</span>}
    </label>
  );
}

/** "3 minutes ago" style time with the full date in the tooltip. */
export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const d = new Date(at);
  if (isNaN(d.getTime())) return <span>{at}</span>;
  return (
    <time dateTime={at} title={d.toLocaleString()}>
      {relative(d)}
    </time>
  );
}

export function relative(d: Date, now = Date.now()): string {
  const s = Math.round((now - d.getTime()) / 1000);
  const abs = Math.abs(s);
  const fmt = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  if (abs < 45) return fmt.format(-s, "second");
  if (abs < 45 * 60) return fmt.format(-Math.round(s / 60), "minute");
  if (abs < 22 * 3600) return fmt.format(-Math.round(s / 3600), "hour");
  if (abs < 26 * 86400) return fmt.format(-Math.round(s / 86400), "day");
  return d.toLocaleDateString();
}

/** Props for an input showing the error of `field` from an ApiError. */
export function invalid(error: string | null | undefined) {
  return error ? { "aria-invalid": "true" as const } : {};
}

/** Visually hidden text for screen readers. */
export function SrOnly({ children }: { children: ComponentChildren }) {
  return <span class="sr-only">{children}</span>;
}
