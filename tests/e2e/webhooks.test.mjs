// Webhooks in Chromium against the built worker, delivering to a real HTTP
// receiver on 127.0.0.1: create (secret shown once), send a test and see
// its result, a failing target, enable/disable, edit events, the delivery
// log with its status filter and a delivery's payload, delete.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { startApp, launchBrowser, collectConsoleErrors, checkAxe, screenshot, waitFor } from "./harness.mjs";
import { openScreen, quiet, checkAxeThemes } from "./screens.mjs";

let app, browser, key, receiver, target;
const received = [];

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ path: req.url, headers: req.headers, body });
      if (req.url.startsWith("/fail")) {
        res.writeHead(503, { "Content-Type": "text/plain" });
        return res.end("try later");
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"ok":true}');
    });
  });
  target = await new Promise((r) => receiver.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${receiver.address().port}`)));
  app = await startApp({ vars: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" } });
  browser = await launchBrowser();
  ({ key } = await app.w.workspace("Hooks Co", "business"));
});
after(async () => {
  await browser?.close();
  await app?.close();
  receiver?.close();
});

test("create a webhook, see its secret once, send a test and read the delivery log", async () => {
  const page = await browser.newPage();
  const con = collectConsoleErrors(page, { allow: [/status of 400/] });
  await openScreen(page, app.base, key, `/webhooks`);
  await page.getByText("No webhooks yet").waitFor();
  await checkAxe(page, "webhooks (empty)");

  // A bad URL is shown at the URL field.
  await page.getByLabel("Name").fill("Click tracker");
  await page.getByLabel("Target URL").fill("ftp://nope");
  await page.getByRole("button", { name: "Create webhook" }).click();
  const urlErr = page.locator(".field.has-error", { has: page.getByLabel("Target URL") }).locator(".field-error");
  await urlErr.waitFor();
  // No events: the message is at the events picker.
  await page.getByLabel("Target URL").fill(`${target}/hook`);
  await page.getByRole("checkbox", { name: /^click\b/ }).uncheck();
  await page.getByRole("checkbox", { name: /^link\.created\b/ }).uncheck();
  await page.getByRole("button", { name: "Create webhook" }).click();
  await page.locator(".events .field-error").waitFor();
  // The seed's example: click + link.created.
  await page.getByRole("checkbox", { name: /^click\b/ }).check();
  await page.getByRole("checkbox", { name: /^link\.created\b/ }).check();
  await page.getByRole("button", { name: "Create webhook" }).click();

  const secretBox = page.getByRole("region", { name: /Signing secret of Click tracker/ });
  await secretBox.waitFor();
  const secret = await secretBox.getByTestId("secret").innerText();
  assert.match(secret, /^whsec_[0-9A-Za-z+/]{32}$/);
  assert.match(await secretBox.innerText(), /shown only this once/);
  await secretBox.getByRole("button", { name: /^Copy/ }).click();
  await secretBox.getByText("Copied", { exact: true }).waitFor();
  await screenshot(page, "webhooks-created", { prepare: quiet });
  await secretBox.getByRole("button", { name: "I have copied it" }).click();
  await secretBox.waitFor({ state: "detached" });

  const hooks = (await app.w.api("GET", "/api/v1/webhooks", { key })).body.data;
  assert.equal(hooks.length, 1);
  assert.deepEqual(hooks[0].events.sort(), ["click", "link.created"]);
  assert.equal(hooks[0].secret, undefined);

  // Send a test from the list: the result shows, the receiver got a signed POST.
  const card = page.locator(".cards > li", { hasText: "Click tracker" });
  await card.getByRole("button", { name: "Send test to Click tracker" }).click();
  const result = card.getByTestId("test-result");
  await waitFor(async () => /Test delivered: the target answered HTTP 200/.test(await result.innerText()), {
    label: "test result",
  });
  const got = received.find((r) => r.path === "/hook");
  assert.ok(got, "the receiver got the test");
  assert.equal(got.headers["x-webhook-signature"], createHmac("sha256", secret).update(got.body).digest("hex"));
  assert.equal(JSON.parse(got.body).event, "webhook.test");

  // Disable, then enable again.
  await card.getByRole("switch", { name: /Enabled/ }).uncheck();
  await card.getByText("Disabled", { exact: true }).waitFor();
  assert.equal((await app.w.api("GET", `/api/v1/webhooks/${hooks[0].id}`, { key })).body.data.isActive, false);
  await card.getByRole("switch", { name: /Enabled/ }).check();
  await card.getByText("Enabled", { exact: true }).first().waitFor();
  assert.equal((await app.w.api("GET", `/api/v1/webhooks/${hooks[0].id}`, { key })).body.data.isActive, true);
  await checkAxeThemes(page, "webhooks list");
  await screenshot(page, "webhooks", { prepare: quiet });

  // A real event: creating a link raises link.created, delivered through the Queue.
  const link = await app.w.api("POST", "/api/v1/links", { key, body: { destinationUrl: "https://example.com/x" } });
  assert.equal(link.status, 201);
  await waitFor(() => received.some((r) => r.path === "/hook" && JSON.parse(r.body).event === "link.created"), {
    ms: 15000,
    label: "link.created delivered",
  });

  // Detail: the delivery log, its filter, a payload.
  await card.getByRole("link", { name: "Settings & delivery log of Click tracker" }).click();
  await page.getByRole("heading", { level: 1, name: "Click tracker" }).waitFor();
  const log = page.locator("section", { has: page.getByRole("heading", { name: "Delivery log" }) });
  await waitFor(async () => (await log.locator("tbody tr").count()) === 2, { ms: 15000, label: "2 deliveries" });
  assert.match(await log.locator("tbody").innerText(), /webhook\.test/);
  assert.match(await log.locator("tbody").innerText(), /link\.created/);
  await log.getByLabel("Status").selectOption("failed");
  await log.getByText("No deliveries with this status.").waitFor();
  await log.getByLabel("Status").selectOption("success");
  await waitFor(async () => (await log.locator("tbody tr").count()) === 2, { label: "2 delivered" });
  await log.locator("tbody tr", { hasText: "link.created" }).getByRole("button", { name: /^Payload of link\.created/ }).click();
  const dialog = page.getByRole("dialog", { name: "Delivery" });
  await dialog.getByTestId("payload").waitFor();
  const payload = JSON.parse(await dialog.getByTestId("payload").innerText());
  assert.equal(payload.event, "link.created");
  assert.equal(payload.data.id ?? payload.data.link?.id, link.body.data.id);
  assert.match(await dialog.innerText(), /\{"ok":true\}/);
  await checkAxe(page, "webhook delivery dialog");
  await screenshot(page, "webhook-delivery", {
    prepare: async (p) => {
      await quiet(p);
      if (!(await p.getByRole("dialog", { name: "Delivery" }).isVisible())) {
        await p.locator("tbody tr", { hasText: "link.created" }).getByRole("button", { name: /^Payload/ }).click();
        await p.getByRole("dialog", { name: "Delivery" }).getByTestId("payload").waitFor();
      }
    },
  });
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });

  // Edit the events: everything (*).
  await page.getByRole("checkbox", { name: /All events/ }).check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await waitFor(async () => {
    const h = (await app.w.api("GET", `/api/v1/webhooks/${hooks[0].id}`, { key })).body.data;
    return h.events.length === 1 && h.events[0] === "*";
  }, { label: "events saved" });
  await checkAxeThemes(page, "webhook detail");
  await screenshot(page, "webhook-detail", { prepare: quiet });
  con.assertNone("webhooks");
  await page.close();
});

test("a failing target: the test says so, the log shows it as failed; delete asks first", async () => {
  const h = await app.w.api("POST", "/api/v1/webhooks", {
    key,
    body: { name: "Flaky", url: `${target}/fail`, events: ["qr.scanned"] },
  });
  assert.equal(h.status, 201);
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await openScreen(page, app.base, key, `/webhooks/${h.body.data.id}`);
  await page.getByRole("heading", { level: 1, name: "Flaky" }).waitFor();
  await page.getByRole("button", { name: "Send test to Flaky" }).click();
  const result = page.getByTestId("test-result");
  await waitFor(async () => /Test failed: the target answered HTTP 503/.test(await result.innerText()), {
    label: "failed test result",
  });
  const log = page.locator("section", { has: page.getByRole("heading", { name: "Delivery log" }) });
  await log.getByLabel("Status").selectOption("failed");
  await waitFor(async () => /Failed/.test(await log.locator("tbody").innerText().catch(() => "")), { label: "failed row" });
  assert.match(await log.locator("tbody").innerText(), /HTTP 503/);

  await page.getByRole("button", { name: "Delete webhook" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this webhook?" });
  await dialog.getByRole("button", { name: "Delete webhook" }).click();
  await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
  const left = (await app.w.api("GET", "/api/v1/webhooks", { key })).body.data.map((x) => x.name);
  assert.deepEqual(left, ["Click tracker"]);
  con.assertNone("webhooks failing");
  await page.close();
});

test("a webhook switched off after failures says why and switches back on; rotating shows the new secret once", async () => {
  const h = await app.w.api("POST", "/api/v1/webhooks", {
    key,
    body: { name: "Rotating", url: `${target}/rotating`, events: ["link.created"] },
  });
  assert.equal(h.status, 201);
  const id = h.body.data.id;
  const oldSecret = h.body.data.secret;
  // The state the delivery consumer leaves after 50 failures in a row
  // (tests/webhook-lifecycle.test.mjs drives that through the queue).
  await app.w.db
    .prepare("UPDATE webhooks SET is_active = 0, failure_streak = 50, disabled_reason = '50 deliveries in a row failed' WHERE id = ?1")
    .bind(id)
    .run();
  const page = await browser.newPage();
  const con = collectConsoleErrors(page);
  await openScreen(page, app.base, key, `/webhooks/${id}`);
  await page.getByRole("heading", { level: 1, name: "Rotating" }).waitFor();
  await page.getByText("Switched off automatically: 50 deliveries in a row failed").waitFor();
  await screenshot(page, "webhook-auto-disabled", { prepare: quiet });
  await page.getByRole("checkbox", { name: /^Enabled/ }).check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await waitFor(async () => (await app.w.api("GET", `/api/v1/webhooks/${id}`, { key })).body.data.isActive, {
    label: "enabled again",
  });
  assert.equal((await app.w.api("GET", `/api/v1/webhooks/${id}`, { key })).body.data.disabledReason, null);

  await page.reload();
  await page.getByRole("heading", { level: 1, name: "Rotating" }).waitFor();
  assert.equal(await page.getByText("Switched off automatically").count(), 0);
  await page.getByRole("button", { name: "Rotate secret" }).click();
  const dialog = page.getByRole("dialog", { name: "Rotate the signing secret?" });
  await dialog.getByRole("button", { name: "Rotate" }).click();
  const box = page.getByRole("region", { name: "New signing secret" });
  await box.waitFor();
  const secret = await box.getByTestId("secret").innerText();
  assert.match(secret, /^whsec_[0-9A-Za-z+/]{32}$/);
  assert.notEqual(secret, oldSecret);
  await checkAxeThemes(page, "webhook rotate");
  await screenshot(page, "webhook-rotated", { prepare: quiet });
  await box.getByRole("button", { name: "I have copied it" }).click();
  await page.getByText(/The previous secret also signs until/).waitFor();

  // A test send is signed with both secrets; each verifies alone.
  await page.getByRole("button", { name: "Send test to Rotating" }).click();
  await waitFor(() => received.some((r) => r.path === "/rotating"), { label: "test delivered" });
  const got = received.find((r) => r.path === "/rotating");
  assert.equal(got.headers["webhook-signature"].split(" ").length, 2);
  assert.ok(new Webhook(secret).verify(got.body, got.headers));
  assert.ok(new Webhook(oldSecret).verify(got.body, got.headers));
  con.assertNone("webhook rotate");
  await page.close();
});
