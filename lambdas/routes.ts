import { z } from 'zod';
import {
  AggregationSchema,
  AuditPageSchema,
  BatchReceiptSchema,
  CreatedWriteKeySchema,
  CsvExportSchema,
  ErrorGroupsSchema,
  EventPageSchema,
  EventTypeSummarySchema,
  HealthSchema,
  LiveCountersSchema,
  OpenApiDocumentSchema,
  PurgeResultSchema,
  SegmentReceiptSchema,
  SegmentSettingsSchema,
  RetentionStatusSchema,
  StoredEventSchema,
  TrackReceiptSchema,
  WriteKeyListSchema,
  WriteKeySummarySchema,
} from './shared/domain/answer-schemas.js';
import { AnalyticsEventSchema, BatchEventsSchema } from './shared/domain/event-schemas.js';
import { LiveCounterQuerySchema } from './shared/domain/live-counters.js';
import { MAX_BATCH_EVENTS, MAX_BODY_BYTES, MAX_EVENT_BYTES, SEGMENT_MAX_BATCH_BYTES, SEGMENT_MAX_BATCH_EVENTS, SEGMENT_MAX_CALL_BYTES } from './shared/domain/limits.js';
import { SegmentBatchSchema, SegmentMessageSchema, SEGMENT_PATHS } from './shared/domain/segment-messages.js';
import {
  AggregationQuerySchema,
  AuditQuerySchema,
  ErrorGroupsQuerySchema,
  EventQuerySchema,
  EventTypesQuerySchema,
  ExportQuerySchema,
  MAX_EXPORT_ROWS,
  PurgeQuerySchema,
} from './shared/domain/query-schemas.js';
import { CreateWriteKeySchema, KeyIdSchema } from './shared/domain/write-keys.js';
import type { RouteNeeds, RouteSpec } from './shared/adapters/http/route-spec.js';

const QUERY_FUNCTION = { database: { poolSize: 2 }, memoryMb: 1024, timeoutSeconds: 15 } satisfies RouteNeeds;

/**
 * The HTTP API, one entry per function (the key is its folder under `lambdas/`). Adding a
 * route is an entry here, a handler there and its use case.
 */
export const ROUTES = {
  health: {
    method: 'GET',
    path: '/v1/health',
    summary: 'Liveness',
    answer: { status: 200, description: 'The API answers', schema: HealthSchema },
    needs: { memoryMb: 128 },
  },
  'track-event': {
    method: 'POST',
    path: '/v1/events',
    summary: `Track one event (at most ${MAX_EVENT_BYTES} bytes)`,
    scope: 'events:write',
    request: { body: AnalyticsEventSchema },
    answer: { status: 202, description: 'Queued; readable within seconds', schema: TrackReceiptSchema },
    tooLarge: { status: 413, description: `The event is over ${MAX_EVENT_BYTES} bytes, or the body over ${MAX_BODY_BYTES}` },
    needs: { queue: true },
  },
  'track-batch': {
    method: 'POST',
    path: '/v1/events/batch',
    summary: `Track up to ${MAX_BATCH_EVENTS} events (body at most ${MAX_BODY_BYTES} bytes); a receipt per index`,
    scope: 'events:write',
    request: { body: BatchEventsSchema },
    answer: { status: 200, description: 'Every index accepted (its eventId) or rejected (zod path and message)', schema: BatchReceiptSchema },
    needs: { queue: true, memoryMb: 1024 },
  },
  'track-segment': {
    method: 'POST',
    path: '/v1/batch',
    alsoAt: Object.keys(SEGMENT_PATHS).filter((path) => path !== '/v1/batch'),
    summary: `Segment's HTTP Tracking API: a batch of up to ${SEGMENT_MAX_BATCH_EVENTS} messages (${SEGMENT_MAX_BATCH_BYTES} bytes), or one call at its own path; a result per index`,
    credential: 'segment-write-key',
    cors: 'any-origin',
    request: {
      body: z.union([SegmentBatchSchema, SegmentMessageSchema.omit({ type: true }).extend({ type: SegmentMessageSchema.shape.type.optional() })]),
      // analytics-next posts text/plain (no CORS preflight for the body); either may be gzipped.
      bodyTypes: ['application/json', 'text/plain'],
    },
    tooLarge: { status: 400, description: `The body is over ${SEGMENT_MAX_BATCH_BYTES} bytes (a batch) or ${SEGMENT_MAX_CALL_BYTES} (one call), Segment's limits` },
    answer: { status: 200, description: 'Every index accepted (its eventId, the same for the same messageId) or rejected; bad messages do not fail the others', schema: SegmentReceiptSchema },
    needs: { queue: true, writeKeys: 'read', memoryMb: 1024 },
  },
  'get-segment-settings': {
    method: 'GET',
    path: '/v1/projects/{writeKey}/settings',
    summary: "The settings document analytics-next loads from its cdnURL, pointing it at this deployment",
    cors: 'any-origin',
    request: { path: z.strictObject({ writeKey: z.string().min(1) }) },
    answer: { status: 200, description: 'Segment.io settings with apiHost set to this API', schema: SegmentSettingsSchema },
    needs: { writeKeys: 'read', memoryMb: 256 },
  },
  'get-event': {
    method: 'GET',
    path: '/v1/events/{eventId}',
    summary: "One event of the caller's tenant",
    scope: 'events:read',
    request: { path: z.strictObject({ eventId: z.uuid() }) },
    answer: { status: 200, description: 'The event', schema: StoredEventSchema },
    needs: { database: { poolSize: 2 } },
  },
  'query-events': {
    method: 'POST',
    path: '/v1/events/query',
    summary: 'Filter events; page by offset or by the keyset cursor',
    scope: 'events:read',
    request: { body: EventQuerySchema },
    answer: { status: 200, description: 'One page', schema: EventPageSchema },
    needs: QUERY_FUNCTION,
  },
  'export-events': {
    method: 'POST',
    path: '/v1/events/export',
    summary: `Every match of the query's filters (at most maxRows, ${MAX_EXPORT_ROWS} by default) as a CSV download, streamed while it is read`,
    scope: 'events:read',
    request: { body: ExportQuerySchema },
    answer: {
      status: 200,
      description: 'The CSV, `Content-Disposition: attachment; filename="events-<from>-<to>.csv"`',
      schema: CsvExportSchema,
      contentType: 'text/csv; charset=utf-8',
      streamed: true,
      headers: { 'cache-control': 'no-store' },
    },
    // API Gateway streams for at most 15 minutes, at 2 MB/s past the first 10 MB.
    // One page is read at a time (the next only once the last is handed on): one connection.
    needs: { database: { poolSize: 1 }, memoryMb: 1024, timeoutSeconds: 900 },
  },
  'aggregate-events': {
    method: 'POST',
    path: '/v1/analytics/aggregate',
    summary: 'Time buckets (in a time zone) with counts, exact unique users and value statistics',
    scope: 'events:read',
    request: { body: AggregationQuerySchema },
    answer: { status: 200, description: 'Buckets and a summary over the same filters', schema: AggregationSchema },
    needs: QUERY_FUNCTION,
  },
  'list-event-types': {
    method: 'GET',
    path: '/v1/analytics/event-types',
    summary: 'Per event type: count, unique users, first and last seen, ingestion lag',
    scope: 'events:read',
    request: { query: EventTypesQuerySchema },
    answer: { status: 200, description: 'One row per type present in the range', schema: z.array(EventTypeSummarySchema) },
    needs: QUERY_FUNCTION,
  },
  'list-error-groups': {
    method: 'GET',
    path: '/v1/analytics/errors',
    summary: 'ERROR events of the range grouped by fingerprint: count, users, first and last seen, the latest message',
    scope: 'events:read',
    request: { query: ErrorGroupsQuerySchema },
    answer: { status: 200, description: 'The largest groups first', schema: ErrorGroupsSchema },
    needs: QUERY_FUNCTION,
  },
  'get-live-counters': {
    method: 'GET',
    path: '/v1/counters/live',
    summary: 'Per-minute counts by type and category of the last minutes, from the live counters (seconds behind the writer)',
    scope: 'events:read',
    request: { query: LiveCounterQuerySchema },
    answer: { status: 200, description: 'The window and its minutes, zeros filled in', schema: LiveCountersSchema },
    needs: { liveCounters: 'read', memoryMb: 256 },
  },
  'purge-events': {
    method: 'DELETE',
    path: '/v1/events',
    summary: "Delete the tenant's events older than `olderThan`, in batches; audited as EVENTS_PURGED",
    scope: 'admin',
    request: { query: PurgeQuerySchema },
    answer: { status: 200, description: 'How many events were deleted', schema: PurgeResultSchema },
    needs: { database: { poolSize: 1 }, timeoutSeconds: 29 },
  },
  'list-audit': {
    method: 'GET',
    path: '/v1/audit',
    summary: "The tenant's audit log, newest first",
    scope: 'admin',
    request: { query: AuditQuerySchema },
    answer: { status: 200, description: 'One page; pass nextBefore as before for the next', schema: AuditPageSchema },
    needs: QUERY_FUNCTION,
  },
  'get-retention-status': {
    method: 'GET',
    path: '/v1/admin/retention',
    summary: "The retention settings and the retention job's runs: the tenant's own, and the partitions' with the tenant's rows",
    scope: 'admin',
    answer: { status: 200, description: 'Settings and runs, newest month first', schema: RetentionStatusSchema },
    needs: { database: { poolSize: 1 }, retentionSettings: true },
  },
  'create-write-key': {
    method: 'POST',
    path: '/v1/keys',
    summary: 'Create a write key (scope events:write only) for a browser or server; the key is in this answer only',
    scope: 'admin',
    request: { body: CreateWriteKeySchema },
    // The secret is in this answer only: no cache on the way may keep it.
    answer: { status: 201, description: 'The key: send it as `Authorization: Bearer wk_...`', schema: CreatedWriteKeySchema, headers: { 'cache-control': 'no-store' } },
    needs: { writeKeys: 'create', memoryMb: 256 },
  },
  'list-write-keys': {
    method: 'GET',
    path: '/v1/keys',
    summary: "The tenant's write keys, revoked ones included; never their secrets",
    scope: 'admin',
    answer: { status: 200, description: 'Newest first', schema: WriteKeyListSchema },
    needs: { writeKeys: 'list', memoryMb: 256 },
  },
  'revoke-write-key': {
    method: 'DELETE',
    path: '/v1/keys/{keyId}',
    summary: 'Revoke a write key of the tenant; it stops working within the authorizer cache time (60 s)',
    scope: 'admin',
    request: { path: KeyIdSchema },
    answer: { status: 200, description: 'The revoked key', schema: WriteKeySummarySchema },
    needs: { writeKeys: 'revoke', memoryMb: 256 },
  },
  'get-openapi': {
    method: 'GET',
    path: '/v1/openapi.json',
    summary: 'This document',
    answer: { status: 200, description: 'OpenAPI 3.1', schema: OpenApiDocumentSchema },
    needs: { memoryMb: 256 },
  },
} satisfies Record<string, RouteSpec>;

export type HttpFunction = keyof typeof ROUTES;
