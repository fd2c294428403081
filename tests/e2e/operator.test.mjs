// Operator mode: create a workspace (its first key shown once, with a copy
// button), change its plan, ban and unban a link; block a host (its links
// banned in the background) and unblock it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, launchBrowser, signIn, collectConsoleErrors, checkAxe, screenshot, waitFor, ADMIN_TOKEN } from "./harness.mjs";

const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
let app, browser;
before(async () => {
  app = await startApp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

test("operator: create a workspace and see its key once, change its plan, ban and unban a link", async () => {
  const page = await browser.newPage();
  // Signing in checks the token with a PATCH of a workspace that cannot
  // exist: the operator gets its 404 (logged by Chromium as a failed load).
  const con = collectConsoleErrors(page, { allow: [/status of 404/] });
  await signIn(page, app.base, ADMIN_TOKEN, { operator: true });
  await page.getByRole("heading", { name: "Operator" }).waitFor();
  await checkAxe(page, "operator");

  await page.getByLabel("Workspace name").fill("Globex");
  await page.getByLabel("Plan", { exact: true }).selectOption("pro");
  await page.getByRole("button", { name: "Create workspace" }).click();
  const once = page.getByRole("region", { name: 'First API key of "Globex"' });
  await once.waitFor();
  const key = await once.getByTestId("secret").innerText();
  assert.match(key, /^go2_/);
  await once.getByRole("button", { name: `Copy: ${key}` }).waitFor();
  await once.getByText("shown only this once", { exact: false }).waitFor();
  const wsId = await once.getByTestId("workspace-id").innerText();
  assert.match(wsId, /^ws_/);
  // The key works.
  const mine = await app.w.api("GET", "/api/v1/links", { key });
  assert.equal(mine.status, 200, mine.text);
  await checkAxe(page, "operator with a new key");
  await screenshot(page, "operator");
  await once.getByRole("button", { name: "I have copied it" }).click();
  assert.equal(await once.count(), 0);

  // Change the plan (the id is offered from this tab's list).
  await page.getByLabel("Workspace id").fill(wsId);
  await page.getByLabel("New plan").selectOption("business");
  await page.getByRole("button", { name: "Save workspace" }).click();
  assert.equal(await page.getByTestId("plan-result").innerText(), "business");
  await page.getByRole("region", { name: "Workspaces changed in this tab" }).getByText("business").waitFor();

  // Ban a link of that workspace: it stops redirecting; unban: it redirects again.
  const c = await app.w.api("POST", "/api/v1/links", { key, body: { destinationUrl: "https://example.com/x", slug: "bad-link" } });
  assert.equal(c.status, 201, c.text);
  const visit = async () => {
    const r = await fetch(`${app.base}/bad-link`, { redirect: "manual", headers: { "User-Agent": UA } });
    await r.arrayBuffer();
    return r.status;
  };
  assert.equal(await visit(), 302);
  await page.getByLabel("Link id").fill(c.body.data.id);
  await page.getByRole("button", { name: "Ban link", exact: true }).click();
  await page.getByTestId("ban-result").getByText(": banned", { exact: false }).waitFor();
  assert.equal(await visit(), 451);
  await page.getByRole("button", { name: "Unban link" }).click();
  await page.getByTestId("ban-result").getByText("not banned", { exact: false }).waitFor();
  assert.equal(await visit(), 302);
  con.assertNone();
  await page.close();
});

test("operator: block a host (its links are banned in every workspace, a bad host is shown at the field), then unblock it", async () => {
  const { key } = await app.w.workspace("Victim", "business");
  const c = await app.w.api("POST", "/api/v1/links", { key, body: { destinationUrl: "https://spam.evil.example/x", slug: "to-spam" } });
  assert.equal(c.status, 201, c.text);
  const visit = async () => {
    const r = await fetch(`${app.base}/to-spam`, { redirect: "manual", headers: { "User-Agent": UA } });
    await r.arrayBuffer();
    return r.status;
  };
  const page = await browser.newPage();
  const con = collectConsoleErrors(page, { allow: [/status of 404/, /status of 400/] });
  await signIn(page, app.base, ADMIN_TOKEN, { operator: true });
  const card = page.getByRole("region", { name: "Blocked hosts" });
  await card.getByText("No blocked hosts.").waitFor();
  await card.getByLabel("Host to block").fill("not a host");
  await card.getByRole("button", { name: "Block host" }).click();
  await waitFor(async () => (await card.getByLabel("Host to block").getAttribute("aria-invalid")) === "true", { label: "the error at the field" });
  await card.getByLabel("Host to block").fill("evil.example");
  await card.getByRole("button", { name: "Block host" }).click();
  const row = card.getByRole("row").filter({ hasText: "evil.example" });
  await row.waitFor();
  // The ban runs on the JOBS queue: refresh until the count shows it.
  await waitFor(
    async () => {
      await card.getByRole("button", { name: "Refresh" }).click();
      return /\b1\b/.test(await row.getByRole("cell").nth(1).innerText());
    },
    { ms: 20000, step: 500, label: "one link banned" },
  );
  assert.equal(await visit(), 451);
  await checkAxe(page, "operator blocklist", { schemes: ["light"] });
  await screenshot(page, "operator-blocklist", { fullPage: false, prepare: (p) => p.getByRole("region", { name: "Blocked hosts" }).scrollIntoViewIfNeeded() });
  await row.getByRole("button", { name: "Unblock evil.example" }).click();
  const dialog = page.getByRole("dialog", { name: "Unblock evil.example?" });
  await dialog.getByRole("button", { name: "Unblock" }).click();
  await card.getByText("No blocked hosts.").waitFor();
  await waitFor(async () => (await visit()) === 302, { ms: 20000, step: 500, label: "the link redirects again" });
  con.assertNone();
  await page.close();
});

test("a wrong operator token gets a clear message", async () => {
  const page = await browser.newPage();
  const con = collectConsoleErrors(page, { allow: [/status of 401/] });
  await page.goto(`${app.base}/dashboard/`);
  await page.getByLabel("Operator token", { exact: true }).check();
  await page.getByLabel("Operator token", { exact: true }).last().fill("wrong");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("That operator token was not accepted.").waitFor();
  con.assertNone();
  await page.close();
});
