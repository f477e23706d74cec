import type { EventType } from '../../domain/event-schemas.js';
import { canonicalTimeZone, type AggregationQuery, type GroupByField } from '../../domain/query-schemas.js';
import type { AggregateRow, AggregateSummary, EventFilters, EventQueries, EventsPage, EventTypeSummary, PageRequest } from '../../ports/event-queries.js';
import type { Actor } from '../../domain/caller.js';
import type { StoredEvent } from '../../ports/event-store.js';
import { figuresByGroup, uniqueMembers } from '../../domain/distinct-sets.js';
import { bucketsAreUtcBins, rollupFit, splitForRollups, type RollupSplit } from '../../domain/rollup-ranges.js';
import { eventsSource, Params, rollupsCanFilter, splitClauses, whereClauses } from './event-filter-sql.js';
import { EVENT_COLUMNS, toIso, toNumber, toStoredEvent, type EventRow } from './event-rows.js';
import { describeError, log } from '../../logger.js';
import { tuneForAnalytics } from './analytic-settings.js';
import { PgEventSets, readMemberPieces, StaleSetsError, type SetFilters } from './pg-event-sets.js';
import type { SqlDatabase, SqlSession } from './sql-database.js';
import { inTenantTransaction } from './tenant-transaction.js';

/** About half a day of the query bench's tenant: ~10 ms to read from the table. */
const STALE_EVENTS_READ_FROM_TABLE = 5_000;

/** groupBy names are checked by the schema; this map is what turns them into columns. */
const GROUP_COLUMNS: Record<GroupByField, string> = {
  event_type: 'event_type',
  category: 'category',
  action: 'action',
  user_id: 'user_id',
};

/** The granularities that can be fixed-width bins in UTC (see `bucketsAreUtcBins`). */
const UTC_BINS: Partial<Record<AggregationQuery['granularity'], { width: string; origin: string }>> = {
  minute: { width: '1 minute', origin: '2000-01-01T00:00:00Z' },
  hour: { width: '1 hour', origin: '2000-01-01T00:00:00Z' },
  day: { width: '1 day', origin: '2000-01-01T00:00:00Z' },
  // date_trunc('week') starts weeks on Monday, as 2000-01-03 was.
  week: { width: '7 days', origin: '2000-01-03T00:00:00Z' },
};

interface AggregateDbRow {
  period: Date | string;
  count: string | number;
  unique_users: string | number;
  total_value: string | number;
  avg_value: string | number | null;
  min_value: string | number | null;
  max_value: string | number | null;
  percentiles: Array<number | null> | null;
  event_type?: EventType;
  category?: string;
  action?: string;
  user_id?: string | null;
}

export interface QueryOptions {
  /**
   * Whether answers may take the fast paths: counts and value statistics from the rollups where
   * they are exact, unique users and sessions and percentiles from the event sets where they
   * can filter, the hashed summary, property filters through `events_with_properties`. Off,
   * every answer is computed from the events table in the plainest SQL: the baseline of the
   * query benchmark and the reference the fast paths are tested against.
   */
  fastPaths: boolean;
  /**
   * How many events of stale or missing event sets a read takes from the table rather than
   * have the sets rebuilt first (default `STALE_EVENTS_READ_FROM_TABLE`).
   */
  staleEventsReadFromTable?: number;
}

export class PgEventQueries implements EventQueries {
  private readonly sets: PgEventSets;

  constructor(
    private readonly db: SqlDatabase,
    private readonly options: QueryOptions = { fastPaths: true },
  ) {
    this.sets = new PgEventSets(db);
  }

  findEvents(who: Actor, filters: EventFilters, page: PageRequest): Promise<EventsPage> {
    return this.read(who, { kind: 'events', filters, page: { limit: page.limit, offset: page.offset, order: page.order } }, async (session) => {
      // One row more than the page: whether it comes back says whether there is a next page.
      // It is not part of the answer, so neither the result nor the audit counts it.
      const probe = { ...page, limit: page.limit + 1 };
      const searchesProperties = this.options.fastPaths && filters.properties !== undefined;
      const { events, total } = searchesProperties
        ? await this.pageOfMatches(session, who.tenantId, filters, probe)
        : await this.pageAndCount(session, who.tenantId, filters, probe);
      const result = { events: events.slice(0, page.limit), total, hasMore: events.length > page.limit };
      return { result, resultCount: result.events.length };
    });
  }

  /** The page, then the total: from the rollups where they can count the filters. */
  private async pageAndCount(session: SqlSession, tenantId: string, filters: EventFilters, page: PageRequest): Promise<{ events: StoredEvent[]; total: number }> {
    const total = await this.countEvents(session, tenantId, filters);
    const params = new Params();
    const { from, where } = this.source(params, tenantId, filters);
    const rows = await session.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM ${from} WHERE ${pageSql(params, where, page)}`, params.values);
    return { events: rows.map(toStoredEvent), total };
  }

  /**
   * Page and total from one read of the matches, for a property filter: the search function
   * hands over all its matches at once anyway, and it ran twice before (~40 ms each on the
   * bench). Only the page's rows are read whole, by key. The page is joined to the count so
   * that an empty page still carries the total.
   */
  private async pageOfMatches(session: SqlSession, tenantId: string, filters: EventFilters, page: PageRequest): Promise<{ events: StoredEvent[]; total: number }> {
    const params = new Params();
    const { from, where } = this.source(params, tenantId, filters);
    const direction = page.order === 'asc' ? 'ASC' : 'DESC';
    const rows = await session.query<EventRow & { total: string | number; matched: boolean | null }>(
      `WITH matches AS MATERIALIZED (SELECT event_id, timestamp FROM ${from} WHERE ${where.join(' AND ')})
       SELECT counted.total, page.* FROM (SELECT count(*) AS total FROM matches) AS counted
       LEFT JOIN LATERAL (
         SELECT true AS matched, ${EVENT_COLUMNS}
         FROM (SELECT event_id, timestamp FROM matches WHERE ${pageSql(params, [], page)}) AS keys
         JOIN analytics_events USING (event_id, timestamp)
         WHERE tenant_id = ${params.add(tenantId, '::uuid')}
       ) AS page ON true
       ORDER BY page.timestamp ${direction}, page.event_id ${direction}`,
      params.values,
    );
    return { events: rows.filter((row) => row.matched).map(toStoredEvent), total: Number(rows[0]?.total ?? 0) };
  }

  aggregate(who: Actor, query: AggregationQuery): Promise<{ data: AggregateRow[]; summary: AggregateSummary }> {
    const split = this.setsSplit(query);
    if (!split) {
      return this.read(
        who,
        { kind: 'aggregate', query },
        async (session) => {
          const answer = await this.aggregateFromEvents(session, who.tenantId, query);
          return { result: answer, resultCount: answer.data.length };
        },
        { timeZone: query.timezone },
      );
    }
    return this.withSets(who.tenantId, query, split, (staleLimit) =>
      this.read(
        who,
        { kind: 'aggregate', query },
        async (session) => {
          const answer = await this.aggregateFromSets(session, who.tenantId, query, split, staleLimit);
          return { result: answer, resultCount: answer.data.length };
        },
        { oneSnapshot: true, timeZone: query.timezone },
      ),
    );
  }

  /**
   * A read from the event sets: up to `staleEventsReadFromTable` events of stale or missing
   * sets are read from the table; past that the sets are rebuilt first and the read runs
   * again, taking whatever is still stale from the table. Checking before every
   * read instead cost 8-16 ms of a warm read (bench).
   */
  private async withSets<T>(tenantId: string, filters: SetFilters, split: RollupSplit, read: (staleLimit: number | null) => Promise<T>): Promise<T> {
    try {
      return await read(this.options.staleEventsReadFromTable ?? STALE_EVENTS_READ_FROM_TABLE);
    } catch (error) {
      if (!(error instanceof StaleSetsError)) throw error;
    }
    // A rebuild that fails (a statement timeout on a tenant far bigger than the bench, say)
    // must not fail the read: the events can still answer it, as the plain path would.
    await this.sets.refresh(tenantId, filters, split).catch((error: unknown) => log('warn', 'event sets not rebuilt', { tenantId, ...describeError(error) }));
    return read(null);
  }

  /**
   * Where the event sets can answer an aggregate: no filter or group they lack (they are kept
   * per type only), and buckets made of whole UTC hours. Gives the split of the range into
   * whole days, whole hours and partial hours that the rollups and the sets share.
   */
  private setsSplit(query: AggregationQuery): RollupSplit | null {
    const groups = query.groupBy ?? [];
    if (!this.options.fastPaths || query.granularity === 'minute' || !rollupsCanFilter(query) || query.categories || query.actions) return null;
    if (groups.some((field) => field !== 'event_type')) return null;
    const fit = rollupFit(query.timezone, query);
    return fit.hours ? splitForRollups(query, fit.days && query.granularity !== 'hour') : null;
  }

  private async aggregateFromEvents(session: SqlSession, tenantId: string, query: AggregationQuery): Promise<{ data: AggregateRow[]; summary: AggregateSummary }> {
    const params = new Params();
    const { from, where } = this.source(params, tenantId, query);
    // The summary reads the same filters: the same clauses and their parameters.
    const [summary] = await session.query<Record<keyof AggregateSummary, string | number>>(
      this.options.fastPaths ? hashedSummary(from, where.join(' AND ')) : sortedSummary(where.join(' AND ')),
      params.values,
    );
    const rows = await this.aggregateRows(session, tenantId, query);
    return {
      data: rows.map((row) => toAggregateRow(row, query.groupBy ?? [])),
      summary: {
        totalEvents: Number(summary?.totalEvents ?? 0),
        uniqueUsers: Number(summary?.uniqueUsers ?? 0),
        uniqueSessions: Number(summary?.uniqueSessions ?? 0),
        categories: Number(summary?.categories ?? 0),
        actions: Number(summary?.actions ?? 0),
      },
    };
  }

  /**
   * Counts and value statistics from the rollups, unique users and sessions and percentiles
   * from the event sets, both over the same split and in one snapshot: 30 days by type read a
   * few hundred sets instead of 333k events (bench).
   */
  private async aggregateFromSets(
    session: SqlSession,
    tenantId: string,
    query: AggregationQuery,
    split: RollupSplit,
    staleLimit: number | null,
  ): Promise<{ data: AggregateRow[]; summary: AggregateSummary }> {
    const byType = (query.groupBy ?? []).includes('event_type');
    const groupOf = (bucket: string | null, eventType: string) => (byType ? `${bucket} ${eventType}` : `${bucket}`);
    const pieces = await readMemberPieces(session, tenantId, query, split, {
      bucket: (params) => this.bucketSql(params, query),
      groupOf,
      reads: ['sessions', 'performance_values'],
      staleLimit,
    });
    const figures = figuresByGroup(pieces);

    const params = new Params();
    const where = whereClauses(params, tenantId, query).join(' AND ');
    const groupList = byType ? ', event_type' : '';
    const totals = await session.query<AggregateDbRow>(
      `WITH ${this.rollupTotalsSql(params, tenantId, query, split, where, groupList)}
       SELECT period${groupList}, count, total_value, total_value / nullif(value_count, 0) AS avg_value, min_value, max_value
       FROM totals ORDER BY 1${groupList}`,
      params.values,
    );
    const data = totals.map((row) => {
      const figure = figures.get(groupOf(toIso(row.period), row.event_type ?? ''));
      return toAggregateRow({ ...row, unique_users: figure?.uniqueUsers ?? 0, percentiles: figure?.performance ?? null }, query.groupBy ?? []);
    });
    // Which categories and actions occur does not depend on buckets or zone: whole UTC days
    // answer for their 24 hours (7 days of hour rollups: 16 ms, bench).
    const seenParams = new Params();
    const seenPieces = splitClauses(seenParams, tenantId, query, splitForRollups(query, true));
    const [seen] = await session.query<{ categories: string | number; actions: string | number }>(
      // Hashed grouping sets, one pass (GROUPING() is 1 for the category set, 2 for the action
      // set): two count(DISTINCT) sorted the rows twice, 9 ms for 30 days.
      `SELECT count(*) FILTER (WHERE g = 1) AS categories, count(*) FILTER (WHERE g = 2) AS actions FROM (
         SELECT GROUPING(category, action) AS g FROM (
           SELECT category, action FROM analytics_events WHERE ${whereClauses(seenParams, tenantId, query).join(' AND ')} AND ${seenPieces.events}
           UNION ALL SELECT category, action FROM event_rollups WHERE ${seenPieces.hours}
           UNION ALL SELECT category, action FROM event_rollups WHERE ${seenPieces.days}
         ) AS seen GROUP BY GROUPING SETS ((category), (action))
       ) AS distinct_values`,
      seenParams.values,
    );
    const members = uniqueMembers(pieces);
    return {
      data,
      summary: {
        totalEvents: data.reduce((sum, row) => sum + row.count, 0),
        uniqueUsers: members.users,
        uniqueSessions: members.sessions,
        categories: Number(seen?.categories ?? 0),
        actions: Number(seen?.actions ?? 0),
      },
    };
  }

  eventTypes(who: Actor, range: { startTime: string; endTime: string }): Promise<EventTypeSummary[]> {
    const what = { kind: 'event-types', range };
    if (!this.options.fastPaths) {
      return this.read(who, what, async (session) => {
        const result = await this.eventTypesFromEvents(session, who.tenantId, range);
        return { result, resultCount: result.length };
      });
    }
    const split = splitForRollups(range, true);
    return this.withSets(who.tenantId, range, split, (staleLimit) =>
      this.read(
        who,
        what,
        async (session) => {
          const result = await this.eventTypesFromSets(session, who.tenantId, range, split, staleLimit);
          return { result, resultCount: result.length };
        },
        { oneSnapshot: true },
      ),
    );
  }

  private async eventTypesFromSets(
    session: SqlSession,
    tenantId: string,
    range: { startTime: string; endTime: string },
    split: RollupSplit,
    staleLimit: number | null,
  ): Promise<EventTypeSummary[]> {
    const pieces = await readMemberPieces(session, tenantId, range, split, {
      bucket: null,
      groupOf: (_bucket, eventType) => eventType,
      reads: ['lags_ms'],
      staleLimit,
    });
    return [...figuresByGroup(pieces)]
      .map(([type, figure]) => ({
        type: type as EventType,
        count: figure.eventCount,
        uniqueUsers: figure.uniqueUsers,
        firstSeen: new Date(figure.firstSeen).toISOString(),
        lastSeen: new Date(figure.lastSeen).toISOString(),
        ingestionLagMs: { p50: Math.round(figure.lagMs?.[0] ?? 0), p95: Math.round(figure.lagMs?.[1] ?? 0) },
      }))
      .sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }

  private async eventTypesFromEvents(session: SqlSession, tenantId: string, range: { startTime: string; endTime: string }): Promise<EventTypeSummary[]> {
    const params = new Params();
    const rows = await session.query<{
      event_type: EventType;
      count: string | number;
      unique_users: string | number;
      first_seen: Date | string;
      last_seen: Date | string;
      lag: number[];
    }>(
      `SELECT event_type, count(*) AS count, count(DISTINCT user_id) AS unique_users, min(timestamp) AS first_seen, max(timestamp) AS last_seen,
         percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - received_at) * 1000) AS lag
       FROM analytics_events WHERE ${whereClauses(params, tenantId, range).join(' AND ')}
       GROUP BY event_type ORDER BY count(*) DESC, event_type`,
      params.values,
    );
    return rows.map((row) => ({
      type: row.event_type,
      count: Number(row.count),
      uniqueUsers: Number(row.unique_users),
      firstSeen: toIso(row.first_seen),
      lastSeen: toIso(row.last_seen),
      ingestionLagMs: { p50: Math.round(row.lag[0] ?? 0), p95: Math.round(row.lag[1] ?? 0) },
    }));
  }

  /**
   * Every match of the filters. Without a filter the rollups lack, whole hours and days come
   * from the rollups and only the partial hours at the edges are counted on the events: a
   * month of events costs ~100 ms to count when the visibility map is not set (bench, 1M).
   */
  private async countEvents(session: SqlSession, tenantId: string, filters: EventFilters): Promise<number> {
    const params = new Params();
    const { from, where: clauses } = this.source(params, tenantId, filters);
    const where = clauses.join(' AND ');
    if (!this.options.fastPaths || !rollupsCanFilter(filters)) {
      const [row] = await session.query<{ total: string | number }>(`SELECT count(*) AS total FROM ${from} WHERE ${where}`, params.values);
      return Number(row?.total ?? 0);
    }
    const pieces = splitClauses(params, tenantId, filters, splitForRollups(filters, true));
    const [row] = await session.query<{ total: string | number }>(
      `SELECT (SELECT count(*) FROM analytics_events WHERE ${where} AND ${pieces.events})
         + (SELECT coalesce(sum(count), 0) FROM event_rollups WHERE ${pieces.hours})
         + (SELECT coalesce(sum(count), 0) FROM event_rollups WHERE ${pieces.days}) AS total`,
      params.values,
    );
    return Number(row?.total ?? 0);
  }

  /**
   * One row per bucket and group. Count, sum, min, max and average come from the rollups when
   * they are exact for the query: no user_id group, no filter the rollups lack, and buckets
   * made of whole UTC hours (whole UTC days when the zone stays at UTC). Unique users and
   * percentiles cannot be summed across buckets: on this path they come from the events.
   */
  private aggregateRows(session: SqlSession, tenantId: string, query: AggregationQuery): Promise<AggregateDbRow[]> {
    const params = new Params();
    const { from, where: clauses } = this.source(params, tenantId, query);
    const where = clauses.join(' AND ');
    const groups = (query.groupBy ?? []).map((field) => GROUP_COLUMNS[field]);
    const groupList = groups.map((column) => `, ${column}`).join('');
    const fit = rollupFit(query.timezone, query);
    const bucket = this.bucketSql(params, query);
    const percentiles = `percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY value)`;
    if (!this.options.fastPaths || query.granularity === 'minute' || groups.includes('user_id') || !rollupsCanFilter(query) || !fit.hours) {
      return session.query<AggregateDbRow>(
        `SELECT ${bucket('timestamp')} AS period${groupList}, count(*) AS count, count(DISTINCT user_id) AS unique_users,
           coalesce(sum(value), 0) AS total_value, avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value,
           ${percentiles} FILTER (WHERE event_type = 'PERFORMANCE') AS percentiles
         FROM ${from} WHERE ${where}
         GROUP BY 1${groupList} ORDER BY 1${groupList}`,
        params.values,
      );
    }
    // A day rollup stands in for its hours only in buckets of a day or longer.
    const split = splitForRollups(query, fit.days && query.granularity !== 'hour');
    return session.query<AggregateDbRow>(
      `WITH ${this.rollupTotalsSql(params, tenantId, query, split, where, groupList)},
       -- One scan for users and percentiles: a second one for PERFORMANCE rows cost 21% of the
       -- 30-day aggregate (1,151 -> 909 ms, bench data, vacuumed).
       users AS (
         SELECT ${bucket('timestamp')} AS period${groupList}, count(DISTINCT user_id) AS unique_users,
           ${percentiles} FILTER (WHERE event_type = 'PERFORMANCE') AS percentiles
         FROM analytics_events WHERE ${where} GROUP BY 1${groupList}
       )
       SELECT period${groupList}, t.count, u.unique_users, t.total_value, t.total_value / nullif(t.value_count, 0) AS avg_value,
         t.min_value, t.max_value, u.percentiles
       FROM totals t JOIN users u USING (period${groupList})
       ORDER BY 1${groupList}`,
      params.values,
    );
  }

  /**
   * The CTEs `pieces` and `totals`: count, value count, sum, min and max per bucket and group,
   * from the rollups of the split's whole hours and days and the events of its partial hours.
   */
  private rollupTotalsSql(params: Params, tenantId: string, query: AggregationQuery, split: RollupSplit, where: string, groupList: string): string {
    const bucket = this.bucketSql(params, query);
    const pieces = splitClauses(params, tenantId, query, split);
    const rollupColumns = `${bucket('period_start')}${groupList}, count, value_count, total_value, min_value, max_value`;
    return `pieces AS (
         SELECT ${bucket('timestamp')} AS period${groupList}, count(*) AS count, count(value) AS value_count,
           coalesce(sum(value), 0) AS total_value, min(value) AS min_value, max(value) AS max_value
         FROM analytics_events WHERE ${where} AND ${pieces.events} GROUP BY 1${groupList}
         UNION ALL SELECT ${rollupColumns} FROM event_rollups WHERE ${pieces.hours}
         UNION ALL SELECT ${rollupColumns} FROM event_rollups WHERE ${pieces.days}
       ),
       totals AS (
         SELECT period${groupList}, sum(count) AS count, sum(value_count) AS value_count, sum(total_value) AS total_value,
           min(min_value) AS min_value, max(max_value) AS max_value
         FROM pieces GROUP BY period${groupList}
       )`;
  }

  /**
   * The bucket of a timestamp column. date_trunc in the zone gives local midnight and week and
   * month starts across DST; where the local buckets are fixed-width UTC bins over the whole
   * range, date_bin gives the same buckets without a time-zone conversion per row (that
   * conversion was 55 of the 208 ms of a 7-day hourly aggregate, bench data).
   */
  private bucketSql(params: Params, query: AggregationQuery): (column: string) => string {
    const bin = UTC_BINS[query.granularity];
    if (this.options.fastPaths && bin && bucketsAreUtcBins(query.timezone, query, query.granularity)) {
      const width = params.add(bin.width, '::interval');
      const origin = params.add(bin.origin, '::timestamptz');
      return (column) => `date_bin(${width}, ${column}, ${origin})`;
    }
    const granularity = params.add(query.granularity);
    const timezone = params.add(canonicalTimeZone(query.timezone));
    return (column) => `date_trunc(${granularity}, ${column}, ${timezone})`;
  }

  /** The events of a query and its WHERE: through the property search when it has a property filter. */
  private source(params: Params, tenantId: string, filters: EventFilters): { from: string; where: string[] } {
    const { from, rest } = this.options.fastPaths ? eventsSource(params, tenantId, filters) : { from: 'analytics_events', rest: filters };
    return { from, where: whereClauses(params, tenantId, rest) };
  }

  /** A read as the tenant, bounded in time, and its EVENTS_QUERIED audit row, in one transaction. */
  private read<T>(
    who: Actor,
    what: Record<string, unknown>,
    work: (session: SqlSession) => Promise<{ result: T; resultCount: number }>,
    options: { oneSnapshot?: boolean; timeZone?: string } = {},
  ): Promise<T> {
    return inTenantTransaction(
      this.db,
      who.tenantId,
      async (session) => {
        await tuneForAnalytics(session, options.timeZone);
        const { result, resultCount } = await work(session);
        await session.query(`INSERT INTO audit_log (tenant_id, action, actor, details) VALUES ($1, 'EVENTS_QUERIED', $2, $3::jsonb)`, [
          who.tenantId,
          who.subject,
          JSON.stringify({ ...what, resultCount }),
        ]);
        return result;
      },
      options,
    );
  }
}

/** The WHERE, order and window of a page: the given clauses, the keyset position after a cursor, order and limit. */
function pageSql(params: Params, clauses: string[], page: PageRequest): string {
  const direction = page.order === 'asc' ? 'ASC' : 'DESC';
  const keyset = page.after
    ? [`(timestamp, event_id) ${page.order === 'asc' ? '>' : '<'} (${params.add(page.after.timestamp, '::timestamptz')}, ${params.add(page.after.eventId, '::uuid')})`]
    : [];
  const conditions = [...clauses, ...keyset];
  return `${conditions.length > 0 ? conditions.join(' AND ') : 'true'} ORDER BY timestamp ${direction}, event_id ${direction} LIMIT ${params.add(page.limit)} OFFSET ${params.add(page.offset)}`;
}

/** The plain form: four count(DISTINCT), each sorting the range's events; the reference the tests compare to. */
function sortedSummary(where: string): string {
  return `SELECT count(*) AS "totalEvents", count(DISTINCT user_id) AS "uniqueUsers", count(DISTINCT session_id) AS "uniqueSessions",
      count(DISTINCT category) AS categories, count(DISTINCT action) AS actions
    FROM analytics_events WHERE ${where}`;
}

/**
 * The same summary in one pass of hashed grouping sets: 30 days, 332k events, 593 -> 408 ms
 * (bench data, index-only scans, vacuumed). GROUPING() has a bit per column, set where that
 * column is not grouped: 7 marks the user set, 11 the session set, 13 category, 14 action.
 */
function hashedSummary(from: string, where: string): string {
  return `SELECT coalesce(sum(n) FILTER (WHERE g = 13), 0) AS "totalEvents", count(user_id) FILTER (WHERE g = 7) AS "uniqueUsers",
      count(session_id) FILTER (WHERE g = 11) AS "uniqueSessions", count(*) FILTER (WHERE g = 13) AS categories,
      count(*) FILTER (WHERE g = 14) AS actions
    FROM (SELECT user_id, session_id, category, action, count(*) AS n, GROUPING(user_id, session_id, category, action) AS g
      FROM ${from} WHERE ${where}
      GROUP BY GROUPING SETS ((user_id), (session_id), (category), (action))) AS distinct_values`;
}

function toAggregateRow(row: AggregateDbRow, groupBy: GroupByField[]): AggregateRow {
  const [p50 = null, p95 = null, p99 = null] = row.percentiles ?? [];
  // The numeric sum is exact, but past the largest double it becomes Infinity here, which
  // JSON writes as null: the sum and the average drawn from it are reported out of range
  // together (docs/decisions.md, "Sums past the largest double").
  const totalValue = Number(row.total_value);
  const inRange = Number.isFinite(totalValue);
  const aggregate: AggregateRow = {
    period: toIso(row.period),
    count: Number(row.count),
    uniqueUsers: Number(row.unique_users),
    totalValue: inRange ? totalValue : null,
    avgValue: inRange ? toNumber(row.avg_value) : null,
    minValue: toNumber(row.min_value),
    maxValue: toNumber(row.max_value),
    p50,
    p95,
    p99,
    ...(inRange ? {} : { valueOutOfRange: true as const }),
  };
  for (const field of groupBy) Object.assign(aggregate, { [field]: row[field] });
  return aggregate;
}
