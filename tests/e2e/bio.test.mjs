// Link-in-bio editor in Chromium against the built worker: create a page,
// add every item type, edit one, reorder with the keyboard (announced) and
// by drag-and-drop, theme, publish, the live preview iframe, and the public
// /bio/{slug} page with the items rendered; axe and console checks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, launchBrowser, collectConsoleErrors, checkAxe, screenshot, waitFor } from "./harness.mjs";
import { openScreen, quiet, checkAxeThemes } from "./screens.mjs";

let app, browser, key;
before(async () => {
  app = await startApp();
  browser = await launchBrowser();
  // The page embeds YouTube and a remote image: answered locally, never fetched.
  await browser.context.route(/^https:\/\/(www\.youtube-nocookie\.com|images\.example\.com)\//, (route) =>
    route.request().resourceType() === "image"
      ? route.fulfill({
          contentType: "image/png",
          body: Buffer.from(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
            "base64",
          ),
        })
      : route.fulfill({ contentType: "text/html", body: "<!doctype html><title>video</title>" }),
  );
  ({ key } = await app.w.workspace("Bio Co", "business"));
});
after(async () => {
  await browser?.close();
  await app?.close();
});

async function addItem(page, type, fields) {
  await page.getByRole("button", { name: "Add item" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Add an item" });
  await dialog.waitFor();
  await dialog.getByLabel("Type", { exact: true }).selectOption({ label: type });
  for (const [label, value] of Object.entries(fields)) await dialog.getByLabel(label, { exact: true }).fill(value);
  await dialog.getByRole("button", { name: "Add item" }).click();
  await dialog.waitFor({ state: "hidden" });
}

const titles = (page) => page.locator(".items .item-title").allInnerTexts();

test("build a bio page, reorder it with the keyboard and by dragging, publish it and open /bio/{slug}", async () => {
  const page = await browser.newPage();
  // The missing URL answers 400 on purpose.
  const con = collectConsoleErrors(page, { allow: [/status of 400/] });
  await openScreen(page, app.base, key, `/bio`);
  await page.getByText("No pages yet").waitFor();
  await checkAxe(page, "bio list (empty)");

  // Create: the slug follows the title.
  await page.getByLabel("Title", { exact: true }).fill("Ada Lovelace");
  assert.equal(await page.getByLabel("Address (slug)", { exact: true }).inputValue(), "ada-lovelace");
  await page.getByLabel("Bio", { exact: true }).fill("Mathematician & writer <3");
  await page.getByRole("radio", { name: "Gradient" }).check();
  await page.getByRole("button", { name: "Create page" }).click();
  await page.getByRole("heading", { level: 1, name: "Ada Lovelace" }).waitFor();
  const gal = (await app.w.api("GET", "/api/v1/galleries", { key })).body.data[0];
  assert.equal(gal.slug, "ada-lovelace");
  assert.equal(gal.theme, "gradient");

  // Unpublished: the preview says so.
  await page.getByTestId("bio-unpublished").waitFor();
  assert.match(await page.getByTestId("bio-unpublished").innerText(), /not published/);

  // Items of every type; a missing required field is shown at its field.
  await page.getByRole("button", { name: "Add item" }).first().click();
  let dialog = page.getByRole("dialog", { name: "Add an item" });
  await dialog.getByLabel("Type", { exact: true }).selectOption({ label: "Link" });
  await dialog.getByLabel("Title", { exact: true }).fill("My website");
  await dialog.getByRole("button", { name: "Add item" }).click();
  const urlErr = dialog.locator(".field.has-error", { has: page.getByLabel("URL", { exact: true }) }).locator(".field-error");
  await urlErr.waitFor();
  assert.match(await urlErr.innerText(), /required/);
  await dialog.getByLabel("URL", { exact: true }).fill("https://example.com/ada");
  await dialog.getByRole("button", { name: "Add item" }).click();
  await dialog.waitFor({ state: "hidden" });

  await addItem(page, "Header", { Title: "Videos" });
  await addItem(page, "YouTube video", {
    "YouTube video": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "Title (optional)": "Latest video",
  });
  await addItem(page, "Divider", {});
  await addItem(page, "Image", {
    "Image URL": "https://images.example.com/engine.png",
    "Caption (optional)": "The Analytical Engine",
  });
  await page.locator(".item-title", { hasText: "The Analytical Engine" }).waitFor();
  assert.deepEqual(await titles(page), ["My website", "Videos", "Latest video", "—", "The Analytical Engine"]);
  const stored = (await app.w.api("GET", `/api/v1/galleries/${gal.id}`, { key })).body.data.items;
  assert.equal(stored.find((i) => i.type === "embed").embedData.videoId, "dQw4w9WgXcQ");

  // Edit an item in its dialog.
  await page.getByRole("button", { name: "Edit: My website" }).click();
  dialog = page.getByRole("dialog", { name: "Edit item" });
  await dialog.getByLabel("Title", { exact: true }).fill("My site");
  await dialog.getByRole("button", { name: "Save item" }).click();
  await dialog.waitFor({ state: "hidden" });
  await page.locator(".item-title", { hasText: "My site" }).waitFor();

  // Keyboard reorder: "Move up" on the header, pressed with Enter; the move
  // is announced and focus stays on the moved item.
  await page.getByRole("button", { name: "Move up: Header: Videos" }).focus();
  await page.keyboard.press("Enter");
  await waitFor(async () => (await titles(page))[0] === "Videos", { label: "header moved to the top" });
  assert.match(await page.getByTestId("reorder-live").innerText(), /Moved “Header: Videos” to position 1 of 5/);
  const focused = () => page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
  await waitFor(async () => (await focused()) === "Move down: Header: Videos", { label: "focus on the moved item's Move down" });
  await page.keyboard.press("Enter"); // and back down, still by keyboard
  await waitFor(async () => (await titles(page))[1] === "Videos", { label: "header moved back" });
  await waitFor(async () => {
    const items = (await app.w.api("GET", `/api/v1/galleries/${gal.id}`, { key })).body.data.items;
    return items[1]?.title === "Videos" && items[0]?.title === "My site";
  }, { label: "the order saved" });

  // Drag-and-drop: the image onto the first row.
  await page.locator(".items > li").nth(4).dragTo(page.locator(".items > li").nth(0));
  await waitFor(async () => (await titles(page))[0] === "The Analytical Engine", { label: "image dragged to the top" });
  await waitFor(async () => {
    const items = (await app.w.api("GET", `/api/v1/galleries/${gal.id}`, { key })).body.data.items;
    return items[0]?.type === "image";
  }, { label: "the dragged order saved" });

  // Theme: dark, saved with the settings.
  await page.getByRole("radio", { name: "Dark" }).check();
  await page.getByRole("button", { name: "Save page settings" }).click();
  await waitFor(async () => (await app.w.api("GET", `/api/v1/galleries/${gal.id}`, { key })).body.data.theme === "dark");

  // Publish: the live preview shows the public page.
  await page.getByRole("switch", { name: "Published" }).check();
  const frame = page.frameLocator('[data-testid="bio-preview"]');
  await frame.locator("h1", { hasText: "Ada Lovelace" }).waitFor();
  assert.equal(await frame.locator("a.item").count(), 1);
  await checkAxeThemes(page, "bio editor");
  await screenshot(page, "bio-editor", { prepare: quiet });

  // The public page, opened like a visitor would.
  const pub = await browser.newPage();
  const res = await pub.goto(`${app.base}/bio/ada-lovelace`);
  assert.equal(res.status(), 200);
  assert.equal(await pub.locator("h1").innerText(), "Ada Lovelace");
  assert.equal(await pub.locator(".bio").innerText(), "Mathematician & writer <3");
  assert.equal(await pub.locator("a.item").innerText(), "My site");
  assert.equal(await pub.locator("a.item").getAttribute("href"), "https://example.com/ada");
  assert.equal(await pub.locator("h2").textContent(), "Videos");
  assert.equal(await pub.locator("hr").count(), 1);
  assert.match(await pub.locator(".embed iframe").getAttribute("src"), /embed\/dQw4w9WgXcQ$/);
  assert.equal(await pub.locator("figcaption").innerText(), "The Analytical Engine");
  assert.match(await pub.locator("body").getAttribute("class"), /theme-dark/);
  // Order on the page = order in the editor: image, link, header, video, divider.
  const order = await pub.locator("main > *").evaluateAll((els) => els.map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")));
  assert.deepEqual(order, ["h1", "p.bio", "figure", "a.item", "h2", "div.embed", "hr"]);
  await pub.close();

  // Unpublish: the preview says so again, and the page is gone.
  await page.getByRole("switch", { name: "Published" }).uncheck();
  await page.getByTestId("bio-unpublished").waitFor();
  const gone = await fetch(`${app.base}/bio/ada-lovelace`);
  assert.equal(gone.status, 404);

  // The list shows it as a draft.
  await page.goto(`${app.base}/dashboard/#/bio`);
  await page.locator(".cards li", { hasText: "Ada Lovelace" }).getByText("Draft").waitFor();
  await checkAxe(page, "bio list");
  await screenshot(page, "bio", { prepare: quiet });
  con.assertNone("bio");
  await page.close();
});

test("a taken slug is shown at the slug field; custom theme CSS (\"<\" refused at the field); deleting a page asks first", async () => {
  const page = await browser.newPage();
  const con = collectConsoleErrors(page, { allow: [/status of 409/, /status of 400/] });
  await openScreen(page, app.base, key, `/bio`);
  await page.getByLabel("Title", { exact: true }).fill("Someone else");
  await page.getByLabel("Address (slug)", { exact: true }).fill("ada-lovelace");
  await page.getByRole("button", { name: "Create page" }).click();
  const slugErr = page.locator(".field.has-error", { has: page.getByLabel("Address (slug)", { exact: true }) }).locator(".field-error");
  await slugErr.waitFor();
  assert.match(await slugErr.innerText(), /taken/);
  // Custom theme with custom CSS, on the existing page; "<" is refused at the field.
  await page.getByRole("link", { name: "Edit page Ada Lovelace" }).click();
  await page.getByRole("heading", { level: 1, name: "Ada Lovelace" }).waitFor();
  await page.getByRole("radio", { name: "Custom CSS" }).check();
  const css = page.getByRole("textbox", { name: "Custom CSS" });
  await css.fill("</style><script>alert(1)</script>");
  await page.getByRole("button", { name: "Save page settings" }).click();
  const cssErr = page.locator(".field.has-error", { has: page.getByRole("textbox", { name: "Custom CSS" }) }).locator(".field-error");
  await cssErr.waitFor();
  assert.match(await cssErr.innerText(), /</);
  await css.fill(":root{--bg:#fdf6e3;--fg:#073642}");
  await page.getByRole("button", { name: "Save page settings" }).click();
  await waitFor(async () => {
    const g = (await app.w.api("GET", "/api/v1/galleries", { key })).body.data[0];
    return g.theme === "custom" && g.customCss === ":root{--bg:#fdf6e3;--fg:#073642}";
  }, { label: "custom CSS saved" });
  await page.getByRole("link", { name: "← All pages" }).click();
  await page.getByRole("button", { name: "Delete page Ada Lovelace" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this page?" });
  await dialog.getByRole("button", { name: "Delete page" }).click();
  await page.getByText("No pages yet").waitFor();
  con.assertNone("bio delete");
  await page.close();
});
