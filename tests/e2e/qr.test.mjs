// QR designer in Chromium against the built worker: live preview, the
// contrast warning and refusal shown at the colour field, PNG download
// decoded back to the URL, save, saved list with scan counts, download of
// a saved code, edit, delete; axe and console checks; screenshots.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PNG } from "pngjs";
import jsQR from "jsqr";
import { startApp, launchBrowser, collectConsoleErrors, checkAxe, screenshot, waitFor } from "./harness.mjs";
import { openScreen, quiet, checkAxeThemes } from "./screens.mjs";

const PHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
let app, browser, key;
before(async () => {
  app = await startApp();
  browser = await launchBrowser();
  ({ key } = await app.w.workspace("QR Co", "business"));
});
after(async () => {
  await browser?.close();
  await app?.close();
});

/** Decodes a PNG file's QR code to its text. */
function decodePng(file) {
  const png = PNG.sync.read(readFileSync(file));
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(code, "the PNG holds a readable QR code");
  return { text: code.data, width: png.width };
}

async function downloadVia(page, click) {
  const [dl] = await Promise.all([page.waitForEvent("download"), click()]);
  const file = await dl.path();
  return { file, name: dl.suggestedFilename() };
}

test("design a QR code: live preview, contrast warning and refusal, PNG download decodes to the URL, save", async () => {
  const page = await browser.newPage();
  // The refused colours answer 400 on purpose.
  const con = collectConsoleErrors(page, { allow: [/status of 400/] });
  await openScreen(page, app.base, key, `/qr`);
  await page.getByRole("heading", { name: "Design a QR code" }).waitFor();
  await page.getByText("No saved QR codes yet").waitFor();

  const url = "https://example.com/spring-sale?ref=poster";
  await page.getByLabel("URL or text", { exact: true }).fill(url);
  const preview = page.getByTestId("qr-preview");
  await waitFor(async () => (await preview.getAttribute("alt")) === `QR code for ${url}`, { label: "preview of the URL" });
  assert.equal(await page.getByTestId("qr-data").innerText(), url);

  // Style: colours, radius, error correction, size.
  await page.getByLabel("Foreground colour", { exact: true }).fill("#1A365D");
  await page.getByLabel("Error correction").selectOption("H");
  await page.getByLabel("Size (pixels)").fill("400");
  const radius = page.getByLabel(/Corner radius/);
  await radius.focus();
  for (let i = 0; i < 10; i++) await page.keyboard.press("ArrowRight");
  await page.getByText("Corner radius: 10%").waitFor();
  await checkAxe(page, "qr designer");

  // A contrast that scans but is low: the API's warning is shown.
  await page.getByLabel("Foreground colour", { exact: true }).fill("#888888");
  await page.getByTestId("contrast-warning").waitFor();
  assert.match(await page.getByTestId("contrast-warning").innerText(), /Low contrast \(3\.\d+:1\)/);
  // Too low to scan: refused, the message is at the colour field.
  await page.getByLabel("Foreground colour", { exact: true }).fill("#DDDDDD");
  const fgErr = page.locator(".field.has-error", { has: page.getByLabel("Foreground colour", { exact: true }) }).locator(".field-error");
  await fgErr.waitFor();
  assert.match(await fgErr.innerText(), /contrast/);
  assert.equal(await page.getByLabel("Foreground colour", { exact: true }).getAttribute("aria-invalid"), "true");
  // Back to a good colour: warning and error gone.
  await page.getByLabel("Foreground colour", { exact: true }).fill("#1A365D");
  await fgErr.waitFor({ state: "detached" });
  await page.getByTestId("contrast-warning").waitFor({ state: "detached" });
  await screenshot(page, "qr", { prepare: quiet });

  // PNG download, decoded back to the URL.
  const png = await downloadVia(page, () => page.getByRole("button", { name: "Download PNG" }).click());
  assert.match(png.name, /\.png$/);
  const decoded = decodePng(png.file);
  assert.equal(decoded.text, url);
  assert.equal(decoded.width, 400);
  // SVG download.
  const svg = await downloadVia(page, () => page.getByRole("button", { name: "Download SVG" }).click());
  assert.match(readFileSync(svg.file, "utf8"), /<svg[\s\S]*#1A365D/i);

  // Save needs a name: the API's message is at the Name field.
  await page.getByRole("button", { name: "Save QR code" }).click();
  const nameErr = page.locator(".field.has-error", { has: page.getByLabel("Name", { exact: true }) }).locator(".field-error");
  await nameErr.waitFor();
  await page.getByLabel("Name", { exact: true }).fill("Spring poster");
  await page.getByRole("button", { name: "Save QR code" }).click();
  const card = page.locator(".qr-card", { hasText: "Spring poster" });
  await card.waitFor();
  assert.match(await card.innerText(), /Scans not counted/);
  const saved = await app.w.api("GET", "/api/v1/qr", { key });
  assert.equal(saved.body.data.length, 1);
  assert.equal(saved.body.data[0].url, url);
  assert.equal(saved.body.data[0].errorCorrection, "H");
  assert.equal(saved.body.data[0].cornerRadius, 10);
  assert.equal(saved.body.data[0].size, 400);
  assert.equal(saved.body.data[0].foregroundColor.toUpperCase(), "#1A365D");
  con.assertNone("qr designer");
  await page.close();
});

test("a QR code tied to a link: scans counted in the list, saved download decodes, edit and delete", async () => {
  const link = await app.w.api("POST", "/api/v1/links", {
    key,
    body: { destinationUrl: "https://example.com/menu", slug: "menu", title: "Menu" },
  });
  assert.equal(link.status, 201, link.text);
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await openScreen(page, app.base, key);
  // Opened from a link ("#/qr?link=…"): the designer is on that link.
  await page.goto(`${app.base}/dashboard/#/qr?link=${link.body.data.id}`);
  const expected = `${link.body.data.shortUrl}?qr=1`;
  await waitFor(async () => (await page.getByTestId("qr-data").innerText().catch(() => "")) === expected, {
    label: "the link's short URL with the QR marker",
  });
  assert.equal(await page.getByLabel("Link", { exact: true }).inputValue(), link.body.data.id);
  // The seed's example: name, url and linkId together (the url is the fallback).
  await page.getByLabel("Fallback URL (optional)").fill("https://example.com/contact");
  await page.getByLabel("Name", { exact: true }).fill("Table card");
  await page.getByRole("button", { name: "Save QR code" }).click();
  const card = page.locator(".qr-card", { hasText: "Table card" });
  await card.waitFor();
  await waitFor(async () => (await card.getByTestId("scan-count").innerText()) === "0", { label: "0 scans" });

  // Download the saved code and decode it; "scan" it (follow the URL).
  const png = await downloadVia(page, () => card.getByRole("button", { name: "Download Table card as PNG" }).click());
  assert.equal(decodePng(png.file).text, expected);
  // A phone's camera app (a headless browser or a script would count as a bot).
  const r = await fetch(expected, { redirect: "manual", headers: { "User-Agent": PHONE_UA } });
  assert.equal(r.status, 302);
  assert.equal(r.headers.get("location"), "https://example.com/menu");
  await waitFor(
    async () => {
      await page.reload();
      const c = page.locator(".qr-card", { hasText: "Table card" }).getByTestId("scan-count");
      await c.waitFor();
      await waitFor(async () => (await c.innerText()) !== "…", { ms: 3000 });
      return (await c.innerText()) === "1";
    },
    { ms: 15000, step: 500, label: "1 scan in the list" },
  );
  await checkAxeThemes(page, "qr with saved codes");

  // Edit: the style loads into the designer; save changes.
  await page.locator(".qr-card", { hasText: "Table card" }).getByRole("button", { name: "Edit Table card" }).click();
  await page.getByRole("heading", { name: "Edit “Table card”" }).waitFor();
  await page.getByLabel("Error correction").selectOption("Q");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { name: "Design a QR code" }).waitFor();
  await waitFor(async () => {
    const list = await app.w.api("GET", "/api/v1/qr", { key });
    return list.body.data.find((q) => q.name === "Table card")?.errorCorrection === "Q";
  });
  await screenshot(page, "qr-saved", { prepare: quiet });

  // Delete, with a confirmation.
  await page.locator(".qr-card", { hasText: "Table card" }).getByRole("button", { name: "Delete Table card" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this QR code?" });
  await dialog.waitFor();
  await dialog.getByRole("button", { name: "Delete QR code" }).click();
  await page.locator(".qr-card", { hasText: "Table card" }).waitFor({ state: "detached" });
  const list = await app.w.api("GET", "/api/v1/qr", { key });
  assert.deepEqual(
    list.body.data.map((q) => q.name),
    ["Spring poster"],
  );
  con.assertNone("qr saved");
  await page.close();
});

test("the public generator's rate limit pauses the preview with a message instead of failing", async () => {
  const page = await browser.newPage();
  const con = collectConsoleErrors(page, { allow: [/status of 429/] });
  await openScreen(page, app.base, key, "/qr");
  await page.getByTestId("qr-preview").waitFor();
  // Use up this minute's previews (the limit is per client IP).
  for (let i = 0; i < 40; i++) {
    const r = await fetch(`${app.base}/api/v1/qr/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ url: `https://example.com/${i}` }),
    });
    if (r.status === 429) break;
  }
  await page.getByLabel("URL or text", { exact: true }).fill("https://example.com/limited");
  const status = page.getByText(/The preview is paused: too many previews this minute\. It resumes in \d+ s\./);
  await status.waitFor();
  await checkAxe(page, "qr paused");
  con.assertNone("qr rate limit");
  await page.close();
});
