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

/** axe in the light and the dark theme (the harness's checkAxe scans both). */
export async function checkAxeThemes(page, label) {
  await checkAxe(page, label, { schemes: ["light", "dark"] });
}

/** The focused element: its name (aria-label, label or text), tag, type and whether it shows a focus ring. */
export function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const name =
      el.getAttribute("aria-label") || (el.labels && el.labels[0] && el.labels[0].textContent) || el.textContent || "";
    // The switch draws its ring on the track next to the (transparent) checkbox.
    const ringEl = el.matches(".toggle input") ? el.nextElementSibling : el;
    const cs = getComputedStyle(ringEl);
    return {
      name: name.replace(/\s+/g, " ").trim(),
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute("type"),
      ring: cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2,
    };
  });
}

/** Presses Tab until the focused control's name matches `re`; asserts a visible focus ring. */
export async function tabTo(page, re, { max = 150 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const f = await focused(page);
    if (f && re.test(f.name)) {
      if (!f.ring) throw new Error(`no visible focus indicator on "${f.name}"`);
      return f;
    }
  }
  throw new Error(`Tab never reached ${re}`);
}
