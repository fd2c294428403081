// The create-link form with the keyboard only: Tab, typing, Space and
// Enter, from the sign-in form to the created link, with a visible focus
// indicator on every control reached.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, launchBrowser, collectConsoleErrors } from "./harness.mjs";

let app, browser;
before(async () => {
  app = await startApp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

/** The focused element: its accessible-ish name, tag and focus outline. */
const focused = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const label =
      el.getAttribute("aria-label") ||
      (el.labels && el.labels[0] && el.labels[0].textContent) ||
      el.textContent ||
      "";
    const cs = getComputedStyle(el);
    return {
      name: label.replace(/\s+/g, " ").trim(),
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute("type"),
      outline: cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2,
      value: el.value,
    };
  });

/** Presses Tab until the focused control's name matches; checks its focus ring. */
async function tabTo(page, re, { type, max = 120 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const f = await focused(page);
    if (f && re.test(f.name) && (!type || f.type === type)) {
      assert.ok(f.outline, `no visible focus indicator on "${f.name}"`);
      return f;
    }
  }
  throw new Error(`Tab never reached ${re}`);
}

test("create a link with the keyboard only", async () => {
  const { key } = await app.w.workspace("Keys only", "business");
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await page.goto(`${app.base}/dashboard/`);

  await tabTo(page, /^API key$/, { type: "password" });
  await page.keyboard.type(key);
  await page.keyboard.press("Enter");
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  await page.getByText("No links yet.").waitFor();

  await tabTo(page, /^New link$/);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "New link" }).waitFor();

  await tabTo(page, /^Destination URL$/);
  await page.keyboard.type("https://example.com/keyboard");
  await tabTo(page, /^Slug$/);
  await page.keyboard.type("by-keys");
  await tabTo(page, /^Tags$/);
  await page.keyboard.type("a11y");
  await tabTo(page, /^Click limit$/);
  await page.keyboard.type("50");

  // Add a geo target: focus moves into the new row's country picker.
  await tabTo(page, /^Add a country$/);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.activeElement?.tagName === "SELECT");
  await page.keyboard.type("Germany");
  assert.equal((await focused(page)).value, "DE");
  await page.keyboard.press("Tab");
  const geoUrl = await focused(page);
  assert.equal(geoUrl.name, "URL for Germany");
  await page.keyboard.type("https://example.de/");

  await tabTo(page, /^URL for mobile visitors$/);
  await page.keyboard.type("https://m.example.com/");
  await tabTo(page, /^Source \(utm_source\)$/);
  await page.keyboard.type("keyboard");
  await tabTo(page, /^Campaign \(utm_campaign\)$/);
  await page.keyboard.type("launch");
  assert.equal(
    await page.getByTestId("utm-preview").innerText(),
    "https://example.com/keyboard?utm_source=keyboard&utm_campaign=launch",
  );
  const bot = await tabTo(page, /^Advanced bot detection/);
  assert.equal(bot.type, "checkbox");
  await page.keyboard.press("Space");

  await tabTo(page, /^Create link$/);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Link created" }).waitFor();

  const r = await app.w.api("GET", "/api/v1/links?search=by-keys", { key });
  const link = r.body.data[0];
  assert.equal(link.slug, "by-keys");
  assert.equal(link.destinationUrl, "https://example.com/keyboard");
  assert.deepEqual(link.geoTargets, { DE: "https://example.de/" });
  assert.deepEqual(link.deviceTargets, { mobile: "https://m.example.com/" });
  assert.equal(link.clickLimit, 50);
  assert.equal(link.utmSource, "keyboard");
  assert.equal(link.advancedBotDetection, true);
  assert.deepEqual(link.tags, ["a11y"]);

  // The copy button of the result is reachable too.
  await tabTo(page, /^Copy short URL/);
  con.assertNone();
  await page.close();
});
