// API shapes the links, analytics and operator screens read (see
// src/openapi.json: Link, LinkStats, WorkspaceStats, Group, Domain).
export interface Link {
  id: string;
  shortUrl: string;
  destinationUrl: string;
  slug: string;
  domain: string;
  title: string | null;
  description: string | null;
  tags: string[];
  hasPassword: boolean;
  expiresAt: string | null;
  clickLimit: number | null;
  geoTargets: Record<string, string>;
  deviceTargets: Record<string, string>;
  iosUrl: string | null;
  androidUrl: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmTerm: string | null;
  utmContent: string | null;
  groupId: string | null;
  archived: boolean;
  escapeFromWechat: boolean;
  advancedBotDetection: boolean;
  webhook: boolean;
  webhookScene: string;
  suspended: boolean;
  banned: boolean;
  clickCount: number;
  createdAt: string;
  updatedAt: string;
  /** A/B destinations (present only while a test runs). */
  testVariants?: { url: string; weight: number }[];
  /** The card link unfurlers show (present only when set). */
  preview?: { title: string; description?: string | null; image?: string | null };
}

/** A CSV import (`GET /api/v1/imports/{id}`). */
export interface Import {
  id: string;
  status: "queued" | "running" | "done" | "failed";
  totalRows: number;
  processedRows: number;
  created: number;
  skipped: number;
  failed: number;
  error: string | null;
  errorsUrl: string;
}

export interface Group {
  id: string;
  name: string;
  description: string | null;
  linkCount: number;
}

export interface Domain {
  id: string;
  domain: string;
  verified: boolean;
}

export type Breakdown = Array<{ clicks: number } & Record<string, string | number>>;

export interface Period {
  from: string;
  to: string;
  interval: "hour" | "day";
}

/** What link and workspace stats share (the workspace's summed over its links). */
export interface ClickStats {
  period: Period;
  totalClicks: number;
  uniqueVisitors: number;
  byCountry: Breakdown;
  byDevice: Breakdown;
  byBrowser: Breakdown;
  byOs: Breakdown;
  byReferrer: Breakdown;
  bySource: Breakdown;
  overTime: { date: string; clicks: number }[];
}

export interface LinkStats extends ClickStats {
  linkId: string;
  /** Clicks per A/B variant, labelled A–D (present once a variant was chosen). */
  byVariant?: Breakdown;
}

export interface WorkspaceStats extends ClickStats {
  topLinks: { id: string; shortUrl: string; slug: string; domain: string; title: string | null; clicks: number }[];
  topCountries: Breakdown;
}
