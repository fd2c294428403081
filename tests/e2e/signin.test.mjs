// Signing in: a full key, a wrong key's message, a read-only key sees data
// with write controls disabled and saying why; sign-out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, launchBrowser, signIn, collectConsoleErrors, checkAxe, screenshot } from "./harness.mjs";

let app, browser;
before(async () => {
  app = await startApp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

test("sign in with a full key, then sign out; the key is kept in sessionStorage only", async () => {
  const { key } = await app.w.workspace("Signin", "business");
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await page.goto(`${app.base}/dashboard/`);
  await checkAxe(page, "sign-in");
  await screenshot(page, "signin");
  await signIn(page, app.base, key);
  assert.match(page.url(), /#\/links/);
  assert.doesNotMatch(page.url(), /go2_/);
  const stored = await page.evaluate(() => sessionStorage.getItem("edgelink.session"));
  assert.match(stored, new RegExp(key));
  assert.equal(await page.evaluate(() => JSON.stringify(localStorage)), "{}");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to Edgelink" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("edgelink.session")), null);
  con.assertNone();
  await page.close();
});

test("a wrong key gets a clear message at the field", async () => {
  const page = await browser.newPage();
  const con = collectConsoleErrors(page, { allow: [/401/] });
  await page.goto(`${app.base}/dashboard/`);
  await page.getByLabel("API key", { exact: true }).last().fill("go2_not_a_real_key");
  await page.getByRole("button", { name: "Sign in" }).click();
  const err = page.locator(".field-error");
  await err.waitFor();
  assert.match(await err.innerText(), /not accepted/);
  assert.equal(await page.getByLabel("API key", { exact: true }).last().getAttribute("aria-invalid"), "true");
  con.assertNone();
  await page.close();
});
