import { z } from 'zod';
import { SCOPES } from './caller.js';
import { EventTypeEnum } from './event-schemas.js';
import { MAX_EVENT_BYTES } from './limits.js';

/**
 * What the API answers, as schemas: the ports' types are inferred from them, the OpenAPI
 * document renders them, and the contract tests parse every answer they receive with them.
 * Strict, so that a field the code adds without saying so fails the contract tests.
 */

const instant = z.iso.datetime();
const jsonObject = z.record(z.string(), z.unknown());

export const StoredEventSchema = z.strictObject({
  eventId: z.uuid(),
  timestamp: instant,
  type: EventTypeEnum,
  category: z.string(),
  action: z.string(),
  label: z.string().nullable(),
  value: z.number().nullable(),
  userId: z.uuid().nullable(),
  sessionId: z.string().nullable(),
  properties: jsonObject,
  context: jsonObject,
  metadata: jsonObject,
  receivedAt: instant,
  storedAt: instant,
});
export type StoredEvent = z.output<typeof StoredEventSchema>;

export const EventPageSchema = z.strictObject({
  events: z.array(StoredEventSchema),
  total: z.int().nonnegative(),
  hasMore: z.boolean(),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
});
export type EventPage = z.output<typeof EventPageSchema>;

const statistic = z.number().nullable();

/** Group keys carry the event's own field names (`type`, `userId`), whatever the groupBy term. */
export const AggregateRowSchema = z.strictObject({
  period: instant,
  count: z.int().nonnegative(),
  uniqueUsers: z.int().nonnegative(),
  totalValue: statistic.describe('null only when valueOutOfRange is set'),
  avgValue: statistic,
  minValue: statistic,
  maxValue: statistic,
  p50: statistic.describe('Percentiles of the PERFORMANCE values of the bucket; null when it has none'),
  p95: statistic,
  p99: statistic,
  valueOutOfRange: z.literal(true).optional().describe('The sum of the values is past the largest double; totalValue and avgValue are then null'),
  type: EventTypeEnum.optional().describe('With groupBy event_type'),
  category: z.string().optional().describe('With groupBy category'),
  action: z.string().optional().describe('With groupBy action'),
  userId: z.uuid().nullable().optional().describe('With groupBy user_id'),
});
export type AggregateRow = z.output<typeof AggregateRowSchema>;

export const AggregateSummarySchema = z.strictObject({
  totalEvents: z.int().nonnegative(),
  uniqueUsers: z.int().nonnegative(),
  uniqueSessions: z.int().nonnegative(),
  categories: z.int().nonnegative(),
  actions: z.int().nonnegative(),
});
export type AggregateSummary = z.output<typeof AggregateSummarySchema>;

export const AggregationSchema = z.strictObject({ data: z.array(AggregateRowSchema), summary: AggregateSummarySchema });
export type Aggregation = z.output<typeof AggregationSchema>;

export const EventTypeSummarySchema = z.strictObject({
  type: EventTypeEnum,
  count: z.int().nonnegative(),
  uniqueUsers: z.int().nonnegative(),
  firstSeen: instant,
  lastSeen: instant,
  ingestionLagMs: z.strictObject({ p50: z.number(), p95: z.number() }).describe('stored_at - received_at: how long events of this type took to become readable'),
});
export type EventTypeSummary = z.output<typeof EventTypeSummarySchema>;

export const ErrorGroupSchema = z.strictObject({
  fingerprint: z.string().describe("metadata.fingerprint: category, action and the message with ids, numbers and quoted values blanked"),
  category: z.string(),
  action: z.string(),
  message: z.string().nullable().describe("The latest event's properties.message, properties.error or label"),
  severity: z.string().nullable().describe("The latest event's metadata.severity"),
  count: z.int().nonnegative(),
  users: z.int().nonnegative().describe('Distinct user ids among the events of the group'),
  firstSeen: instant.describe('The first event of the group within the range'),
  lastSeen: instant.describe('The last event of the group within the range'),
  sampleEventId: z.uuid().describe('The last event of the group, for GET /v1/events/{eventId}'),
});
export type ErrorGroup = z.output<typeof ErrorGroupSchema>;

export const ErrorGroupsSchema = z.strictObject({
  from: instant,
  to: instant,
  groups: z.array(ErrorGroupSchema).describe('By count, largest first'),
});
export type ErrorGroups = z.output<typeof ErrorGroupsSchema>;

export const CsvExportSchema = z
  .string()
  .describe(
    'RFC 4180 CSV, CRLF line ends, streamed; a header row, then one row per event in the requested order. properties, context and metadata are JSON text; a cell that starts with = + - @, a tab or a carriage return starts with a single quote instead, so that no spreadsheet reads it as a formula',
  );

export const RetentionRunStatusSchema = z.strictObject({
  kind: z.enum(['partition', 'tenant']).describe("partition: a whole month of every tenant; tenant: this tenant's rows of a month, past its shorter retention"),
  month: z.string().regex(/^\d{4}-\d{2}$/),
  generation: z.int().positive(),
  state: z.string().describe('partition: exporting, uploaded, verified, detached, dropped; tenant: exporting, uploaded, verified, deleted, superseded'),
  rows: z.int().nonnegative().nullable().describe("This tenant's rows in the archive, once it is uploaded"),
  bytes: z.int().nonnegative().nullable().describe("The size of this tenant's gzip object, once uploaded"),
  archive: z.string().nullable().describe("The key of this tenant's archive object, once uploaded"),
  startedAt: instant.nullable(),
  finishedAt: instant.nullable().describe('When the run dropped the partition or deleted the rows'),
  error: z.string().nullable().describe('The job records no failure per run: a failed step is retried by the next run'),
});
export type RetentionRunStatus = z.output<typeof RetentionRunStatusSchema>;

export const RetentionStatusSchema = z.strictObject({
  eventRetentionDays: z.int().positive(),
  rollupRetentionDays: z.int().positive(),
  tenantEventDays: z.int().positive().nullable().describe("This tenant's shorter event retention, if it has one"),
  lastRun: instant.nullable().describe('The latest step any run recorded'),
  runs: z.array(RetentionRunStatusSchema).describe('Newest month first'),
});
export type RetentionStatus = z.output<typeof RetentionStatusSchema>;

export const LiveCountersSchema = z.strictObject({
  from: instant.describe('Start of the first minute counted, inclusive'),
  to: instant.describe('End of the current minute, exclusive: the last minute is still under way'),
  counts: z
    .array(z.strictObject({ minute: instant, type: EventTypeEnum, category: z.string(), count: z.int().nonnegative() }))
    .describe('Every minute of the window for each type and category with an event in it, zeros included; by minute, type, category'),
});
export type LiveCounters = z.output<typeof LiveCountersSchema>;

export const FieldIssueSchema = z.strictObject({ path: z.string(), message: z.string() });

export const TrackReceiptSchema = z.strictObject({ eventId: z.uuid() });

export const BatchReceiptSchema = z.strictObject({
  total: z.int().nonnegative(),
  successful: z.array(z.uuid()),
  failed: z.array(
    z.strictObject({
      index: z.int().nonnegative(),
      error: z.string().describe(`The first issue; an event over ${MAX_EVENT_BYTES} bytes is "event too large", one the queue did not take "not queued, retry later"`),
      errors: z.array(FieldIssueSchema),
    }),
  ),
});
export type BatchReceipt = z.output<typeof BatchReceiptSchema>;

/**
 * What the Segment-compatible routes answer: Segment's `{success: true}`, which its SDKs read
 * only as a 200, plus our receipt per index, so that a bad message is told, not lost quietly.
 */
export const SegmentReceiptSchema = BatchReceiptSchema.extend({ success: z.literal(true) });
export type SegmentReceipt = z.output<typeof SegmentReceiptSchema>;

/** The part of Segment's settings document that analytics-next reads to send to us. */
export const SegmentSettingsSchema = z.strictObject({
  integrations: z.strictObject({
    'Segment.io': z.strictObject({
      apiKey: z.string(),
      apiHost: z.string().describe('This deployment, host and path without the scheme'),
      protocol: z.enum(['http', 'https']),
      unbundledIntegrations: z.array(z.string()),
      addBundledMetadata: z.boolean(),
      maybeBundledConfigIds: jsonObject,
    }),
  }),
  plan: jsonObject,
  edgeFunction: jsonObject,
  analyticsNextEnabled: z.boolean(),
  middlewareSettings: jsonObject,
  enabledMiddleware: jsonObject,
  metrics: z.strictObject({ sampleRate: z.number() }),
  legacyVideoPluginsEnabled: z.boolean(),
  remotePlugins: z.array(z.unknown()),
});
export type SegmentSettings = z.output<typeof SegmentSettingsSchema>;

export const PurgeResultSchema = z.strictObject({ deleted: z.int().nonnegative() });

export const AuditEntrySchema = z.strictObject({
  auditId: z.int().positive(),
  occurredAt: instant,
  action: z.string(),
  actor: z.string(),
  details: jsonObject,
});
export type AuditEntry = z.output<typeof AuditEntrySchema>;

export const AuditPageSchema = z.strictObject({
  entries: z.array(AuditEntrySchema),
  nextBefore: z.int().positive().nullable().describe('Pass as `before` for the next page; null on the last'),
});

export const WriteKeySummarySchema = z.strictObject({
  keyId: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  createdAt: instant,
  createdBy: z.string(),
  revokedAt: instant.optional(),
  revokedBy: z.string().optional(),
});
export type WriteKeySummary = z.output<typeof WriteKeySummarySchema>;

export const CreatedWriteKeySchema = WriteKeySummarySchema.extend({ key: z.string().describe('Send as `Authorization: Bearer wk_...`; shown in this answer only') });
export type CreatedWriteKey = z.output<typeof CreatedWriteKeySchema>;

export const WriteKeyListSchema = z.strictObject({ keys: z.array(WriteKeySummarySchema) });

export const HealthSchema = z.strictObject({ status: z.literal('ok') });

export const OpenApiDocumentSchema = z.looseObject({ openapi: z.string(), info: jsonObject, paths: jsonObject });
export type OpenApiDocument = z.output<typeof OpenApiDocumentSchema>;

/** RFC 9457 problem details: every refusal and failure. */
export const ProblemSchema = z.strictObject({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  errors: z.array(FieldIssueSchema).optional().describe('Every bad field, by its path in the request'),
});
