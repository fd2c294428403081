// The shell: sign-in, navigation, the live region for messages, and the
// screen the hash names.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, ApiError, setToken, setUnauthorizedHandler, loadSession, type Session } from "./api";
import { match, navigate, useHashPath } from "./router";
import { screens } from "./screens";
import { App, Button, Field, errorMessage } from "./ui";

export function Root() {
  const [session, setSession] = useState<Session | null>(loadSession());
  const [message, setMessage] = useState<{ text: string; kind: "ok" | "error" } | null>(null);
  const path = useHashPath();

  const signOut = () => {
    setToken(null);
    setSession(null);
  };
  useEffect(() => {
    setUnauthorizedHandler(() => {
      signOut();
      setMessage({ text: "Your session is no longer valid: sign in again.", kind: "error" });
    });
    return () => setUnauthorizedHandler(null);
  }, []);
  useEffect(() => {
    if (!message) return;
    const t = setTimeout(() => setMessage(null), 5000);
    return () => clearTimeout(t);
  }, [message]);

  const visible = useMemo(() => screens.filter((s) => session && s.role === session.role), [session]);
  const active = useMemo(() => {
    for (const s of visible) {
      const params = match(s.path, path) ?? (s.path !== "/" ? matchPrefix(s.path, path) : null);
      if (params) return { screen: s, params };
    }
    return null;
  }, [visible, path]);

  useEffect(() => {
    if (session && !active && visible.length) navigate(visible[0].path);
  }, [session, active, visible]);
  useEffect(() => {
    document.title = active ? `${active.screen.title} · Edgelink` : "Edgelink dashboard";
  }, [active]);

  const toast = (text: string, kind: "ok" | "error" = "ok") => setMessage({ text, kind });
  const live = (
    <div class={`toast ${message ? `toast-${message.kind}` : ""}`} role="status" aria-live="polite">
      {message?.text}
    </div>
  );

  if (!session) {
    return (
      <>
        <SignIn
          onSignedIn={(s) => {
            setToken(s);
            setSession(s);
          }}
        />
        {live}
      </>
    );
  }
  const Active = active?.screen.component;
  return (
    <App.Provider value={{ session, toast }}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">Edgelink</span>
        <nav aria-label="Main">
          <ul>
            {visible
              .filter((s) => s.nav)
              .map((s) => (
                <li key={s.path}>
                  <a href={`#${s.path}`} aria-current={active?.screen === s ? "page" : undefined}>
                    {s.nav}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <div class="who">
          <span class="badge">
            {session.role === "operator" ? "Operator" : session.readOnly ? "Read-only key" : "Full-access key"}
          </span>
          <button type="button" class="btn btn-plain" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      {session.readOnly && (
        <p class="banner" role="note">
          You are signed in with a read-only key: you can see everything, and write controls are disabled.
        </p>
      )}
      <main id="main" tabIndex={-1}>
        {Active && <Active key={path} params={active!.params} />}
      </main>
      {live}
    </App.Provider>
  );
}

/** "/links" also owns "/links/…" sub-paths; the screen reads `params.rest`. */
function matchPrefix(base: string, path: string): Record<string, string> | null {
  const p = path.split("?")[0];
  return p.startsWith(base + "/") ? { rest: p.slice(base.length + 1) } : null;
}

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [role, setRole] = useState<"key" | "operator">("key");
  const [token, setTokenValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const t = token.trim();
    if (!t) {
      setError(role === "key" ? "Enter your API key." : "Enter the operator token.");
      return;
    }
    setBusy(true);
    try {
      onSignedIn(role === "key" ? await checkKey(t) : await checkOperator(t));
      navigate(role === "key" ? "/links" : "/operator");
    } catch (err) {
      setError(
        err instanceof ApiError && (err.status === 401 || err.status === 403)
          ? role === "key"
            ? "That API key was not accepted: check it, or ask for a new one."
            : "That operator token was not accepted."
          : errorMessage(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <h1>Sign in to Edgelink</h1>
      <form onSubmit={submit} noValidate>
        <fieldset class="segmented">
          <legend>Sign in with</legend>
          <label>
            <input type="radio" name="role" checked={role === "key"} onChange={() => setRole("key")} /> API key
          </label>
          <label>
            <input type="radio" name="role" checked={role === "operator"} onChange={() => setRole("operator")} />{" "}
            Operator token
          </label>
        </fieldset>
        <Field
          label={role === "key" ? "API key" : "Operator token"}
          error={error}
          hint={role === "key" ? "Starts with go2_. Kept in this tab only, until you sign out or close it." : "The deployment's ADMIN_TOKEN."}
        >
          {(id, describedBy) => (
            <input
              id={id}
              name="token"
              type="password"
              autocomplete="off"
              value={token}
              onInput={(e) => setTokenValue(e.currentTarget.value)}
              aria-describedby={describedBy}
              aria-invalid={error ? "true" : undefined}
              required
            />
          )}
        </Field>
        <SubmitButton busy={busy}>Sign in</SubmitButton>
      </form>
    </main>
  );
}

/** A submit button usable outside the App context (sign-in). */
function SubmitButton({ busy, children }: { busy: boolean; children: string }) {
  return (
    <button type="submit" class="btn btn-primary" disabled={busy} aria-busy={busy ? "true" : undefined}>
      {busy ? "Checking…" : children}
    </button>
  );
}

/** A key is checked by listing keys (any scope may read); its scope comes
 * from the listed key whose prefix it starts with. */
async function checkKey(token: string): Promise<Session> {
  const keys = await api<{ prefix: string; scope?: string; scopes?: string[] | string }[]>(
    "GET",
    "/api/v1/keys?perPage=100",
    undefined,
    token,
  );
  const mine = keys.find((k) => token.startsWith(k.prefix));
  const scope = JSON.stringify(mine?.scopes ?? mine?.scope ?? "");
  return { role: "key", token, readOnly: /read/.test(scope) && !/full|write/.test(scope) };
}

/** The operator API has no read endpoint: a PATCH of a workspace that
 * cannot exist answers 404 to the operator and 401 to anyone else. */
async function checkOperator(token: string): Promise<Session> {
  try {
    await api("PATCH", "/api/v1/admin/workspaces/ws_signin_check", {}, token);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status === 401 || e.status === 403 || e.status >= 500) throw e;
  }
  return { role: "operator", token, readOnly: false };
}

// Button is re-exported for screens that import from the shell.
export { Button };
