/**
 * The API's answers, as the server's own schemas infer them (type imports only: nothing of zod
 * reaches the bundle), and the answers of issue 16's new routes as their contract states them.
 */
export type {
  AggregateRow,
  Aggregation,
  AuditEntry,
  CreatedWriteKey,
  EventPage,
  EventTypeSummary,
  LiveCounters,
  StoredEvent,
  WriteKeySummary,
} from '../../lambdas/shared/domain/answer-schemas.js';
export type { EventQuery, AggregationQuery } from '../../lambdas/shared/domain/query-schemas.js';
export type { EventType } from '../../lambdas/shared/domain/event-schemas.js';

export interface ErrorGroup {
  fingerprint: string;
  category: string;
  action: string;
  message: string | null;
  severity: string | null;
  count: number;
  users: number;
  firstSeen: string;
  lastSeen: string;
  sampleEventId: string;
}

export interface ErrorGroups {
  from: string;
  to: string;
  groups: ErrorGroup[];
}

export interface RetentionRun {
  kind: 'partition' | 'tenant';
  month: string;
  state: string;
  rows: number | null;
  bytes: number | null;
  archive: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

export interface RetentionStatus {
  eventRetentionDays: number;
  rollupRetentionDays: number;
  tenantEventDays: number | null;
  lastRun: string | null;
  runs: RetentionRun[];
}

export interface AuditPage {
  entries: import('../../lambdas/shared/domain/answer-schemas.js').AuditEntry[];
  nextBefore: number | null;
}

/** Cognito's hosted UI (`auth` of config.json); the URIs may be relative to the page's origin. */
export interface HostedUiConfig {
  mode: 'cognito';
  /** `https://<prefix>.auth.<region>.amazoncognito.com`: authorize, token and logout endpoints. */
  domain: string;
  clientId: string;
  redirectUri: string;
  logoutUri: string;
  scopes: string;
}

export interface WebConfig {
  apiBase: string;
  streamUrl?: string;
  auth: { mode: 'token' } | HostedUiConfig;
}
