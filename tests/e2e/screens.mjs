// Helpers of the QR, bio, webhook, domain and key browser tests.
import { checkAxe, signIn } from "./harness.mjs";

/** Signs in with `key` (the harness's sign-in form), then opens `#<hash>`. */
export async function openScreen(page, base, key, hash) {
  await signIn(page, base, key);
  if (hash) await page.goto(`${base}/dashboard/#${hash}`);
}

/** Waits until no message is shown in the shell's live region (for screenshots). */
export async function quiet(page) {
  await page.waitForFunction(() => !document.querySelector(".toast")?.textContent, null, { timeout: 8000 });
}

/** axe in the light theme, then in the dark one (it follows the system). */
export async function checkAxeThemes(page, label) {
  await checkAxe(page, label);
  await page.emulateMedia({ colorScheme: "dark" });
  try {
    await checkAxe(page, `${label} (dark)`);
  } finally {
    await page.emulateMedia({ colorScheme: "light" });
  }
}
