import { errorMessage } from '../../../domain/event-type-rules.js';
import type { ErrorGroup } from '../../../domain/answer-schemas.js';
import type { ErrorGroupsQuery } from '../../../domain/query-schemas.js';
import { Params, whereClauses } from '../event-filter-sql.js';
import { toIso } from '../event-rows.js';
import type { SqlSession } from '../sql-database.js';

interface GroupRow {
  fingerprint: string;
  count: string | number;
  users: string | number;
  first_seen: Date | string;
  last_seen: Date | string;
  event_id: string;
  category: string;
  action: string;
  label: string | null;
  properties: Record<string, unknown>;
  severity: string | null;
}

/**
 * The range's ERROR events by fingerprint, the largest groups first. Text shown for a group
 * (category, action, message, severity) is its latest event's, found on the time index at the
 * group's last instant: only the answer's groups are read whole. An ERROR event without a
 * fingerprint (none is stored without one since the type rules set it) is left out.
 */
export async function errorGroups(session: SqlSession, tenantId: string, query: ErrorGroupsQuery): Promise<ErrorGroup[]> {
  const params = new Params();
  const where = [...whereClauses(params, tenantId, { ...query, eventTypes: ['ERROR'] }), `metadata ? 'fingerprint'`].join(' AND ');
  const tenant = params.add(tenantId, '::uuid');
  const rows = await session.query<GroupRow>(
    `WITH groups AS (
       SELECT metadata->>'fingerprint' AS fingerprint, count(*) AS count, count(DISTINCT user_id) AS users,
         min(timestamp) AS first_seen, max(timestamp) AS last_seen
       FROM analytics_events WHERE ${where}
       GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ${params.add(query.limit)})
     SELECT g.*, latest.* FROM groups g
     CROSS JOIN LATERAL (
       SELECT e.event_id, e.category, e.action, e.label, e.properties, e.metadata->>'severity' AS severity
       FROM analytics_events e
       WHERE e.tenant_id = ${tenant} AND e.timestamp = g.last_seen AND e.event_type = 'ERROR' AND e.metadata->>'fingerprint' = g.fingerprint
       ORDER BY e.event_id DESC LIMIT 1) AS latest
     ORDER BY g.count DESC, g.fingerprint`,
    params.values,
  );
  return rows.map((row) => ({
    fingerprint: row.fingerprint,
    category: row.category,
    action: row.action,
    message: errorMessage({ properties: row.properties, label: row.label }) ?? null,
    severity: row.severity,
    count: Number(row.count),
    users: Number(row.users),
    firstSeen: toIso(row.first_seen),
    lastSeen: toIso(row.last_seen),
    sampleEventId: row.event_id,
  }));
}
