import { ValidationError } from '../domain/errors.js';
import { decodeCursor, encodeCursor } from '../domain/query-cursor.js';
import { CSV_HEADER, eventCsvRecord, exportFilename } from '../domain/csv-export.js';
import {
  AggregationQuerySchema,
  bucketCount,
  ErrorGroupsQuerySchema,
  EventQuerySchema,
  ExportQuerySchema,
  EventTypesQuerySchema,
  MAX_BUCKETS,
  type AggregationQuery,
} from '../domain/query-schemas.js';
import { parseInput } from '../domain/zod-issues.js';
import type { Aggregation, ErrorGroups, EventPage, EventTypeSummary, StoredEvent } from '../domain/answer-schemas.js';
import type { Actor } from '../domain/caller.js';
import type { EventQueries } from '../ports/event-queries.js';

export interface QuerySettings {
  eventRetentionDays: number;
}

const DAY_MS = 86_400_000;

function checkRetention(range: { startTime: string; endTime: string }, settings: QuerySettings): void {
  if (Date.parse(range.endTime) - Date.parse(range.startTime) > settings.eventRetentionDays * DAY_MS) {
    throw new ValidationError([{ path: 'startTime', message: `the range is longer than the ${settings.eventRetentionDays}-day retention` }]);
  }
}

/**
 * POST /v1/events/query.
 * 1. Validate the filters and the range.
 * 2. Read one page (offset, or after the keyset cursor) and the total.
 * 3. Hand out a cursor bound to this tenant and these filters.
 */
export async function queryEvents(queries: EventQueries, who: Actor, body: unknown, settings: QuerySettings): Promise<EventPage> {
  const query = parseInput(EventQuerySchema, body);
  checkRetention(query, settings);
  const { limit, offset, cursor, ...filters } = query;
  const after = cursor ? decodeCursor(who.tenantId, filters, cursor) : undefined;

  const { events, total, hasMore } = await queries.findEvents(who, filters, { limit, offset, order: query.orderBy === 'timestamp_asc' ? 'asc' : 'desc', after });
  const last = events.at(-1);
  return {
    events,
    total,
    hasMore,
    nextCursor: hasMore && last ? encodeCursor(who.tenantId, filters, { timestamp: last.timestamp, eventId: last.eventId }) : null,
  };
}

/** POST /v1/analytics/aggregate: buckets in the caller's time zone, exact unique users. */
export async function aggregateEvents(
  queries: EventQueries,
  who: Actor,
  body: unknown,
  settings: QuerySettings,
): Promise<Aggregation> {
  const query: AggregationQuery = parseInput(AggregationQuerySchema, body);
  checkRetention(query, settings);
  if (bucketCount(query) > MAX_BUCKETS) {
    throw new ValidationError([{ path: 'granularity', message: `gives more than ${MAX_BUCKETS} buckets for this range; choose a coarser one` }]);
  }
  return queries.aggregate(who, query);
}

/** GET /v1/analytics/event-types: per type count, users, first and last seen, ingestion lag. */
export async function summariseEventTypes(queries: EventQueries, who: Actor, params: unknown, settings: QuerySettings): Promise<EventTypeSummary[]> {
  const range = parseInput(EventTypesQuerySchema, params);
  checkRetention(range, settings);
  return queries.eventTypes(who, range);
}

/** GET /v1/analytics/errors: the range's ERROR events by fingerprint, the largest groups first. */
export async function listErrorGroups(queries: EventQueries, who: Actor, params: unknown, settings: QuerySettings): Promise<ErrorGroups> {
  const query = parseInput(ErrorGroupsQuerySchema, params);
  checkRetention(query, settings);
  return { from: query.startTime, to: query.endTime, groups: await queries.errorGroups(who, query) };
}

/** A download: its file name and its text, produced as it is sent. */
export interface CsvDownload {
  filename: string;
  chunks: AsyncIterable<string>;
}

/** What a chunk of the export holds before it is handed on: a few dozen rows, not one write per row. */
const CHUNK_CHARS = 64 * 1024;

async function* csvChunks(first: IteratorResult<StoredEvent>, rest: AsyncIterator<StoredEvent>): AsyncGenerator<string> {
  let chunk = CSV_HEADER;
  try {
    for (let next = first; !next.done; next = await rest.next()) {
      chunk += eventCsvRecord(next.value);
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
    yield chunk;
  } finally {
    // The client went away mid-way: the reader stops too, its page in flight settled.
    await rest.return?.();
  }
}

/**
 * POST /v1/events/export.
 * 1. Validate the filters and the range, as the query does.
 * 2. Read the first page before anything is sent: a refusal or an unavailable database is still
 *    a problem+json answer, not a cut-off download.
 * 3. Hand out the CSV, header first, the rest read page by page as the client takes it.
 */
export async function exportEvents(queries: EventQueries, who: Actor, body: unknown, settings: QuerySettings): Promise<CsvDownload> {
  const { maxRows, orderBy, ...filters } = parseInput(ExportQuerySchema, body);
  checkRetention(filters, settings);
  const rows = queries.exportEvents(who, filters, { order: orderBy === 'timestamp_asc' ? 'asc' : 'desc', maxRows })[Symbol.asyncIterator]();
  const first = await rows.next();
  return { filename: exportFilename(filters), chunks: csvChunks(first, rows) };
}
