import type { EventType } from '../../domain/event-schemas.js';
import type { AggregationQuery, GroupByField } from '../../domain/query-schemas.js';
import type { AggregateRow, AggregateSummary, EventFilters, EventQueries, EventTypeSummary, PageRequest, QueryActor } from '../../ports/event-queries.js';
import type { StoredEvent } from '../../ports/event-store.js';
import { Params, whereClauses } from './event-filter-sql.js';
import { EVENT_COLUMNS, toIso, toNumber, toStoredEvent, type EventRow } from './event-rows.js';
import type { SqlDatabase, SqlSession } from './sql-database.js';
import { inTenantTransaction } from './tenant-transaction.js';

/** A query that runs longer than this is cancelled: one analyst cannot hold the database. */
const STATEMENT_TIMEOUT_MS = 10_000;

/** groupBy names are checked by the schema; this map is what turns them into columns. */
const GROUP_COLUMNS: Record<GroupByField, string> = {
  event_type: 'event_type',
  category: 'category',
  action: 'action',
  user_id: 'user_id',
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

export class PgEventQueries implements EventQueries {
  constructor(private readonly db: SqlDatabase) {}

  findEvents(who: QueryActor, filters: EventFilters, page: PageRequest): Promise<{ events: StoredEvent[]; total: number }> {
    return this.read(who, { kind: 'events', filters, page: { limit: page.limit, offset: page.offset, order: page.order } }, async (session) => {
      const params = new Params();
      const clauses = whereClauses(params, who.tenantId, filters);
      // The total counts every match; the page query adds the keyset and the limits after it.
      const [counted] = await session.query<{ total: string | number }>(`SELECT count(*) AS total FROM analytics_events WHERE ${clauses.join(' AND ')}`, [...params.values]);
      const direction = page.order === 'asc' ? 'ASC' : 'DESC';
      if (page.after) {
        clauses.push(`(timestamp, event_id) ${page.order === 'asc' ? '>' : '<'} (${params.add(page.after.timestamp, '::timestamptz')}, ${params.add(page.after.eventId, '::uuid')})`);
      }
      const rows = await session.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM analytics_events WHERE ${clauses.join(' AND ')}
         ORDER BY timestamp ${direction}, event_id ${direction} LIMIT ${params.add(page.limit)} OFFSET ${params.add(page.offset)}`,
        params.values,
      );
      const result = { events: rows.map(toStoredEvent), total: Number(counted?.total ?? 0) };
      return { result, resultCount: result.events.length };
    });
  }

  aggregate(who: QueryActor, query: AggregationQuery): Promise<{ data: AggregateRow[]; summary: AggregateSummary }> {
    return this.read(who, { kind: 'aggregate', query }, async (session) => {
      const params = new Params();
      const where = whereClauses(params, who.tenantId, query).join(' AND ');
      // The summary reads the same filters: the same clauses and their parameters.
      const [summary] = await session.query<Record<keyof AggregateSummary, string | number>>(
        `SELECT count(*) AS "totalEvents", count(DISTINCT user_id) AS "uniqueUsers", count(DISTINCT session_id) AS "uniqueSessions",
           count(DISTINCT category) AS categories, count(DISTINCT action) AS actions
         FROM analytics_events WHERE ${where}`,
        [...params.values],
      );
      const groups = (query.groupBy ?? []).map((field) => GROUP_COLUMNS[field]);
      const groupList = groups.map((column) => `, ${column}`).join('');
      // date_trunc in the zone: local midnight and week/month starts, with DST transitions.
      const period = `date_trunc(${params.add(query.granularity)}, timestamp, ${params.add(query.timezone)})`;
      const rows = await session.query<AggregateDbRow>(
        `SELECT ${period} AS period${groupList}, count(*) AS count, count(DISTINCT user_id) AS unique_users,
           coalesce(sum(value), 0) AS total_value, avg(value) AS avg_value, min(value) AS min_value, max(value) AS max_value,
           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY value) FILTER (WHERE event_type = 'PERFORMANCE') AS percentiles
         FROM analytics_events WHERE ${where}
         GROUP BY 1${groupList} ORDER BY 1${groupList}`,
        params.values,
      );
      const data = rows.map((row) => toAggregateRow(row, query.groupBy ?? []));
      return {
        result: {
          data,
          summary: {
            totalEvents: Number(summary?.totalEvents ?? 0),
            uniqueUsers: Number(summary?.uniqueUsers ?? 0),
            uniqueSessions: Number(summary?.uniqueSessions ?? 0),
            categories: Number(summary?.categories ?? 0),
            actions: Number(summary?.actions ?? 0),
          },
        },
        resultCount: data.length,
      };
    });
  }

  eventTypes(who: QueryActor, range: { startTime: string; endTime: string }): Promise<EventTypeSummary[]> {
    return this.read(who, { kind: 'event-types', range }, async (session) => {
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
         FROM analytics_events WHERE ${whereClauses(params, who.tenantId, range).join(' AND ')}
         GROUP BY event_type ORDER BY count(*) DESC, event_type`,
        params.values,
      );
      const result = rows.map((row) => ({
        type: row.event_type,
        count: Number(row.count),
        uniqueUsers: Number(row.unique_users),
        firstSeen: toIso(row.first_seen),
        lastSeen: toIso(row.last_seen),
        ingestionLagMs: { p50: Math.round(row.lag[0] ?? 0), p95: Math.round(row.lag[1] ?? 0) },
      }));
      return { result, resultCount: result.length };
    });
  }

  /** A read as the tenant, bounded in time, and its EVENTS_QUERIED audit row, in one transaction. */
  private read<T>(who: QueryActor, what: Record<string, unknown>, work: (session: SqlSession) => Promise<{ result: T; resultCount: number }>): Promise<T> {
    return inTenantTransaction(this.db, who.tenantId, async (session) => {
      // Aggregates sort a month of a tenant's events: 4 MB (the default) spills them to disk, and
      // JIT compilation costs ~20 ms on queries that run well below a second (measured, 1M events).
      await session.query(`SELECT set_config('statement_timeout', $1, true), set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`, [
        String(STATEMENT_TIMEOUT_MS),
      ]);
      const { result, resultCount } = await work(session);
      await session.query(`INSERT INTO audit_log (tenant_id, action, actor, details) VALUES ($1, 'EVENTS_QUERIED', $2, $3::jsonb)`, [
        who.tenantId,
        who.actor,
        JSON.stringify({ ...what, resultCount }),
      ]);
      return result;
    });
  }
}

function toAggregateRow(row: AggregateDbRow, groupBy: GroupByField[]): AggregateRow {
  const [p50 = null, p95 = null, p99 = null] = row.percentiles ?? [];
  const aggregate: AggregateRow = {
    period: toIso(row.period),
    count: Number(row.count),
    uniqueUsers: Number(row.unique_users),
    totalValue: Number(row.total_value),
    avgValue: toNumber(row.avg_value),
    minValue: toNumber(row.min_value),
    maxValue: toNumber(row.max_value),
    p50,
    p95,
    p99,
  };
  for (const field of groupBy) Object.assign(aggregate, { [field]: row[field] });
  return aggregate;
}
