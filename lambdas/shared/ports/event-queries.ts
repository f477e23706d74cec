import type { Actor } from '../domain/caller.js';
import type { AggregateRow, AggregateSummary, ErrorGroup, EventPage, EventTypeSummary, StoredEvent } from '../domain/answer-schemas.js';
import type { CursorPosition } from '../domain/query-cursor.js';
import type { AggregationQuery, ErrorGroupsQuery, EventQuery } from '../domain/query-schemas.js';

export type { AggregateRow, AggregateSummary, ErrorGroup, EventTypeSummary };

export type EventFilters = Pick<EventQuery, 'startTime' | 'endTime' | 'eventTypes' | 'categories' | 'actions' | 'userId' | 'sessionId' | 'properties'>;

export interface PageRequest {
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
  /** Keyset position: only events after it, in `order`. */
  after?: CursorPosition;
}

/** A page of events, the total of the filters' matches, and whether a next page exists. */
export type EventsPage = Omit<EventPage, 'nextCursor'>;

/** Reads of one tenant's events, each audited in the same transaction. */
export interface EventQueries {
  findEvents(who: Actor, filters: EventFilters, page: PageRequest): Promise<EventsPage>;
  aggregate(who: Actor, query: AggregationQuery): Promise<{ data: AggregateRow[]; summary: AggregateSummary }>;
  eventTypes(who: Actor, range: { startTime: string; endTime: string }): Promise<EventTypeSummary[]>;
  /** The range's ERROR events grouped by fingerprint, the `limit` largest groups. */
  errorGroups(who: Actor, query: ErrorGroupsQuery): Promise<ErrorGroup[]>;
  /**
   * Every match of the filters in `order`, at most `maxRows`, read a keyset page at a time as it
   * is consumed (at most two pages held); audited when the first page is read.
   */
  exportEvents(who: Actor, filters: EventFilters, options: ExportOptions): AsyncIterable<StoredEvent>;
}

export interface ExportOptions {
  order: 'asc' | 'desc';
  maxRows: number;
}
