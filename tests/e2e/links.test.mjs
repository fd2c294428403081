// Links and analytics in a real Chromium against the built worker: create a
// link with a geo target and UTM fields, follow its short URL (302 with the
// UTM query), see the click arrive in its chart without a reload; the
// table's filters, sorting, paging and bulk actions; slug errors at the
// field; QR and CSV downloads; a read-only key.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PNG } from "pngjs";
import jsQR from "jsqr";
import {
  startApp,
  launchBrowser,
  signIn,
  collectConsoleErrors,
  checkAxe,
  screenshot,
  waitFor,
  UPDATE_SCREENSHOTS,
} from "./harness.mjs";

const CHROME_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

let app, browser;
before(async () => {
  app = await startApp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

async function createViaApi(key, body) {
  const r = await app.w.api("POST", "/api/v1/links", { key, body });
  assert.equal(r.status, 201, r.text);
  return r.body.data;
}

test("create a link with a geo target and UTM fields, follow it (302 + UTM), and see the click in its chart without reloading", async () => {
  const { key } = await app.w.workspace("Live", "business");
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await signIn(page, app.base, key);
  await page.getByText("No links yet.").waitFor();
  await checkAxe(page, "links (empty)");

  await page.getByRole("button", { name: "New link" }).click();
  await page.getByRole("heading", { name: "New link" }).waitFor();
  await page.getByLabel("Destination URL").fill("https://example.com/product");
  await page.getByLabel("Slug").fill("summer-sale");
  await page.getByLabel("Title").fill("Summer sale");
  await page.getByLabel("Tags").fill("marketing, q1-2025");
  await page.getByRole("button", { name: "Add a country" }).click();
  await page.getByLabel("Country 1", { exact: true }).selectOption("US");
  await page.getByLabel("URL for United States").fill("https://example.com/us");
  await page.getByLabel("Source (utm_source)").fill("email");
  await page.getByLabel("Medium (utm_medium)").fill("newsletter");
  await page.getByLabel("Campaign (utm_campaign)").fill("summer sale");
  const preview = page.getByTestId("utm-preview");
  assert.equal(
    await preview.innerText(),
    "https://example.com/product?utm_source=email&utm_medium=newsletter&utm_campaign=summer%20sale",
  );
  await checkAxe(page, "new link form");
  await screenshot(page, "link-form");
  await page.getByRole("button", { name: "Create link" }).click();
  await page.getByRole("heading", { name: "Link created" }).waitFor();
  const shortUrl = await page.getByTestId("short-url").innerText();
  assert.equal(shortUrl, `${app.base}/summer-sale`);

  // The stored link has every field the form sent.
  const listed = await app.w.api("GET", "/api/v1/links?search=summer-sale", { key });
  const link = listed.body.data[0];
  assert.deepEqual(link.geoTargets, { US: "https://example.com/us" });
  assert.deepEqual(link.tags, ["marketing", "q1-2025"]);
  assert.equal(link.utmCampaign, "summer sale");

  // Open the link's analytics: zero clicks, and mark the document so a reload would show.
  await page.getByRole("link", { name: "Open analytics" }).click();
  const total = page.getByTestId("total-clicks");
  await waitFor(async () => (await total.innerText()) === "0", { label: "0 clicks shown" });
  await page.evaluate(() => (window.__noReload = true));

  // A visitor's browser follows the short URL (the test machine is "US").
  const res = await fetch(shortUrl, {
    redirect: "manual",
    headers: { "User-Agent": CHROME_UA, Accept: "text/html", "Sec-Fetch-Mode": "navigate" },
  });
  assert.equal(res.status, 302);
  assert.equal(
    res.headers.get("location"),
    "https://example.com/us?utm_source=email&utm_medium=newsletter&utm_campaign=summer%20sale",
  );
  await res.arrayBuffer();

  // The click arrives through the queue and the page's own polling.
  const t0 = Date.now();
  await waitFor(async () => (await total.innerText()) === "1", { ms: 20000, label: "the click in the analytics" });
  const chartTotal = await page.locator(".chart-canvas").getAttribute("data-total");
  assert.equal(chartTotal, "1");
  assert.equal(await page.evaluate(() => window.__noReload), true, "the page was not reloaded");
  assert.equal(await page.getByTestId("unique-visitors").innerText(), "1");
  await page.getByRole("region", { name: "By country" }).getByText("United States (US)").waitFor();
  console.log(`click visible in the chart ${Date.now() - t0} ms after the redirect`);
  await checkAxe(page, "link analytics");
  await screenshot(page, "link-analytics");
  if (UPDATE_SCREENSHOTS) {
    await page.emulateMedia({ colorScheme: "dark" });
    await screenshot(page, "link-analytics-dark");
    await page.emulateMedia({ colorScheme: "light" });
  }

  // Period picker: custom range and all time keep the click.
  await page.getByLabel("Period", { exact: true }).selectOption("custom");
  await page.getByLabel("From (date)").waitFor();
  await waitFor(async () => (await total.innerText()) === "1", { label: "custom range" });
  await page.getByLabel("Period", { exact: true }).selectOption("all");
  await page.getByLabel("Group by").selectOption("hour");
  await waitFor(async () => (await total.innerText()) === "1", { label: "all time" });

  // CSV export of the raw clicks.
  const [csv] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export clicks (CSV)" }).click(),
  ]);
  const text = readFileSync(await csv.path(), "utf8");
  const lines = text.trim().split("\n");
  assert.equal(lines.length, 2, text);
  assert.match(lines[1], /US/);

  // Workspace analytics shows it too.
  await page.getByRole("link", { name: "Workspace analytics" }).click();
  await page.getByRole("heading", { name: "Workspace analytics" }).waitFor();
  await waitFor(async () => (await page.getByTestId("total-clicks").innerText()) === "1", { label: "workspace total" });
  await page.getByRole("region", { name: "Top links" }).getByRole("link", { name: /summer-sale/ }).waitFor();
  // The same breakdown cards as the link's, summed over the workspace.
  assert.equal(await page.getByTestId("unique-visitors").innerText(), "1");
  await page.getByRole("region", { name: "By country" }).getByText("United States (US)").waitFor();
  const row = (card, label) => page.getByRole("region", { name: card }).getByRole("row").filter({ hasText: label });
  await row("By device", "desktop").waitFor();
  assert.match(await row("By device", "desktop").innerText(), /\b1\b.*100%/s);
  await row("By browser", "chrome").waitFor();
  await row("By OS", "linux").waitFor();
  await row("By referrer", "direct").waitFor();
  await row("By source", "Link clicks").waitFor();
  assert.equal(await page.locator(".chart-canvas").getAttribute("data-total"), "1");
  await checkAxe(page, "workspace analytics");
  await screenshot(page, "workspace-analytics");
  // Any link's analytics can be found from here.
  await page.getByLabel("Open a link's analytics").fill("summer");
  await page.getByRole("list", { name: "Matching links" }).getByRole("link", { name: /summer-sale/ }).click();
  await page.getByRole("heading", { name: /Analytics: .*summer-sale/ }).waitFor();
  con.assertNone();
  await page.close();
});

test("slug taken or reserved is shown at the slug field; bad URLs at theirs", async () => {
  const { key } = await app.w.workspace("Errors", "business");
  await createViaApi(key, { destinationUrl: "https://example.com/a", slug: "taken" });
  const page = await browser.newPage();
  const con = collectConsoleErrors(page, { allow: [/status of 409/, /status of 400/] });
  await signIn(page, app.base, key);
  await page.goto(`${app.base}/dashboard/#/links/new`);
  await page.getByLabel("Destination URL").fill("https://example.com/b");
  const slug = page.getByLabel("Slug");
  await slug.fill("taken");
  await page.getByRole("button", { name: "Create link" }).click();
  const slugError = page.locator(".field", { has: slug }).locator(".field-error");
  await slugError.waitFor();
  assert.match(await slugError.innerText(), /taken|exists|already/i);
  assert.equal(await slug.getAttribute("aria-invalid"), "true");
  await waitFor(async () => (await page.evaluate(() => document.activeElement?.getAttribute("data-field"))) === "slug", {
    label: "focus on the slug field",
  });

  await slug.fill("api");
  await page.getByRole("button", { name: "Create link" }).click();
  await waitFor(async () => /reserved/i.test(await slugError.innerText()), { label: "reserved message" });
  await checkAxe(page, "form with errors");

  // A geo target URL that is not a URL: the error sits at that URL field.
  await slug.fill("fresh");
  await page.getByRole("button", { name: "Add a country" }).click();
  await page.getByLabel("Country 1", { exact: true }).selectOption("DE");
  const geoUrl = page.getByLabel("URL for Germany");
  await geoUrl.fill("not a url");
  await page.getByRole("button", { name: "Create link" }).click();
  const geoError = page.locator(".field", { has: geoUrl }).locator(".field-error");
  await geoError.waitFor();
  assert.equal(await geoUrl.getAttribute("aria-invalid"), "true");
  await geoUrl.fill("https://example.de/");
  await page.getByRole("button", { name: "Create link" }).click();
  await page.getByRole("heading", { name: "Link created" }).waitFor();
  con.assertNone();
  await page.close();
});

test("table: search, tag/group/domain/archived filters, sort, pages, QR download, bulk archive and delete, edit", async () => {
  const { key } = await app.w.workspace("Table", "business");
  const g = await app.w.api("POST", "/api/v1/groups", { key, body: { name: "Spring" } });
  assert.equal(g.status, 201, g.text);
  const groupId = g.body.data.id;
  for (let i = 1; i <= 23; i++) {
    await createViaApi(key, {
      destinationUrl: `https://example.com/p${i}`,
      slug: `item-${String(i).padStart(2, "0")}`,
      tags: i % 2 ? ["odd"] : ["even"],
      ...(i <= 3 ? { groupId } : {}),
    });
  }
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await signIn(page, app.base, key);
  const rows = page.locator("tbody tr");
  await page.getByText("Page 1 of 2 (23 in all)").waitFor();
  assert.equal(await rows.count(), 20);
  await checkAxe(page, "links table");
  await screenshot(page, "links");

  await page.getByRole("button", { name: "Next" }).click();
  await page.getByText("Page 2 of 2 (23 in all)").waitFor();
  assert.equal(await rows.count(), 3);

  await page.getByLabel("Search").fill("item-07");
  await page.getByText("1 in all").waitFor();
  await page.getByLabel("Search").fill("");
  await page.getByLabel("Tag", { exact: true }).fill("even");
  await page.getByText("11 in all").waitFor();
  await page.getByLabel("Tag", { exact: true }).fill("");
  await page.getByLabel("Group", { exact: true }).selectOption(groupId);
  await page.getByText("3 in all").waitFor();
  await page.getByLabel("Group", { exact: true }).selectOption("");
  await page.getByText("Page 1 of 2 (23 in all)").waitFor();

  // Sort by clicks: give item-05 two clicks.
  for (let i = 0; i < 2; i++) {
    const r = await fetch(`${app.base}/item-05`, { redirect: "manual", headers: { "User-Agent": CHROME_UA } });
    assert.equal(r.status, 302);
    await r.arrayBuffer();
  }
  await waitFor(async () => {
    const l = await app.w.api("GET", "/api/v1/links?search=item-05", { key });
    return l.body.data[0].clickCount === 2;
  }, { label: "click counted" });
  await page.getByLabel("Sort by").selectOption("clicks");
  await waitFor(async () => /item-05/.test(await rows.first().innerText()), { label: "most clicked first" });

  // QR code of a link: a PNG that decodes to its short URL.
  const [qr] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: `Download the QR code of ${app.base}/item-05 (PNG)` }).click(),
  ]);
  const png = PNG.sync.read(readFileSync(await qr.path()));
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.equal(code?.data, `${app.base}/item-05`);

  // Select two, archive: they leave the active list and show under archived.
  await page.getByLabel("Sort by").selectOption("created");
  await waitFor(async () => /item-23/.test(await rows.first().innerText()), { label: "newest first" });
  await page.getByLabel(`Select ${app.base}/item-23`).check();
  await page.getByLabel(`Select ${app.base}/item-22`).check();
  const bulk = page.getByRole("region", { name: "Selected links" });
  await bulk.getByText("2 selected").waitFor();
  await bulk.getByRole("button", { name: "Archive", exact: true }).click();
  await page.getByText("Page 1 of 2 (21 in all)").waitFor();
  await page.getByLabel("Show").selectOption("true");
  await page.getByText("2 in all").waitFor();
  await checkAxe(page, "links archived");

  // Select all on the page and delete, through the confirmation dialog.
  await page.getByLabel("Select all links on this page").check();
  await bulk.getByRole("button", { name: "Delete…" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete 2 links?" });
  await dialog.waitFor();
  await checkAxe(page, "delete dialog");
  await dialog.getByRole("button", { name: "Delete" }).click();
  await page.getByText("No links match these filters.").waitFor();
  const gone = await fetch(`${app.base}/item-23`, { redirect: "manual", headers: { "User-Agent": CHROME_UA } });
  assert.equal(gone.status, 404);
  await gone.arrayBuffer();

  // Edit: change the destination and add a password.
  await page.getByLabel("Show").selectOption("false");
  await page.getByLabel("Search").fill("item-01");
  await page.getByText("1 in all").waitFor();
  await page.getByRole("button", { name: `Edit ${app.base}/item-01` }).click();
  await page.getByRole("heading", { name: "Edit link" }).waitFor();
  assert.equal(await page.getByLabel("Destination URL").inputValue(), "https://example.com/p1");
  assert.equal(await page.getByLabel("Group", { exact: true }).inputValue(), groupId);
  await page.getByLabel("Destination URL").fill("https://example.com/updated");
  await page.getByLabel("Password").fill("secure123");
  await page.getByLabel("Click limit").fill("1000");
  await page.getByLabel("Suspended (stop redirecting, keep the link)").check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByText("This link has a password.", { exact: false }).waitFor();
  const after = (await app.w.api("GET", "/api/v1/links?search=item-01", { key })).body.data[0];
  assert.equal(after.destinationUrl, "https://example.com/updated");
  assert.equal(after.hasPassword, true);
  assert.equal(after.clickLimit, 1000);
  assert.equal(after.suspended, true);
  assert.equal(after.groupId, groupId);
  con.assertNone();
  await page.close();
});

test("a read-only key sees the links, with write controls disabled and saying why", async () => {
  const { key } = await app.w.workspace("Reader", "business");
  await createViaApi(key, { destinationUrl: "https://example.com/r", slug: "readable" });
  const k = await app.w.api("POST", "/api/v1/keys", { key, body: { name: "viewer", scopes: ["read"] } });
  assert.equal(k.status, 201, k.text);
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await signIn(page, app.base, k.body.data.key);
  await page.getByText("read-only key", { exact: false }).first().waitFor();
  await page.getByRole("link", { name: `${app.base.slice(7)}/readable`, exact: true }).waitFor();
  const create = page.getByRole("button", { name: "New link" });
  assert.equal(await create.isDisabled(), true);
  assert.match(await create.getAttribute("title"), /read-only/);
  const del = page.getByRole("button", { name: `Delete ${app.base}/readable` });
  assert.equal(await del.isDisabled(), true);
  assert.match(await del.getAttribute("title"), /read-only/);
  await checkAxe(page, "links read-only");
  await screenshot(page, "links-read-only");
  // Its details open, every input disabled; analytics work.
  await page.getByRole("button", { name: `View ${app.base}/readable` }).click();
  await page.getByRole("heading", { name: "Link details" }).waitFor();
  assert.equal(await page.getByLabel("Destination URL").isDisabled(), true);
  assert.equal(await page.getByRole("button", { name: "Save changes" }).isDisabled(), true);
  await page.getByRole("main").getByRole("link", { name: "Analytics", exact: true }).click();
  await page.getByTestId("total-clicks").waitFor();
  con.assertNone();
  await page.close();
});
