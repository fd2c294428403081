import type { ScreenProps } from "./index";

export function Placeholder(_: ScreenProps) {
  return <p class="muted">Coming soon.</p>;
}
