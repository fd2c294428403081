// API keys in Chromium against the built worker: create (full and
// read-only, shown once), list, revoke with a confirmation, revoking the
// key in use signs out; a read-only key sees the QR, bio, webhook, domain
// and key screens with their write controls disabled and saying why.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, launchBrowser, collectConsoleErrors, checkAxe, screenshot, waitFor } from "./harness.mjs";
import { openScreen, quiet } from "./screens.mjs";

let app, browser, key;
before(async () => {
  app = await startApp();
  browser = await launchBrowser();
  ({ key } = await app.w.workspace("Keys Co", "pro"));
});
after(async () => {
  await browser?.close();
  await app?.close();
});

test("create a read-only key (shown once), then revoke it", async () => {
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await openScreen(page, app.base, key, `/keys`);
  const table = page.getByRole("table");
  await table.waitFor();
  assert.match(await table.innerText(), /signed in with this key/);
  await checkAxe(page, "keys");

  await page.getByLabel("Name").fill("Reporting");
  await page.getByRole("radio", { name: "Read-only" }).check();
  await page.getByRole("button", { name: "Create key" }).click();
  const once = page.getByRole("region", { name: 'New key "Reporting"' });
  await once.waitFor();
  const newKey = await once.getByTestId("secret").innerText();
  assert.match(newKey, /^go2_/);
  assert.match(await once.innerText(), /Read-only/);
  // The key works, read-only.
  const me = await app.w.api("GET", "/api/v1/links", { key: newKey });
  assert.equal(me.status, 200);
  const denied = await app.w.api("POST", "/api/v1/links", { key: newKey, body: { destinationUrl: "https://e.com" } });
  assert.equal(denied.status, 403);
  const row = page.getByRole("row", { name: /Reporting/ });
  await row.getByText("Read-only").waitFor();
  await screenshot(page, "keys", { prepare: quiet });
  await once.getByRole("button", { name: "I have copied it" }).click();
  await once.waitFor({ state: "detached" });
  assert.equal(await page.getByText(newKey).count(), 0, "the key is not shown again");

  // Revoke it: asks first, then gone, and the key no longer works.
  await row.getByRole("button", { name: /^Revoke key Reporting/ }).click();
  const dialog = page.getByRole("dialog", { name: "Revoke this key?" });
  await dialog.waitFor();
  assert.doesNotMatch(await dialog.innerText(), /signed in with this key/);
  await dialog.getByRole("button", { name: "Revoke key" }).click();
  await row.waitFor({ state: "detached" });
  assert.equal((await app.w.api("GET", "/api/v1/links", { key: newKey })).status, 401);
  con.assertNone("keys");
  await page.close();
});

test("a read-only key sees every screen with write controls disabled and saying why (axe in light and dark)", async () => {
  // Some data to look at.
  const g = await app.w.api("POST", "/api/v1/galleries", { key, body: { slug: "ro", title: "Read only page" } });
  await app.w.api("POST", `/api/v1/galleries/${g.body.data.id}/items`, {
    key,
    body: { type: "link", title: "A link", url: "https://example.com" },
  });
  await app.w.api("POST", "/api/v1/domains", { key, body: { domain: "ro.example.org" } });
  await app.w.api("POST", "/api/v1/qr", { key, body: { name: "RO code", url: "https://example.com/ro" } });
  const ro = await app.w.api("POST", "/api/v1/keys", { key, body: { name: "Viewer", scopes: ["read"] } });
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await openScreen(page, app.base, ro.body.data.key);
  const reason = /read-only/i;
  const checks = [
    ["#/qr", "Save QR code"],
    ["#/bio", "Create page"],
    [`#/bio/${g.body.data.id}`, "Add item"],
    ["#/webhooks", "Create webhook"],
    ["#/domains", "Add domain"],
    ["#/keys", "Create key"],
  ];
  for (const [hash, name] of checks) {
    await page.goto(`${app.base}/dashboard/${hash}`);
    const b = page.getByRole("button", { name, exact: true }).first();
    await b.waitFor();
    assert.equal(await b.isDisabled(), true, `${hash}: ${name} is disabled`);
    assert.match((await b.getAttribute("title")) ?? "", reason, `${hash}: ${name} says why`);
    // Light and dark (the dark theme follows the system).
    await checkAxe(page, `read-only ${hash}`, { schemes: ["light", "dark"] });
  }
  // The bio editor's publish switch and move buttons are disabled too; data is shown.
  await page.goto(`${app.base}/dashboard/#/bio/${g.body.data.id}`);
  await page.locator(".item-title", { hasText: "A link" }).waitFor();
  assert.equal(await page.getByRole("switch", { name: /Published/ }).isDisabled(), true);
  await page.goto(`${app.base}/dashboard/#/domains`);
  await page.getByTestId("txt-value").waitFor();
  assert.equal(await page.getByRole("button", { name: "Verify ro.example.org" }).isDisabled(), true);
  await page.goto(`${app.base}/dashboard/#/qr`);
  await page.locator(".qr-card", { hasText: "RO code" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Delete RO code" }).isDisabled(), true);
  assert.equal(await page.getByRole("button", { name: "Download RO code as PNG" }).isDisabled(), false);
  con.assertNone("read-only");
  await page.close();
});

test("revoking the key you are signed in with warns, then signs you out", async () => {
  const k = await app.w.api("POST", "/api/v1/keys", { key, body: { name: "Laptop" } });
  const mine = k.body.data.key;
  const page = await browser.newPage();
  const con = collectConsoleErrors(page, { allow: [/status of 401/] });
  await openScreen(page, app.base, mine, `/keys`);
  const row = page.getByRole("row", { name: /Laptop/ });
  await row.getByText("signed in with this key").waitFor();
  await row.getByRole("button", { name: /^Revoke key Laptop/ }).click();
  const dialog = page.getByRole("dialog", { name: "Revoke this key?" });
  await dialog.getByText("You are signed in with this key: revoking it signs you out of this dashboard.").waitFor();
  await checkAxe(page, "revoke own key dialog");
  await dialog.getByRole("button", { name: "Revoke key" }).click();
  await page.getByRole("heading", { name: "Sign in to Edgelink" }).waitFor();
  await waitFor(async () => /no longer valid/.test(await page.getByRole("status").first().innerText()), {
    label: "the signed-out message",
  });
  con.assertNone("revoke own key");
  await page.close();
});
