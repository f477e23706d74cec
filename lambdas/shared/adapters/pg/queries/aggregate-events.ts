import type { Aggregation } from '../../../domain/answer-schemas.js';
import type { EventType } from '../../../domain/event-schemas.js';
import { figuresByGroup, uniqueMembers } from '../../../domain/distinct-sets.js';
import type { AggregatePlan, Buckets } from '../../../domain/query-plan.js';
import type { AggregationQuery, GroupByField } from '../../../domain/query-schemas.js';
import { partialDays, type RollupSplit } from '../../../domain/rollup-ranges.js';
import type { AggregateRow, AggregateSummary } from '../../../ports/event-queries.js';
import { dayRollupsIn, edgeEventsFrom, eventsFrom, Params, splitClauses, whereClauses, type RollupLevel } from '../event-filter-sql.js';
import { toIso, toNumber } from '../event-rows.js';
import { dayFiguresByKey, readMemberPieces, type SetKeyField } from '../pg-event-sets.js';
import { whilePending, type SqlSession } from '../sql-database.js';

type SetsPlan = Extract<AggregatePlan, { source: 'sets' }>;
type EventsPlan = Exclude<AggregatePlan, { source: 'sets' }>;

/** groupBy names are checked by the schema; this map is what turns them into columns. */
const GROUP_COLUMNS: Record<GroupByField, string> = {
  event_type: 'event_type',
  category: 'category',
  action: 'action',
  user_id: 'user_id',
};

/** A request groups by column name (the specification's); an answer names each group by the event's field, as every answer does. */
const GROUP_KEYS = { event_type: 'type', category: 'category', action: 'action', user_id: 'userId' } as const satisfies Record<GroupByField, keyof AggregateRow>;

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

const groupListOf = (query: AggregationQuery) => (query.groupBy ?? []).map((field) => `, ${GROUP_COLUMNS[field]}`).join('');

/** Rows and summary from the events, counts and value statistics from the rollups where the plan says so. */
export async function aggregateFromEvents(session: SqlSession, tenantId: string, query: AggregationQuery, plan: EventsPlan): Promise<Aggregation> {
  const params = new Params();
  const { from, where } = eventsFrom(params, tenantId, query, plan.events);
  // The summary reads the same filters: the same clauses and their parameters.
  const [summary] = await session.query<Record<keyof AggregateSummary, string | number>>(
    plan.summary === 'hashed' ? hashedSummary(from, where.join(' AND ')) : sortedSummary(from, where.join(' AND ')),
    params.values,
  );
  const rows = await aggregateRows(session, tenantId, query, plan);
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
 * One row per bucket and group. On the rollups' plan count, sum, min, max and average come
 * from the rollups; unique users and percentiles cannot be summed across buckets, so they come
 * from the events.
 */
function aggregateRows(session: SqlSession, tenantId: string, query: AggregationQuery, plan: EventsPlan): Promise<AggregateDbRow[]> {
  const params = new Params();
  const { from, where: clauses } = eventsFrom(params, tenantId, query, plan.events);
  const where = clauses.join(' AND ');
  const groupList = groupListOf(query);
  const bucket = bucketSql(params, plan.buckets);
  const percentiles = `percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY value)`;
  if (plan.source === 'events') {
    return session.query<AggregateDbRow>(
      `SELECT ${bucket('timestamp')} AS period${groupList}, count(*) AS count, count(DISTINCT user_id) AS unique_users,
         coalesce(sum(value), 0) AS total_value, avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value,
         ${percentiles} FILTER (WHERE event_type = 'PERFORMANCE') AS percentiles
       FROM ${from} WHERE ${where}
       GROUP BY 1${groupList} ORDER BY 1${groupList}`,
      params.values,
    );
  }
  return session.query<AggregateDbRow>(
    `WITH ${rollupTotalsSql(params, tenantId, query, plan, where, groupList)},
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
 * Counts and value statistics from the rollups, unique users and sessions and percentiles
 * from the event sets, both over the plan's split and in one snapshot. Grouped by category or
 * action (`sets: 'by-dimension'`), the rows' figures come from the sets per day and key, and
 * the summary's users and sessions from the sets per type, read without buckets.
 */
export async function aggregateFromSets(session: SqlSession, tenantId: string, query: AggregationQuery, plan: SetsPlan, staleLimit: number | null): Promise<Aggregation> {
  const groups = (query.groupBy ?? []).filter((field): field is SetKeyField => field !== 'user_id');
  const keyOf = (bucket: string | null, row: Partial<Record<SetKeyField, string>>) => JSON.stringify([bucket, ...groups.map((field) => row[field])]);
  const bucket = (params: Params) => bucketSql(params, plan.buckets);
  const byType = plan.sets === 'by-type';
  const pieces = await readMemberPieces(session, tenantId, query, plan.split, {
    bucket: byType ? bucket : null,
    groupOf: (pieceBucket, eventType) => keyOf(pieceBucket, { event_type: eventType }),
    reads: byType ? ['sessions', 'performance_values'] : ['sessions'],
    staleLimit,
    mergeTypes: groups.length === 0,
  });
  const dayFigures = byType ? undefined : await dayFiguresByKey(session, tenantId, query, plan.split, { bucket, groupBy: groups, keyOf, staleLimit });

  // Each statement is sent before the figures of the one before are computed, so that the
  // database and this process work at once.
  const params = new Params();
  const where = whereClauses(params, tenantId, query).join(' AND ');
  const groupList = groupListOf(query);
  const totalsRead = session.query<AggregateDbRow>(
    `WITH ${rollupTotalsSql(params, tenantId, query, plan, where, groupList, byType ? 'by-type' : 'by-dimension')}
     SELECT period${groupList}, count, total_value, total_value / nullif(value_count, 0) AS avg_value, min_value, max_value
     FROM totals ORDER BY 1${groupList}`,
    params.values,
  );
  const [totals, figures] = await whilePending(totalsRead, () => dayFigures ?? figuresByGroup(pieces));
  const data = totals.map((row) => {
    const figure = figures.get(keyOf(toIso(row.period), row));
    return toAggregateRow({ ...row, unique_users: figure?.uniqueUsers ?? 0, percentiles: figure?.performance ?? null }, query.groupBy ?? []);
  });
  const [{ categories, actions }, members] = await whilePending(seenDimensions(session, tenantId, query, plan.dimensionsSplit), () => uniqueMembers(pieces));
  return {
    data,
    summary: { totalEvents: data.reduce((sum, row) => sum + row.count, 0), uniqueUsers: members.users, uniqueSessions: members.sessions, categories, actions },
  };
}

/**
 * How many categories and actions occur: those of the rollups of the split's whole days, and
 * of its partial pieces (the whole hours around the days and the events of its edges) only the
 * values the whole days lack. Which those can be is read from the day rollups of the partial
 * days, which hold every value of their pieces; only when there are any are the pieces read, and
 * only for them. The pieces were most of the statement: 9 ms of hour x 7's 35 ms in the
 * database, a few thousand hour rollups for a handful of values (bench). The plan's
 * `dimensionsSplit` takes whole UTC days where it can.
 */
async function seenDimensions(session: SqlSession, tenantId: string, query: AggregationQuery, split: RollupSplit): Promise<Pick<AggregateSummary, 'categories' | 'actions'>> {
  const params = new Params();
  const pieces = splitClauses(params, tenantId, query, split);
  const nearDays = dayRollupsIn(params, tenantId, query, partialDays(query, split));
  const unseen = `(category IN (SELECT category FROM new_categories) OR action IN (SELECT action FROM new_actions))`;
  const [seen] = await session.query<{ categories: string | number; actions: string | number }>(
    // Distinct pairs first, hashed: the rest then works on a few dozen rows, not the 9,744
    // rollup rows of 29 days (the two EXCEPTs and counts were 12 of 19.6 ms beside two writers).
    `WITH whole AS (SELECT DISTINCT category, action FROM event_rollups WHERE ${pieces.days}),
       near AS (SELECT DISTINCT category, action FROM event_rollups WHERE ${nearDays}),
       new_categories AS (SELECT category FROM near EXCEPT SELECT category FROM whole),
       new_actions AS (SELECT action FROM near EXCEPT SELECT action FROM whole),
       -- The EXISTS is a one-time filter: with no new value neither piece is scanned.
       partial AS (
         SELECT category, action FROM ${edgeEventsFrom(params, whereClauses(params, tenantId, query).join(' AND '), query, split, 'category, action')}
         WHERE ${unseen} AND EXISTS (SELECT FROM new_categories UNION ALL SELECT FROM new_actions)
         UNION ALL SELECT category, action FROM event_rollups WHERE ${pieces.hours} AND ${unseen}
           AND EXISTS (SELECT FROM new_categories UNION ALL SELECT FROM new_actions)
       )
     SELECT (SELECT count(DISTINCT category) FROM whole) + (SELECT count(DISTINCT category) FROM partial WHERE category IN (SELECT category FROM new_categories)) AS categories,
       (SELECT count(DISTINCT action) FROM whole) + (SELECT count(DISTINCT action) FROM partial WHERE action IN (SELECT action FROM new_actions)) AS actions`,
    params.values,
  );
  return { categories: Number(seen?.categories ?? 0), actions: Number(seen?.actions ?? 0) };
}

/**
 * The CTEs `pieces` and `totals`: count, value count, sum, min and max per bucket and group,
 * from the rollups of the plan's whole hours and days at `level` (`by-type` for groups of type
 * alone) and the events of its partial hours.
 */
function rollupTotalsSql(
  params: Params,
  tenantId: string,
  query: AggregationQuery,
  plan: { split: RollupSplit; buckets: Buckets },
  where: string,
  groupList: string,
  level: RollupLevel = 'by-dimension',
): string {
  const bucket = bucketSql(params, plan.buckets);
  const pieces = splitClauses(params, tenantId, query, plan.split, level);
  const rollupColumns = `${bucket('period_start')}${groupList}, count, value_count, total_value, min_value, max_value`;
  return `pieces AS (
       SELECT ${bucket('timestamp')} AS period${groupList}, count(*) AS count, count(value) AS value_count,
         coalesce(sum(value), 0) AS total_value, min(value) AS min_value, max(value) AS max_value
       FROM ${edgeEventsFrom(params, where, query, plan.split, 'timestamp, event_type, category, action, value')} GROUP BY 1${groupList}
       UNION ALL SELECT ${rollupColumns} FROM event_rollups WHERE ${pieces.hours}
       UNION ALL SELECT ${rollupColumns} FROM event_rollups WHERE ${pieces.days}
     ),
     totals AS (
       SELECT period${groupList}, sum(count) AS count, sum(value_count) AS value_count, sum(total_value) AS total_value,
         min(min_value) AS min_value, max(max_value) AS max_value
       FROM pieces GROUP BY period${groupList}
     )`;
}

/** The bucket of a timestamp column: `date_bin` for UTC bins, `date_trunc` in the zone for local buckets. */
function bucketSql(params: Params, buckets: Buckets): (column: string) => string {
  if (buckets.kind === 'utc-bins') {
    const width = params.add(buckets.width, '::interval');
    const origin = params.add(buckets.origin, '::timestamptz');
    return (column) => `date_bin(${width}, ${column}, ${origin})`;
  }
  const granularity = params.add(buckets.granularity);
  const timezone = params.add(buckets.timeZone);
  return (column) => `date_trunc(${granularity}, ${column}, ${timezone})`;
}

/** The plain form: four count(DISTINCT), each sorting the range's events; the reference the tests compare to. */
function sortedSummary(from: string, where: string): string {
  return `SELECT count(*) AS "totalEvents", count(DISTINCT user_id) AS "uniqueUsers", count(DISTINCT session_id) AS "uniqueSessions",
      count(DISTINCT category) AS categories, count(DISTINCT action) AS actions
    FROM ${from} WHERE ${where}`;
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
  for (const field of groupBy) Object.assign(aggregate, { [GROUP_KEYS[field]]: row[field] });
  return aggregate;
}
