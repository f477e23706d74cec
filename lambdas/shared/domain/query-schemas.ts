import { z } from 'zod';
import { EventTypeEnum, findUnstorableJson, isoDateTime, isPlainObject, storableText } from './event-schemas.js';

const MAX_FILTER_VALUES = 100;

/**
 * Equality on properties: `{"plan": "pro", "user": {"tier": 2}}` matches events whose
 * properties hold those values (nested objects match on the keys given). Keys are data: they
 * reach SQL only inside a JSON parameter, never as text.
 */
export const PropertyFilterSchema = z
  .custom<Record<string, unknown>>(isPlainObject, 'expected an object of property values')
  .superRefine((filter, ctx) => {
    if (Object.keys(filter).length === 0) ctx.addIssue({ code: 'custom', message: 'needs at least one property' });
    if (Object.keys(filter).length > 20) ctx.addIssue({ code: 'custom', message: 'at most 20 properties' });
    const reason = findUnstorableJson(filter);
    if (reason) ctx.addIssue({ code: 'custom', ...reason });
  });

const EARLIEST_MS = Date.parse('1970-01-01T00:00:00Z');
const LATEST_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An instant of a query, handed on as UTC ISO text. zod takes what Postgres cannot read (year
 * 0, offsets past ±15:59) and what Date cannot write back (past 9999 it writes `+010000-...`);
 * the SQL, the cursor and the audit see one normalised form. No event predates 1970.
 */
const queryInstant = isoDateTime
  .refine((value) => Date.parse(value) >= EARLIEST_MS && Date.parse(value) <= LATEST_MS, 'must be between 1970-01-01 and 9999-12-31 (UTC)')
  .transform((value) => new Date(value).toISOString());

const timeRange = {
  startTime: queryInstant.describe('Start of the range, inclusive'),
  endTime: queryInstant.describe('End of the range, inclusive: an event at exactly endTime is in it'),
};

const commonFilters = {
  eventTypes: z.array(EventTypeEnum).min(1).max(7).optional(),
  categories: z.array(storableText(100).min(1)).min(1).max(MAX_FILTER_VALUES).optional(),
  actions: z.array(storableText(100).min(1)).min(1).max(MAX_FILTER_VALUES).optional(),
};

function checkRange(range: { startTime: string; endTime: string }, ctx: z.RefinementCtx): void {
  if (Date.parse(range.endTime) <= Date.parse(range.startTime)) {
    ctx.addIssue({ code: 'custom', path: ['endTime'], message: 'must be after startTime' });
  }
}

/** The filters of an events read: the query's and the export's. */
const eventFilters = {
  ...commonFilters,
  userId: z.uuid().optional(),
  // An empty id would match no stored session; refused so that it cannot read as "no filter".
  sessionId: storableText(64).min(1).optional(),
  ...timeRange,
  properties: PropertyFilterSchema.optional(),
  orderBy: z.enum(['timestamp_asc', 'timestamp_desc']).default('timestamp_desc'),
};

/** POST /v1/events/query: the specification's EventQuerySchema, plus a keyset cursor. */
export const EventQuerySchema = z
  .strictObject({
    ...eventFilters,
    limit: z.number().int().min(1).max(1000).default(100),
    offset: z.number().int().min(0).max(100_000).default(0),
    /** Opaque; from `nextCursor` of the previous page, with the same filters. */
    cursor: z.string().min(1).max(1024).optional(),
  })
  .superRefine((query, ctx) => {
    checkRange(query, ctx);
    if (query.cursor && query.offset > 0) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'cannot be combined with cursor' });
  });
export type EventQuery = z.infer<typeof EventQuerySchema>;

export const GROUP_BY_FIELDS = ['event_type', 'category', 'action', 'user_id'] as const;
export type GroupByField = (typeof GROUP_BY_FIELDS)[number];

/**
 * A name of the tz database, links included (`Asia/Kolkata`, `Asia/Calcutta`, `Etc/UTC`, `GMT`),
 * in any case: what Intl.DateTimeFormat takes. Not Intl.supportedValuesOf('timeZone'): it lists
 * one name per zone, the one CLDR prefers (`Asia/Calcutta` but not `Asia/Kolkata`), and that
 * choice changes between ICU versions. The shape test keeps out what Postgres would read as a
 * POSIX rule with the sign reversed (`GMT+5`, `+05:30`); Intl refuses those too. A name Node
 * knows and the database does not (`US/Pacific-New`) is refused by the query adapter.
 */
export function isTimeZoneName(zone: string): boolean {
  if (!/^[A-Za-z][\w+-]*(\/[\w+-]+)*$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The name ICU resolves a zone to (`Asia/Kolkata` -> `Asia/Calcutta`, `CET` -> `Europe/Brussels`),
 * for the database to bucket in: Postgres reads a name that is also an abbreviation as the
 * abbreviation, so `CET`, `EET`, `MET` and `WET` stayed at their winter offset all summer,
 * where Intl (and so the rollup planning) follows the tz database, DST included.
 */
export function canonicalTimeZone(zone: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
}

const uniqueFields = (fields: readonly string[], ctx: z.RefinementCtx): void => {
  fields.forEach((field, index) => {
    if (fields.indexOf(field) !== index) ctx.addIssue({ code: 'custom', path: [index], message: `repeats ${field}` });
  });
};

/** POST /v1/analytics/aggregate: the specification's AggregationQuerySchema, plus a time zone. */
export const AggregationQuerySchema = z
  .strictObject({
    ...commonFilters,
    ...timeRange,
    granularity: z.enum(['minute', 'hour', 'day', 'week', 'month']).default('hour'),
    groupBy: z.array(z.enum(GROUP_BY_FIELDS)).max(4).superRefine(uniqueFields).optional(),
    /** IANA zone: day, week and month buckets start at local midnight, DST included. */
    timezone: z.string().max(64).refine(isTimeZoneName, 'is not an IANA time zone').default('UTC'),
  })
  .superRefine(checkRange);
export type AggregationQuery = z.infer<typeof AggregationQuerySchema>;

/** GET /v1/analytics/event-types?startTime&endTime */
export const EventTypesQuerySchema = z.strictObject(timeRange).superRefine(checkRange);
export type EventTypesQuery = z.infer<typeof EventTypesQuerySchema>;

/** The most rows one export may stream: about 500 MB of CSV, what API Gateway streams in its 15 minutes at 2 MB/s past the first 10 MB. */
export const MAX_EXPORT_ROWS = 1_000_000;

/** POST /v1/events/export: the query's filters, no paging; every match up to `maxRows`. */
export const ExportQuerySchema = z
  .strictObject({ ...eventFilters, maxRows: z.number().int().min(1).max(MAX_EXPORT_ROWS).default(MAX_EXPORT_ROWS) })
  .superRefine(checkRange);
export type ExportQuery = z.infer<typeof ExportQuerySchema>;

/** GET /v1/analytics/errors?startTime&endTime&limit */
export const ErrorGroupsQuerySchema = z
  .strictObject({ ...timeRange, limit: z.coerce.number().int().min(1).max(200).default(50).describe('Groups in the answer, the most frequent first') })
  .superRefine(checkRange);
export type ErrorGroupsQuery = z.infer<typeof ErrorGroupsQuerySchema>;

/** The most buckets one aggregate answer may have, so a minute x 90 days query cannot run away. */
export const MAX_BUCKETS = 10_000;

const BUCKET_MS: Record<AggregationQuery['granularity'], number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 28 * 86_400_000,
};

/** An upper bound of the number of time buckets of a range. */
export function bucketCount(query: Pick<AggregationQuery, 'startTime' | 'endTime' | 'granularity'>): number {
  return Math.ceil((Date.parse(query.endTime) - Date.parse(query.startTime)) / BUCKET_MS[query.granularity]);
}

/** DELETE /v1/events?olderThan=ISO */
export const PurgeQuerySchema = z.strictObject({ olderThan: queryInstant.describe('Events before this instant are deleted; it may not be in the future') });

/** GET /v1/audit */
const AUDIT_ACTIONS = ['EVENTS_TRACKED', 'EVENTS_BATCH_PROCESSED', 'EVENTS_QUERIED', 'EVENTS_PURGED', 'SECURITY_EVENT'] as const;

export const AuditQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** From `nextBefore` of the previous page. */
  before: z.coerce.number().int().positive().optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
});

