// Custom domains in Chromium against the built worker, with a stub
// DNS-over-HTTPS resolver on 127.0.0.1: add → the TXT record shown →
// verify (not yet, then verified) → delete refused (409) while a link uses
// it, with the message shown; a duplicate shown at the field.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startApp, launchBrowser, collectConsoleErrors, checkAxe, screenshot, waitFor } from "./harness.mjs";
import { openScreen, quiet, checkAxeThemes } from "./screens.mjs";

const records = new Map();
let app, browser, key, resolver;

before(async () => {
  resolver = http.createServer((req, res) => {
    const u = new URL(req.url, "http://x");
    const name = u.searchParams.get("name");
    const txt = records.get(name) ?? [];
    res.writeHead(200, { "Content-Type": "application/dns-json" });
    res.end(JSON.stringify({ Status: txt.length ? 0 : 3, Answer: txt.map((t) => ({ name, type: 16, TTL: 300, data: `"${t}"` })) }));
  });
  const doh = await new Promise((r) => resolver.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${resolver.address().port}/dns-query`)));
  app = await startApp({ vars: { DOH_RESOLVER_URL: doh } });
  browser = await launchBrowser();
  ({ key } = await app.w.workspace("Domains Co", "business"));
});
after(async () => {
  await browser?.close();
  await app?.close();
  resolver?.close();
});

test("add a domain, see the TXT record, verify it, and delete (refused while a link uses it)", async () => {
  const page = await browser.newPage();
  const con = collectConsoleErrors(page, { allow: [/status of 400/, /status of 409/] });
  await openScreen(page, app.base, key, `/domains`);
  await page.getByText("No custom domains yet").waitFor();
  await checkAxe(page, "domains (empty)");

  // Not a host name: the message is at the field.
  await page.getByLabel("Domain name").fill("https://go.example.com/x");
  await page.getByRole("button", { name: "Add domain" }).click();
  const err = page.locator(".field.has-error", { has: page.getByLabel("Domain name") }).locator(".field-error");
  await err.waitFor();

  await page.getByLabel("Domain name").fill("Go.Example.com");
  await page.getByRole("button", { name: "Add domain" }).click();
  const card = page.locator(".cards > li", { hasText: "go.example.com" });
  await card.waitFor();
  await card.getByText("Pending verification").waitFor();
  const name = await card.getByTestId("txt-name").innerText();
  const value = await card.getByTestId("txt-value").innerText();
  assert.equal(name, "_edgelink.go.example.com");
  assert.match(value, /^edgelink-verify=[0-9A-Za-z]{32}$/);
  await card.getByRole("button", { name: `Copy value: ${value}` }).waitFor();
  await screenshot(page, "domains", { prepare: quiet });

  // Verify before the record exists: what was looked for is shown.
  await card.getByRole("button", { name: "Verify go.example.com" }).click();
  await card.getByText(/Not verified yet\. No TXT record _edgelink\.go\.example\.com/).waitFor();

  // Publish the record, verify again.
  records.set(name, [value]);
  await card.getByRole("button", { name: "Verify go.example.com" }).click();
  await card.getByText("Verified", { exact: true }).waitFor();
  await card.getByText(/Verified: links can now use go\.example\.com/).waitFor();
  assert.equal(await card.getByRole("button", { name: "Verify go.example.com" }).count(), 0);
  assert.equal(await card.getByTestId("txt-name").count(), 0);
  await checkAxeThemes(page, "domains (verified)");

  // The same domain again: the 409 is shown at the field.
  await page.getByLabel("Domain name").fill("go.example.com");
  await page.getByRole("button", { name: "Add domain" }).click();
  await waitFor(async () => /already been added/.test(await err.innerText().catch(() => "")), { label: "duplicate at the field" });

  // A link on the domain: delete is refused and the message shown.
  const link = await app.w.api("POST", "/api/v1/links", {
    key,
    body: { destinationUrl: "https://example.com/", domain: "go.example.com", slug: "hello" },
  });
  assert.equal(link.status, 201, link.text);
  await page.reload();
  const card2 = page.locator(".cards > li", { hasText: "go.example.com" });
  await card2.getByText("1 link").waitFor();
  await card2.getByRole("button", { name: "Delete go.example.com" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this domain?" });
  await dialog.getByRole("button", { name: "Delete domain" }).click();
  await dialog.getByRole("alert").getByText(/still has links/).waitFor();
  await checkAxe(page, "domains delete refused");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // Without links it goes.
  await app.w.api("DELETE", `/api/v1/links/${link.body.data.id}`, { key });
  await page.reload();
  await page.locator(".cards > li", { hasText: "go.example.com" }).getByRole("button", { name: "Delete go.example.com" }).click();
  await page.getByRole("dialog", { name: "Delete this domain?" }).getByRole("button", { name: "Delete domain" }).click();
  await page.getByText("No custom domains yet").waitFor();
  con.assertNone("domains");
  await page.close();
});
