import { canonicalTimeZone, type AggregationQuery, type EventQuery } from './query-schemas.js';
import { bucketsAreUtcBins, rollupFit, splitForRollups, type RollupSplit } from './rollup-ranges.js';

/**
 * What a read decides before it reads: where its figures come from (rollups, event sets or the
 * events), the split of its range into what the rollups cover and the edges only the events can
 * answer, and its buckets. Decided once per read, here, so that the statements of one answer
 * cannot disagree about the split. `fastPaths` off, every answer is planned on the events alone,
 * in the plainest SQL: the reference the fast paths are tested and benchmarked against.
 */

type Range = Pick<EventQuery, 'startTime' | 'endTime'>;

/** The filters the rollups and the event sets lack. An aggregate read may carry them too, and honours them. */
type EventOnlyFilters = Partial<Pick<EventQuery, 'userId' | 'sessionId' | 'properties'>>;

/** Rollups hold type, category and action only: a filter on anything else needs the events. */
export function rollupsCanFilter(filters: EventOnlyFilters): boolean {
  return filters.userId === undefined && filters.sessionId === undefined && filters.properties === undefined;
}

/**
 * Where the events of a read come from: the table, or for a property filter on the fast paths
 * the search function (`events_with_properties`, migration 0007), the one way containment can
 * use the GIN index under row-level security.
 */
export type EventsSource = 'table' | 'property-search';

function eventsSource(filters: EventOnlyFilters, fastPaths: boolean): EventsSource {
  return fastPaths && filters.properties !== undefined ? 'property-search' : 'table';
}

/** A page of events and the total of the filters' matches. */
export type FindPlan =
  /** Page and total from one read of the search function's matches. */
  | { source: 'property-search' }
  /** The total from the rollups of the split's whole hours and days plus the events of its edges; the page from the table. */
  | { source: 'rollups'; split: RollupSplit }
  /** Total and page from the table. */
  | { source: 'events' };

export function planFind(filters: Range & EventOnlyFilters, fastPaths: boolean): FindPlan {
  if (eventsSource(filters, fastPaths) === 'property-search') return { source: 'property-search' };
  // A month of events costs ~100 ms to count when the visibility map is not set (bench, 1M).
  if (fastPaths && rollupsCanFilter(filters)) return { source: 'rollups', split: splitForRollups(filters, true) };
  return { source: 'events' };
}

/**
 * The buckets of an aggregate. Local calendar buckets (`date_trunc` in the zone) start at local
 * midnight and at week and month starts across DST; where they are fixed-width UTC bins over the
 * whole range, `date_bin` gives the same buckets without a time-zone conversion per row (that
 * conversion was 55 of the 208 ms of a 7-day hourly aggregate, bench data).
 */
export type Buckets =
  | { kind: 'utc-bins'; width: '1 minute' | '1 hour' | '1 day' | '7 days'; origin: string }
  | { kind: 'local'; granularity: AggregationQuery['granularity']; timeZone: string };

/** The granularities that can be fixed-width bins in UTC (see `bucketsAreUtcBins`). */
const UTC_BINS: Partial<Record<AggregationQuery['granularity'], Extract<Buckets, { kind: 'utc-bins' }>>> = {
  minute: { kind: 'utc-bins', width: '1 minute', origin: '2000-01-01T00:00:00Z' },
  hour: { kind: 'utc-bins', width: '1 hour', origin: '2000-01-01T00:00:00Z' },
  day: { kind: 'utc-bins', width: '1 day', origin: '2000-01-01T00:00:00Z' },
  // date_trunc('week') starts weeks on Monday, as 2000-01-03 was.
  week: { kind: 'utc-bins', width: '7 days', origin: '2000-01-03T00:00:00Z' },
};

function planBuckets(query: AggregationQuery, fastPaths: boolean): Buckets {
  const bins = UTC_BINS[query.granularity];
  if (fastPaths && bins && bucketsAreUtcBins(query.timezone, query, query.granularity)) return bins;
  // The name ICU resolves the zone to: see `canonicalTimeZone`.
  return { kind: 'local', granularity: query.granularity, timeZone: canonicalTimeZone(query.timezone) };
}

/**
 * An aggregate's rows and summary.
 * - `sets`: count, sum, min, max and average from the rollups of the split's whole hours and
 *   days plus the events of its edges; unique users and sessions and percentiles from the event
 *   sets over the same split; which categories and actions occur from the rollups over
 *   `dimensionsSplit` (whole UTC days whatever the buckets and zone: they do not depend on
 *   either). 30 days by type read a few hundred sets instead of 333k events (bench). With
 *   `sets: 'by-dimension'` (UTC days grouped by category or action) the rows' unique users and
 *   percentiles come from the sets per day and key and the events of the partial days, the
 *   summary's users and sessions from the sets per type.
 * - `rollups`: the same counts and value statistics from the rollups; unique users,
 *   percentiles and the summary from the events.
 * - `events`: everything from the events, the summary in one hashed pass on the fast paths
 *   (`hashed`) or as four sorted count(DISTINCT) (`sorted`, the reference).
 */
export type AggregatePlan =
  | { source: 'sets'; sets: 'by-type' | 'by-dimension'; buckets: Buckets; split: RollupSplit; dimensionsSplit: RollupSplit }
  | { source: 'rollups'; buckets: Buckets; split: RollupSplit; events: 'table'; summary: 'hashed' }
  | { source: 'events'; buckets: Buckets; events: EventsSource; summary: 'hashed' | 'sorted' };

/**
 * Rollups are exact for an aggregate with no `user_id` group and no filter they lack, in
 * buckets made of whole UTC hours: an hour or longer, in a zone whose offsets over the range are
 * whole hours. Minute rollups hold about one row per event at a busy tenant, so minutes read the
 * events. The event sets are kept per hour and type and per day and key: they serve day buckets
 * grouped by category or action, but no category or action filter (the summary's users and
 * sessions, unioned from the sets per type, would not be filtered).
 */
export function planAggregate(query: AggregationQuery & EventOnlyFilters, fastPaths: boolean): AggregatePlan {
  const buckets = planBuckets(query, fastPaths);
  const groups = query.groupBy ?? [];
  const onEvents = planAggregateOnEvents(query, fastPaths);
  if (!fastPaths || query.granularity === 'minute' || groups.includes('user_id') || !rollupsCanFilter(query)) return onEvents;
  const fit = rollupFit(query.timezone, query);
  if (!fit.hours) return onEvents;
  // A day rollup stands in for its 24 hours only where the zone stays at UTC, in buckets of a day or longer.
  const split = splitForRollups(query, fit.days && query.granularity !== 'hour');
  const dimensionsSplit = splitForRollups(query, true);
  if (query.categories || query.actions) return { source: 'rollups', buckets, split, events: 'table', summary: 'hashed' };
  if (groups.some((field) => field !== 'event_type')) {
    if (query.granularity === 'day' && buckets.kind === 'utc-bins' && fit.days) return { source: 'sets', sets: 'by-dimension', buckets, split, dimensionsSplit };
    return { source: 'rollups', buckets, split, events: 'table', summary: 'hashed' };
  }
  return { source: 'sets', sets: 'by-type', buckets, split, dimensionsSplit };
}

/** The aggregate from the events alone: the plain path, or (fast) where the rollups and sets cannot answer or their sets are stale. */
export function planAggregateOnEvents(query: AggregationQuery & EventOnlyFilters, fastPaths: boolean): Extract<AggregatePlan, { source: 'events' }> {
  return { source: 'events', buckets: planBuckets(query, fastPaths), events: eventsSource(query, fastPaths), summary: fastPaths ? 'hashed' : 'sorted' };
}

/** The event-types summary: from the event sets of the range's whole UTC hours and days and the events of its edges, or from the events. */
export type EventTypesPlan = { source: 'sets'; split: RollupSplit } | { source: 'events' };

export function planEventTypes(range: Range, fastPaths: boolean): EventTypesPlan {
  return fastPaths ? { source: 'sets', split: splitForRollups(range, true) } : { source: 'events' };
}
