// The one place the dashboard talks to the API: the envelope is unwrapped
// here and every failure becomes an ApiError carrying `error.field`, so a
// form can show it next to the control it names.

export type Role = "key" | "operator";

export interface Session {
  role: Role;
  token: string;
  /** True for a read-only API key: write controls are disabled. */
  readOnly: boolean;
}

const STORAGE_KEY = "edgelink.session";

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(STORAGE_KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface ListMeta {
  page: number;
  perPage: number;
  total: number;
  totalPages: number;
}

export interface ListResult<T> {
  items: T[];
  meta: ListMeta;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}${path.includes("?") ? "&" : "?"}${s}` : path;
}

let current: Session | null = loadSession();
export function setToken(s: Session | null): void {
  current = s;
  saveSession(s);
}

/** Called when a request answers 401, so the shell can sign out. */
let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(f: (() => void) | null): void {
  onUnauthorized = f;
}

/** A raw fetch with the bearer token; the caller reads the body. */
export async function rawFetch(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  const t = token ?? current?.token;
  if (t) headers.Authorization = `Bearer ${t}`;
  let payload: BodyInit | undefined;
  if (body instanceof Blob) {
    // A file as it is (a CSV import), with the type it was given.
    headers["Content-Type"] = body.type || "application/octet-stream";
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, "NETWORK", "The server could not be reached. Check your connection and try again.");
  }
  if (!res.ok) throw await toError(res, token === undefined);
  return res;
}

async function toError(res: Response, signOutOn401: boolean): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = `The server answered ${res.status}.`;
  let field: string | undefined;
  try {
    const j = await res.json();
    if (j?.error) {
      code = j.error.code ?? code;
      message = j.error.message ?? message;
      field = j.error.field ?? undefined;
    }
  } catch {
    /* not JSON: keep the generic message */
  }
  if (res.status === 401 && signOutOn401) onUnauthorized?.();
  if (res.status === 429) {
    const after = res.headers.get("Retry-After");
    if (after) message = `Too many requests: try again in ${after} s.`;
  }
  return new ApiError(res.status, code, message, field);
}

/** JSON call returning `data` (undefined for 204). */
export async function api<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await rawFetch(method, path, body, token);
  if (res.status === 204) return undefined as T;
  const j = await res.json();
  return j.data as T;
}

/** A paged list: `data` plus `meta`. */
export async function list<T>(path: string, query?: Query): Promise<ListResult<T>> {
  const res = await rawFetch("GET", withQuery(path, query));
  const j = await res.json();
  return { items: j.data as T[], meta: j.meta as ListMeta };
}

/** Every page of a list (for small resources: groups, domains, webhooks). */
export async function listAll<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const r = await list<T>(path, { page, perPage: 100 });
    out.push(...r.items);
    if (page >= r.meta.totalPages) return out;
  }
}

/** Saves a Blob as a file through a temporary link. */
export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
