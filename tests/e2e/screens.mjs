// Helpers of the QR, bio, webhook, domain and key browser tests.

/** Signs in with `key` through the sign-in form, then opens `#<hash>`. */
export async function openScreen(page, base, key, hash) {
  await page.goto(`${base}/dashboard/`);
  await page.getByLabel("API key", { exact: true }).last().fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  if (hash) await page.goto(`${base}/dashboard/#${hash}`);
}
