// The screen table: one entry per route, its nav label and who may see it.
// A new screen is one line here plus its file.
import type { FunctionComponent } from "preact";
import type { Role } from "../api";
import { LinksScreen } from "./links";
import { AnalyticsScreen } from "./analytics";
import { OperatorScreen } from "./operator";
import { QrScreen } from "./qr";
import { BioScreen } from "./bio";
import { WebhooksScreen } from "./webhooks";
import { DomainsScreen } from "./domains";
import { KeysScreen } from "./keys";

export interface ScreenProps {
  /** Route parameters, e.g. { id } for "/links/:id". */
  params: Record<string, string>;
}

export interface Screen {
  path: string;
  /** Shown in the navigation when set. */
  nav?: string;
  role: Role;
  title: string;
  component: FunctionComponent<ScreenProps>;
}

export const screens: Screen[] = [
  { path: "/links", nav: "Links", role: "key", title: "Links", component: LinksScreen },
  { path: "/analytics", nav: "Analytics", role: "key", title: "Analytics", component: AnalyticsScreen },
  { path: "/qr", nav: "QR codes", role: "key", title: "QR codes", component: QrScreen },
  { path: "/bio", nav: "Bio pages", role: "key", title: "Link-in-bio pages", component: BioScreen },
  { path: "/webhooks", nav: "Webhooks", role: "key", title: "Webhooks", component: WebhooksScreen },
  { path: "/domains", nav: "Domains", role: "key", title: "Domains", component: DomainsScreen },
  { path: "/keys", nav: "API keys", role: "key", title: "API keys", component: KeysScreen },
  { path: "/operator", nav: "Operator", role: "operator", title: "Operator", component: OperatorScreen },
];
