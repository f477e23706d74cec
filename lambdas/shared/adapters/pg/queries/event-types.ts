import type { EventType } from '../../../domain/event-schemas.js';
import { figuresByGroup } from '../../../domain/distinct-sets.js';
import type { EventTypesPlan } from '../../../domain/query-plan.js';
import type { EventTypeSummary } from '../../../ports/event-queries.js';
import { Params, whereClauses } from '../event-filter-sql.js';
import { toIso } from '../event-rows.js';
import { lagPercentilesByGroup, readMemberPieces } from '../pg-event-sets.js';
import { whilePending, type SqlSession } from '../sql-database.js';

type Range = { startTime: string; endTime: string };

/** Per type, from the event sets of the plan's whole hours and days and the events of its edges, in one snapshot. */
export async function eventTypesFromSets(session: SqlSession, tenantId: string, range: Range, plan: Extract<EventTypesPlan, { source: 'sets' }>, staleLimit: number | null): Promise<EventTypeSummary[]> {
  const pieces = await readMemberPieces(session, tenantId, range, plan.split, {
    bucket: null,
    groupOf: (_bucket, eventType) => eventType,
    reads: ['lags_ms'],
    staleLimit,
  });
  const [lags, figures] = await whilePending(lagPercentilesByGroup(session, tenantId, pieces, [0.5, 0.95]), () => figuresByGroup(pieces));
  return [...figures]
    .map(([type, figure]) => {
      const [p50 = 0, p95 = 0] = lags.get(type) ?? [];
      return {
        type: type as EventType,
        count: figure.eventCount,
        uniqueUsers: figure.uniqueUsers,
        firstSeen: new Date(figure.firstSeen).toISOString(),
        lastSeen: new Date(figure.lastSeen).toISOString(),
        ingestionLagMs: { p50: Math.round(p50), p95: Math.round(p95) },
      };
    })
    .sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** Per type, from the events of the range. */
export async function eventTypesFromEvents(session: SqlSession, tenantId: string, range: Range): Promise<EventTypeSummary[]> {
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
