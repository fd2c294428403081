// The QR, bio, webhook, domain and key screens with the keyboard only: Tab
// to each control (a visible focus ring on each), type, Enter and Space.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import { PNG } from "pngjs";
import jsQR from "jsqr";
import { startApp, launchBrowser, collectConsoleErrors, waitFor } from "./harness.mjs";
import { openScreen, focused, tabTo } from "./screens.mjs";

const records = new Map();
let app, browser, key, servers = [], hookUrl;

function listen(server) {
  servers.push(server);
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${server.address().port}`)));
}

before(async () => {
  hookUrl = (await listen(http.createServer((req, res) => req.resume().on("end", () => res.end("ok"))))) + "/hook";
  const doh = await listen(
    http.createServer((req, res) => {
      const name = new URL(req.url, "http://x").searchParams.get("name");
      const txt = records.get(name) ?? [];
      res.writeHead(200, { "Content-Type": "application/dns-json" });
      res.end(JSON.stringify({ Status: 0, Answer: txt.map((t) => ({ name, type: 16, TTL: 60, data: `"${t}"` })) }));
    }),
  );
  app = await startApp({ vars: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", DOH_RESOLVER_URL: doh + "/dns-query" } });
  browser = await launchBrowser();
  ({ key } = await app.w.workspace("Keyboard Co", "business"));
});
after(async () => {
  await browser?.close();
  await app?.close();
  for (const s of servers) s.close();
});

test("QR designer by keyboard: type the URL, pick the level, download the PNG", async () => {
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await openScreen(page, app.base, key, "/qr");
  await page.getByRole("heading", { name: "Design a QR code" }).waitFor();
  await tabTo(page, /^URL or text$/);
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("https://example.com/keys");
  await tabTo(page, /^Error correction$/);
  await page.keyboard.press("End"); // H
  await page.getByTestId("qr-data").getByText("https://example.com/keys").waitFor();
  await waitFor(async () => (await page.getByTestId("qr-preview").getAttribute("alt")) === "QR code for https://example.com/keys");
  await tabTo(page, /^Download PNG$/);
  const [dl] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  const png = PNG.sync.read(readFileSync(await dl.path()));
  assert.equal(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data, "https://example.com/keys");
  con.assertNone("qr keyboard");
  await page.close();
});

test("bio page by keyboard: create, add an item in the dialog, move it, publish", async () => {
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await openScreen(page, app.base, key, "/bio");
  await page.getByText("No pages yet").waitFor();
  await tabTo(page, /^Title$/);
  await page.keyboard.type("Keys Only");
  // The theme picker is one radio group: one Tab stop, arrows choose.
  await tabTo(page, /^Default$/);
  for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowRight");
  assert.equal((await focused(page)).name, "Neon");
  await tabTo(page, /^Create page$/);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { level: 1, name: "Keys Only" }).waitFor();
  for (const [title, url] of [
    ["First", "https://example.com/1"],
    ["Second", "https://example.com/2"],
  ]) {
    await tabTo(page, /^Add item$/);
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "Add an item" }).waitFor();
    // Focus is inside the dialog: Tab reaches its fields.
    await tabTo(page, /^Title$/);
    await page.keyboard.type(title);
    await tabTo(page, /^URL$/);
    await page.keyboard.type(url);
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "Add an item" }).waitFor({ state: "hidden" });
    await page.locator(".item-title", { hasText: title }).waitFor();
  }
  await tabTo(page, /^Move up: Second$/);
  await page.keyboard.press("Enter");
  await waitFor(async () => (await page.locator(".item-title").allInnerTexts())[0] === "Second");
  assert.match(await page.getByTestId("reorder-live").innerText(), /Moved “Second” to position 1 of 2/);
  await page.goto(`${page.url().split("#")[0]}#/bio`);
  await page.getByRole("link", { name: "Keys Only", exact: true }).waitFor();
  await tabTo(page, /^Keys Only$/);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { level: 1, name: "Keys Only" }).waitFor();
  await tabTo(page, /^Published/);
  await page.keyboard.press("Space");
  await page.frameLocator('[data-testid="bio-preview"]').locator("a.item").first().waitFor();
  const g = (await app.w.api("GET", "/api/v1/galleries", { key })).body.data[0];
  assert.equal(g.isPublished, true);
  assert.equal(g.theme, "neon");
  const items = (await app.w.api("GET", `/api/v1/galleries/${g.id}`, { key })).body.data.items;
  assert.deepEqual(items.map((i) => i.title), ["Second", "First"]);
  con.assertNone("bio keyboard");
  await page.close();
});

test("webhook, domain and key by keyboard: create, secret focused, test, verify, revoke", async () => {
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await openScreen(page, app.base, key, "/webhooks");
  await page.getByText("No webhooks yet").waitFor();
  await tabTo(page, /^Target URL$/);
  await page.keyboard.type(hookUrl);
  await tabTo(page, /^Create webhook$/);
  await page.keyboard.press("Enter");
  await page.getByRole("region", { name: /Signing secret/ }).waitFor();
  // The once-shown secret takes focus.
  assert.match((await focused(page)).name, /Signing secret/);
  await tabTo(page, /^Send test/);
  await page.keyboard.press("Enter");
  await page.getByText(/Test delivered: the target answered HTTP 200/).waitFor();

  await page.goto(`${app.base}/dashboard/#/domains`);
  await page.getByText("No custom domains yet").waitFor();
  await tabTo(page, /^Domain name$/);
  await page.keyboard.type("kb.example.com");
  await page.keyboard.press("Enter");
  const value = await page.getByTestId("txt-value").innerText();
  records.set("_edgelink.kb.example.com", [value]);
  await tabTo(page, /^Verify kb\.example\.com$/);
  await page.keyboard.press("Enter");
  await page.getByText("Verified", { exact: true }).waitFor();

  await page.goto(`${app.base}/dashboard/#/keys`);
  await page.getByRole("table").waitFor();
  await tabTo(page, /^Name$/);
  await page.keyboard.type("Temp");
  await page.keyboard.press("Enter");
  await page.getByRole("region", { name: 'New key "Temp"' }).waitFor();
  await tabTo(page, /^Revoke key Temp/);
  await page.keyboard.press("Enter");
  await page.getByRole("dialog", { name: "Revoke this key?" }).waitFor();
  await tabTo(page, /^Revoke key$/);
  await page.keyboard.press("Enter");
  await page.getByRole("row", { name: /Temp/ }).waitFor({ state: "detached" });
  con.assertNone("keyboard");
  await page.close();
});
