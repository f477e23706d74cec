import type { FindPlan } from '../../../domain/query-plan.js';
import type { EventFilters, EventsPage, PageRequest } from '../../../ports/event-queries.js';
import type { StoredEvent } from '../../../ports/event-store.js';
import { edgeEventsFrom, eventsFrom, Params, rollupLevelFor, splitClauses, whereClauses } from '../event-filter-sql.js';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from '../event-rows.js';
import type { SqlSession } from '../sql-database.js';

/** The plans that read the table, not the search function. */
type TablePlan = Exclude<FindPlan, { source: 'property-search' }>;

/** A page of the filters' matches, their total, and whether a next page exists. */
export async function findEvents(session: SqlSession, tenantId: string, filters: EventFilters, page: PageRequest, plan: FindPlan): Promise<EventsPage> {
  // One row more than the page: whether it comes back says whether there is a next page.
  // It is not part of the answer, so neither the result nor the audit counts it.
  const probe = { ...page, limit: page.limit + 1 };
  const { events, total } = plan.source === 'property-search' ? await pageOfMatches(session, tenantId, filters, probe) : await pageAndCount(session, tenantId, filters, probe, plan);
  return { events: events.slice(0, page.limit), total, hasMore: events.length > page.limit };
}

/** The total, then the page. */
async function pageAndCount(session: SqlSession, tenantId: string, filters: EventFilters, page: PageRequest, plan: TablePlan): Promise<{ events: StoredEvent[]; total: number }> {
  const total = await countEvents(session, tenantId, filters, plan);
  const params = new Params();
  const rows = await session.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM analytics_events WHERE ${pageSql(params, whereClauses(params, tenantId, filters), page)}`, params.values);
  return { events: rows.map(toStoredEvent), total };
}

/**
 * Page and total from one read of the matches, for a property filter: the search function
 * hands over all its matches at once anyway, and it ran twice before (~40 ms each on the
 * bench). Only the page's rows are read whole, by key. The page is joined to the count so
 * that an empty page still carries the total.
 */
async function pageOfMatches(session: SqlSession, tenantId: string, filters: EventFilters, page: PageRequest): Promise<{ events: StoredEvent[]; total: number }> {
  const params = new Params();
  const { from, where } = eventsFrom(params, tenantId, filters, 'property-search');
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

/** Every match of the filters: on the rollups' plan, whole hours and days from the rollups and only the edges counted on the events. */
async function countEvents(session: SqlSession, tenantId: string, filters: EventFilters, plan: TablePlan): Promise<number> {
  const params = new Params();
  const where = whereClauses(params, tenantId, filters).join(' AND ');
  if (plan.source === 'events') {
    const [row] = await session.query<{ total: string | number }>(`SELECT count(*) AS total FROM analytics_events WHERE ${where}`, params.values);
    return Number(row?.total ?? 0);
  }
  const pieces = splitClauses(params, tenantId, filters, plan.split, rollupLevelFor(filters));
  const [row] = await session.query<{ total: string | number }>(
    `SELECT (SELECT count(*) FROM ${edgeEventsFrom(params, where, filters, plan.split, '1 AS one')})
       + (SELECT coalesce(sum(count), 0) FROM event_rollups WHERE ${pieces.hours})
       + (SELECT coalesce(sum(count), 0) FROM event_rollups WHERE ${pieces.days}) AS total`,
    params.values,
  );
  return Number(row?.total ?? 0);
}

/** The WHERE, order and window of a page: the given clauses, the keyset position after a cursor, order and limit. */
export function pageSql(params: Params, clauses: string[], page: PageRequest): string {
  const direction = page.order === 'asc' ? 'ASC' : 'DESC';
  const keyset = page.after
    ? [`(timestamp, event_id) ${page.order === 'asc' ? '>' : '<'} (${params.add(page.after.timestamp, '::timestamptz')}, ${params.add(page.after.eventId, '::uuid')})`]
    : [];
  const conditions = [...clauses, ...keyset];
  return `${conditions.length > 0 ? conditions.join(' AND ') : 'true'} ORDER BY timestamp ${direction}, event_id ${direction} LIMIT ${params.add(page.limit)} OFFSET ${params.add(page.offset)}`;
}
