// End-to-end harness: the built worker (build/index.js + index_bg.wasm) in
// Miniflare with public/ served as Workers static assets on a real
// 127.0.0.1 port, and Debian's Chromium driven by playwright-core.
// Nothing here touches the internet.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_TOKEN, startWorker } from "../helpers.mjs";

export { ADMIN_TOKEN };
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts the built worker with the dashboard's static assets on
 * http://127.0.0.1:<port>. SHORT_DOMAIN is that address, so every
 * `shortUrl` the API returns opens in the test browser as it is.
 * Returns { base, w (TestWorker: api(), workspace(), fetch()), close() }.
 */
export async function startApp({ vars = {}, country = "US", queueConsumer = true } = {}) {
  for (const f of ["build/index.js", "build/index_bg.wasm", "public/dashboard/index.html"]) {
    if (!existsSync(path.join(root, f))) {
      throw new Error(`${f} is missing: run \`bash scripts/build-worker.sh\` and \`npm run build:dashboard\` first`);
    }
  }
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const w = await startWorker({
    vars: { SHORT_DOMAIN: host, SHORT_SCHEME: "http", ...vars },
    country,
    queueConsumer,
    assets: "public",
    port,
    host: "127.0.0.1",
  });
  const base = `http://${host}`;
  return { base, w, close: () => w.close() };
}

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      const p = execFileSync("which", [name], { encoding: "utf8" }).trim();
      if (p) return p;
    } catch {
      /* try the next name */
    }
  }
  throw new Error("chromium not found: run `bash scripts/setup.sh` (installs Debian's chromium)");
}

/**
 * Headless Chromium with a fresh profile (a new temporary user-data-dir,
 * removed on close). Returns a Browser-like object: newPage(), newContext(),
 * close().
 */
export async function launchBrowser({ viewport = { width: 1280, height: 900 } } = {}) {
  const userDataDir = mkdtempSync(path.join(tmpdir(), "edgelink-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    acceptDownloads: true,
    colorScheme: "light",
    reducedMotion: "reduce",
  });
  for (const p of context.pages()) await p.close();
  return {
    context,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Records console errors and uncaught page errors. Call `assertNone()` at
 * the end of a test (or `errors` to inspect). Failed requests the test
 * provokes on purpose (a wrong key's 401) are logged by Chromium as
 * console errors "Failed to load resource": pass `allow` patterns for them.
 */
export function collectConsoleErrors(page, { allow = [] } = {}) {
  const errors = [];
  const allowed = (t) => allow.some((re) => re.test(t));
  page.on("console", (m) => {
    if (m.type() === "error" && !allowed(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return {
    errors,
    assertNone(label = "page") {
      if (errors.length) throw new Error(`${label}: browser console errors:\n${errors.join("\n")}`);
    },
  };
}

/** Opens the dashboard and signs in with an API key (or `{ operator: true }` for the operator token). */
export async function signIn(page, base, key, { operator = false } = {}) {
  await page.goto(`${base}/dashboard/`);
  if (operator) await page.getByLabel("Operator token", { exact: true }).check();
  await page.getByLabel(operator ? "Operator token" : "API key", { exact: true }).last().fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  await page.waitForFunction(() => location.hash.startsWith("#/"));
}

const axeSource = () => readFileSync(path.join(root, "node_modules/axe-core/axe.min.js"), "utf8");

/**
 * Runs axe-core on the page, in the light and the dark colour scheme (the
 * dashboard follows the system); throws on any serious or critical
 * violation. `{ schemes: ["light"] }` checks one scheme only.
 */
export async function checkAxe(page, label, { schemes = ["light", "dark"] } = {}) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
    await page.addScriptTag({ content: axeSource() });
  }
  let violations = [];
  try {
    for (const colorScheme of schemes) {
      await page.emulateMedia({ colorScheme });
      const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ["violations"] }));
      violations = violations.concat(result.violations);
      const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      if (bad.length) {
        const text = bad
          .map(
            (v) =>
              `${v.impact} ${v.id}: ${v.help}\n` +
              v.nodes
                .slice(0, 5)
                .map((n) => `    ${n.target.join(" ")} — ${n.failureSummary?.split("\n").join(" ")}`)
                .join("\n"),
          )
          .join("\n");
        throw new Error(`axe (${label}, ${colorScheme}): ${bad.length} serious/critical violation(s)\n${text}`);
      }
    }
  } finally {
    await page.emulateMedia({ colorScheme: "light" });
  }
  return violations;
}

export const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === "1";

/**
 * With UPDATE_SCREENSHOTS=1: writes docs/screenshots/<name>-1280.png and
 * <name>-375.png (full page), restoring the viewport afterwards. Without
 * it, does nothing, so `npm test` changes no tracked file.
 * `prepare(page)` runs after each resize (e.g. to reopen a dialog).
 */
export async function screenshot(page, name, { prepare, fullPage = true } = {}) {
  if (!UPDATE_SCREENSHOTS) return;
  const dir = path.join(root, "docs/screenshots");
  mkdirSync(dir, { recursive: true });
  const before = page.viewportSize();
  // Transient messages (toasts) would cover whatever is under them.
  const hide = await page.addStyleTag({ content: ".toast { visibility: hidden !important; }" });
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
    if (prepare) await prepare(page);
    await page.evaluate(() => document.fonts?.ready);
    await page.waitForTimeout(150);
    await page.screenshot({ path: path.join(dir, `${name}-${width}.png`), fullPage });
  }
  await hide.evaluate((el) => el.remove());
  if (before) await page.setViewportSize(before);
}

/** Polls `fn` until it returns a truthy value (or throws after `ms`). */
export async function waitFor(fn, { ms = 10000, step = 100, label = "condition" } = {}) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}${last ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, step));
  }
}
