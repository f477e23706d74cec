import type { EventType } from '../domain/event-schemas.js';
import type { CursorPosition } from '../domain/query-cursor.js';
import type { AggregationQuery, EventQuery } from '../domain/query-schemas.js';
import type { StoredEvent } from './event-store.js';

export type EventFilters = Pick<EventQuery, 'startTime' | 'endTime' | 'eventTypes' | 'categories' | 'actions' | 'userId' | 'sessionId' | 'properties'>;

export interface PageRequest {
  limit: number;
  offset: number;
  order: 'asc' | 'desc';
  /** Keyset position: only events after it, in `order`. */
  after?: CursorPosition;
}

/** A page of events, the total of the filters' matches, and whether a next page exists. */
export interface EventsPage {
  events: StoredEvent[];
  total: number;
  hasMore: boolean;
}

export interface AggregateRow {
  period: string;
  count: number;
  uniqueUsers: number;
  /** Null only with `valueOutOfRange`. */
  totalValue: number | null;
  avgValue: number | null;
  minValue: number | null;
  maxValue: number | null;
  /** Percentiles of PERFORMANCE values in the bucket; null when it has none. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** The sum of the bucket's values is past the largest double: no total or average is given. */
  valueOutOfRange?: true;
  event_type?: EventType;
  category?: string;
  action?: string;
  user_id?: string | null;
}

export interface AggregateSummary {
  totalEvents: number;
  uniqueUsers: number;
  uniqueSessions: number;
  categories: number;
  actions: number;
}

export interface EventTypeSummary {
  type: EventType;
  count: number;
  uniqueUsers: number;
  firstSeen: string;
  lastSeen: string;
  /** stored_at - received_at: how long events of this type took to become readable. */
  ingestionLagMs: { p50: number; p95: number };
}

/** Who asked: every query leaves an EVENTS_QUERIED audit row with its filters and result count. */
export interface QueryActor {
  tenantId: string;
  actor: string;
}

/** Reads of one tenant's events, each audited in the same transaction. */
export interface EventQueries {
  findEvents(who: QueryActor, filters: EventFilters, page: PageRequest): Promise<EventsPage>;
  aggregate(who: QueryActor, query: AggregationQuery): Promise<{ data: AggregateRow[]; summary: AggregateSummary }>;
  eventTypes(who: QueryActor, range: { startTime: string; endTime: string }): Promise<EventTypeSummary[]>;
}
