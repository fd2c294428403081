// The links screen's CSV export and import (with a rejected row, its
// status followed until done), and the A/B variant card of a link's
// analytics, in a real Chromium against the built worker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startApp, launchBrowser, signIn, collectConsoleErrors, checkAxe, screenshot, waitFor } from "./harness.mjs";

let app, browser;
before(async () => {
  app = await startApp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

const chrome = (i) =>
  `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.${i}.0 Safari/537.36`;

test("export the links as CSV; import a CSV with a bad row: its links appear and the rejected row downloads", async () => {
  const { key } = await app.w.workspace("Csv", "business");
  const made = await app.w.api("POST", "/api/v1/links", { key, body: { destinationUrl: "https://example.com/old", slug: "already-here" } });
  assert.equal(made.status, 201, made.text);
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await signIn(page, app.base, key);
  await page.getByText("already-here").first().waitFor();

  const [exported] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
  const out = readFileSync(await exported.path(), "utf8").trim().split(/\r?\n/);
  assert.match(out[0], /^id,shortUrl,domain,slug,destinationUrl/);
  assert.equal(out.length, 2, out.join("\n"));
  assert.match(out[1], /already-here,https:\/\/example\.com\/old/);

  const csv = [
    "destinationUrl,slug,title",
    "https://example.com/a,imported-a,Imported A",
    "https://example.com/b,imported-b,Imported B",
    "ftp://example.com/bad,imported-c,Bad one",
  ].join("\n");
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.getByRole("button", { name: "Import CSV" }).click()]);
  await chooser.setFiles({ name: "spring.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  const status = page.getByRole("status", { name: "Import" });
  await waitFor(async () => /Imported spring\.csv: 2 created, 0 skipped, 1 failed\./.test(await status.innerText()), {
    ms: 30000,
    label: "the import's outcome",
  });
  // The table reloads with the imported links.
  await page.getByText("imported-a").first().waitFor();
  await page.getByText("imported-b").first().waitFor();
  assert.equal(await page.getByText("imported-c").count(), 0);
  await checkAxe(page, "links after an import");
  await screenshot(page, "links-import", { fullPage: false });

  const [rejected] = await Promise.all([
    page.waitForEvent("download"),
    status.getByRole("button", { name: "Download rejected rows (CSV)" }).click(),
  ]);
  const errors = readFileSync(await rejected.path(), "utf8").trim().split(/\r?\n/);
  assert.equal(errors[0], "row,outcome,code,message,slug,destinationUrl");
  assert.equal(errors.length, 2, errors.join("\n"));
  assert.match(errors[1], /^4,failed,INVALID_URL,/);
  await status.getByRole("button", { name: "Dismiss" }).click();
  assert.equal(await status.count(), 0);
  con.assertNone();
  await page.close();
});

test("a link's analytics show clicks per A/B variant, labelled with each variant's URL and weight", async () => {
  const { key } = await app.w.workspace("Ab", "business");
  const made = await app.w.api("POST", "/api/v1/links", {
    key,
    body: {
      destinationUrl: "https://example.com/landing",
      slug: "ab-landing",
      testVariants: [
        { url: "https://example.com/red", weight: 50 },
        { url: "https://example.com/blue", weight: 50 },
      ],
    },
  });
  assert.equal(made.status, 201, made.text);
  const id = made.body.data.id;
  // 16 visitors (one user agent each): each variant is picked for some.
  for (let i = 0; i < 16; i++) {
    const r = await fetch(`${app.base}/ab-landing`, { redirect: "manual", headers: { "User-Agent": chrome(i) } });
    assert.equal(r.status, 302);
    assert.match(r.headers.get("location"), /^https:\/\/example\.com\/(red|blue)$/);
  }
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await signIn(page, app.base, key);
  await page.goto(`${app.base}/dashboard/#/analytics/${encodeURIComponent(id)}`);
  const card = page.getByRole("region", { name: "By A/B variant" });
  await waitFor(
    async () => {
      if ((await page.getByTestId("total-clicks").innerText()) !== "16") await page.reload();
      return (await page.getByTestId("total-clicks").innerText()) === "16" && (await card.count()) === 1;
    },
    { ms: 30000, step: 500, label: "16 clicks and the variant card" },
  );
  const rows = await card.getByRole("row").allInnerTexts();
  const body = rows.slice(1).map((r) => r.replace(/\s+/g, " ").trim());
  assert.ok(body.length >= 1 && body.length <= 2, body.join(" | "));
  let sum = 0;
  for (const r of body) {
    const m = /^([AB]) → example\.com\/(red|blue) \(50%\) (\d+) \(\d+%\)$/.exec(r);
    assert.ok(m, r);
    assert.equal(m[2], m[1] === "A" ? "red" : "blue", "A is the first variant");
    sum += Number(m[3]);
  }
  assert.equal(sum, 16);
  await checkAxe(page, "link analytics with an A/B test");
  await screenshot(page, "link-analytics-variants");
  con.assertNone();
  await page.close();
});

test("the link form starts an A/B test and a preview card, shows a bad weight sum at the weights, and ends the test", async () => {
  const { key } = await app.w.workspace("AbForm", "business");
  const page = await browser.newPage();
  // The refused save is a 400 the browser logs.
  const con = collectConsoleErrors(page, { allow: [/status of 400/] });
  await signIn(page, app.base, key);
  await page.getByRole("button", { name: "New link" }).click();
  await page.getByLabel("Destination URL").fill("https://example.com/home");
  await page.getByLabel("Slug").fill("ab-form");
  await page.getByRole("button", { name: "Start an A/B test" }).click();
  assert.equal(await page.getByLabel("Variant A URL").inputValue(), "https://example.com/home", "A starts as the destination");
  // Focus moves to variant B's URL.
  await waitFor(async () => (await page.evaluate(() => document.activeElement?.getAttribute("data-field"))) === "testVariants[1].url", {
    label: "focus on variant B's URL",
  });
  await page.keyboard.type("https://example.com/new");
  await page.getByLabel("Variant B weight (%)").fill("60");
  await page.getByLabel("Headline").fill("Spring collection");
  await page.getByLabel("Image (https URL)").fill("https://example.com/card.png");
  await page.getByRole("button", { name: "Create link" }).click();
  // 50 + 60: the API's error shows under the weights.
  const sumError = page.locator("fieldset", { has: page.getByText("A/B test", { exact: true }) }).getByRole("alert");
  await waitFor(async () => /100/.test(await sumError.innerText()), { label: "the weight sum error" });
  assert.match(await page.getByText(/Weights add up to/).innerText(), /110%/);
  await checkAxe(page, "link form with an A/B test", { schemes: ["light"] });
  await screenshot(page, "link-form-ab-test", { fullPage: false, prepare: (p) => p.getByRole("group", { name: "Variant B" }).scrollIntoViewIfNeeded() });
  await page.getByLabel("Variant B weight (%)").fill("50");
  await page.getByRole("button", { name: "Create link" }).click();
  await page.getByRole("heading", { name: "Link created" }).waitFor();

  const list = await app.w.api("GET", "/api/v1/links?search=ab-form", { key });
  const link = list.body.data[0];
  assert.deepEqual(link.testVariants, [
    { url: "https://example.com/home", weight: 50 },
    { url: "https://example.com/new", weight: 50 },
  ]);
  assert.equal(link.preview.title, "Spring collection");
  assert.equal(link.preview.image, "https://example.com/card.png");

  // Editing shows both; ending the test and clearing the card removes them.
  await page.goto(`${app.base}/dashboard/#/links/edit/${encodeURIComponent(link.id)}`);
  await page.getByLabel("Variant B URL").waitFor();
  assert.equal(await page.getByLabel("Variant B URL").inputValue(), "https://example.com/new");
  await page.getByRole("button", { name: "End the test" }).click();
  await page.getByText("No A/B test.").waitFor();
  await page.getByLabel("Headline").fill("");
  await page.getByLabel("Image (https URL)").fill("");
  await page.getByRole("button", { name: "Save changes" }).click();
  await waitFor(
    async () => {
      const r = await app.w.api("GET", `/api/v1/links/${link.id}`, { key });
      return r.body.data.testVariants === undefined && r.body.data.preview === undefined;
    },
    { label: "the test and the card ended" },
  );
  con.assertNone();
  await page.close();
});
