import type { EventType } from '../../domain/event-schemas.js';
import { float8s, int4s, type MemberPiece } from '../../domain/distinct-sets.js';
import type { RollupSplit } from '../../domain/rollup-ranges.js';
import type { EventFilters } from '../../ports/event-queries.js';
import { tuneForAnalytics } from './analytic-settings.js';
import { Params, splitClauses, whereClauses } from './event-filter-sql.js';
import type { SqlDatabase, SqlSession } from './sql-database.js';
import { inTenantTransaction } from './tenant-transaction.js';

/** The range and type filter of a read the event sets can answer (migration 0008). */
export type SetFilters = Pick<EventFilters, 'startTime' | 'endTime' | 'eventTypes'>;

/** The SQL of a piece's period end, from its granularity column. */
const periodEnd = (granularity: string, start: string) => `${start} + CASE ${granularity} WHEN 'hour' THEN interval '1 hour' ELSE interval '1 day' END`;

/** The lag as the plain percentile reads it: both paths sort the same doubles. */
const LAG_MS = `(extract(epoch FROM stored_at - received_at) * 1000)::float8`;

/** A set's columns, aggregated over events `e` joined to their member numbers. */
const SET_AGGREGATES = `count(*) AS event_count,
  coalesce(string_agg(DISTINCT int4send(users.number), ''), ''::bytea) AS users,
  coalesce(string_agg(DISTINCT int4send(sessions.number), ''), ''::bytea) AS sessions,
  coalesce(string_agg(float8send(e.value::float8), '') FILTER (WHERE e.event_type = 'PERFORMANCE'), ''::bytea) AS performance_values,
  string_agg(float8send(e.lag_ms), '') AS lags_ms, min(e.timestamp) AS first_seen, max(e.timestamp) AS last_seen`;

/** A set as stored or as aggregated from events, with the members the dictionary lacks (events only). */
interface SetRow {
  bucket: Date | string | null;
  event_type: EventType;
  event_count: string | number;
  users: Uint8Array;
  sessions: Uint8Array;
  performance_values: Uint8Array;
  lags_ms: Uint8Array;
  first_seen: Date;
  last_seen: Date;
  user_keys?: string[] | null;
  session_keys?: string[] | null;
}

interface SetState extends Partial<SetRow> {
  granularity: 'hour' | 'day';
  period_start: Date;
  event_type: EventType;
  bucket: Date | string | null;
  fresh: boolean;
}

/**
 * Each whole hour and day of the split with the rollups' count of its events per type, and the
 * stored set when it was built from as many events (`fresh`). `bucket` is the group the caller
 * reads the period under.
 */
function setStatesSql(params: Params, tenantId: string, filters: SetFilters, split: RollupSplit, bucket: ((column: string) => string) | null, withSets: boolean): string {
  const pieces = splitClauses(params, tenantId, filters, split);
  const tenant = params.add(tenantId, '::uuid');
  const setColumns = ['event_count', 'users', 'sessions', 'performance_values', 'lags_ms', 'first_seen', 'last_seen']
    .map((column) => `CASE WHEN s.event_count = c.count THEN s.${column} END AS ${column}`)
    .join(', ');
  return `SELECT c.granularity, c.period_start, c.event_type, ${bucket ? bucket('c.period_start') : 'NULL'} AS bucket,
      coalesce(s.event_count = c.count, false) AS fresh${withSets ? `, ${setColumns}` : ''}
    FROM (
      SELECT granularity, period_start, event_type, sum(count) AS count FROM event_rollups
      WHERE (${pieces.hours}) OR (${pieces.days}) GROUP BY 1, 2, 3
    ) AS c
    LEFT JOIN event_sets s ON s.tenant_id = ${tenant} AND s.granularity = c.granularity AND s.period_start = c.period_start AND s.event_type = c.event_type`;
}

/** The periods (granularity, start, type) as three parallel arrays, for `unnest`. */
function periodArrays(params: Params, periods: Array<Pick<SetState, 'granularity' | 'period_start' | 'event_type'>>): string {
  return `unnest(${params.add(
    periods.map((period) => period.granularity),
    '::text[]',
  )}, ${params.add(
    periods.map((period) => period.period_start),
    '::timestamptz[]',
  )}, ${params.add(
    periods.map((period) => period.event_type),
    '::text[]',
  )}) AS piece(piece_granularity, piece_start, piece_type)`;
}

/** The events of each piece, one index range scan per piece (LATERAL keeps the plan a nested loop). */
function piecesEvents(params: Params, tenantId: string, pieces: string, extraWhere: string[] = []): string {
  const tenant = params.add(tenantId, '::uuid');
  return `${pieces} CROSS JOIN LATERAL (
      SELECT timestamp, event_type, user_id, session_id, value, ${LAG_MS} AS lag_ms FROM analytics_events
      WHERE ${[`tenant_id = ${tenant}`, ...extraWhere, 'timestamp >= piece_from', 'timestamp < piece_to', '(piece_type IS NULL OR event_type = piece_type)'].join(' AND ')}
    ) AS e
    LEFT JOIN set_members users ON users.tenant_id = ${tenant} AND users.kind = 'u' AND users.member = e.user_id::text
    LEFT JOIN set_members sessions ON sessions.tenant_id = ${tenant} AND sessions.kind = 's' AND sessions.member = e.session_id`;
}

/** Periods as pieces of `piecesEvents`: [start, end of its granularity) of its type. */
const periodPieces = (params: Params, periods: Array<Pick<SetState, 'granularity' | 'period_start' | 'event_type'>>) =>
  `(SELECT piece_start AS piece_from, ${periodEnd('piece_granularity', 'piece_start')} AS piece_to, piece_type, piece_granularity, piece_start
    FROM ${periodArrays(params, periods)}) AS piece`;

/**
 * Keeps the event sets of a tenant (migration 0008): builds those a read is about to need that
 * are missing or were built from fewer events than the rollups now count. Runs in its own
 * transaction before the read, so concurrent readers of a tenant can build the same set (the
 * last one wins, with the same content) and the read itself never writes a set.
 */
export class PgEventSets {
  constructor(private readonly db: SqlDatabase) {}

  async refresh(tenantId: string, filters: SetFilters, split: RollupSplit): Promise<number> {
    return inTenantTransaction(this.db, tenantId, async (session) => {
      await tuneForAnalytics(session);
      const statesParams = new Params();
      const states = await session.query<SetState>(setStatesSql(statesParams, tenantId, filters, split, null, false), statesParams.values);
      const stale = states.filter((state) => !state.fresh);
      if (stale.length === 0) return 0;
      // Numbers are dense per tenant: one numbering at a time, each statement after the lock
      // sees the numbers the previous holder gave.
      await session.query(`SELECT pg_advisory_xact_lock(hashtextextended('set_members ' || $1, 0))`, [tenantId]);
      await this.numberNewMembers(session, tenantId, stale, 'u', 'e.user_id::text');
      await this.numberNewMembers(session, tenantId, stale, 's', 'e.session_id');
      const params = new Params();
      const tenant = params.add(tenantId, '::uuid');
      await session.query(
        `INSERT INTO event_sets (tenant_id, granularity, period_start, event_type, event_count, users, sessions, performance_values, lags_ms, first_seen, last_seen)
         SELECT ${tenant}, piece_granularity, piece_start, piece_type, ${SET_AGGREGATES}
         FROM ${piecesEvents(params, tenantId, periodPieces(params, stale))}
         GROUP BY piece_granularity, piece_start, piece_type
         ON CONFLICT (tenant_id, granularity, period_start, event_type) DO UPDATE SET
           event_count = EXCLUDED.event_count, users = EXCLUDED.users, sessions = EXCLUDED.sessions,
           performance_values = EXCLUDED.performance_values, lags_ms = EXCLUDED.lags_ms,
           first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen, built_at = now()`,
        params.values,
      );
      return stale.length;
    });
  }

  /** Drops the sets of periods that end at or before `olderThan`: their events are purged. */
  async dropBefore(session: SqlSession, tenantId: string, olderThan: string): Promise<void> {
    await session.query(`DELETE FROM event_sets WHERE tenant_id = $1 AND ${periodEnd('granularity', 'period_start')} <= $2::timestamptz`, [tenantId, olderThan]);
  }

  private async numberNewMembers(session: SqlSession, tenantId: string, stale: SetState[], kind: 'u' | 's', member: string): Promise<void> {
    const params = new Params();
    const tenant = params.add(tenantId, '::uuid');
    const kindParam = params.add(kind, '::"char"');
    await session.query(
      `INSERT INTO set_members (tenant_id, kind, member, number)
       SELECT ${tenant}, ${kindParam}, member,
         (SELECT coalesce(max(number), 0) FROM set_members WHERE tenant_id = ${tenant} AND kind = ${kindParam}) + row_number() OVER (ORDER BY member)
       FROM (SELECT DISTINCT ${member} AS member FROM ${piecesEvents(params, tenantId, periodPieces(params, stale))}
             WHERE ${member} IS NOT NULL) AS seen
       WHERE NOT EXISTS (SELECT FROM set_members known WHERE known.tenant_id = ${tenant} AND known.kind = ${kindParam} AND known.member = seen.member)`,
      params.values,
    );
  }
}

/**
 * The pieces of a range, read in one snapshot (a repeatable-read transaction): the fresh sets of
 * its whole hours and days, and the events of everything else, that is the partial hours at
 * both ends and any period whose set went stale since the last refresh. `groupOf` names the
 * group each piece counts under, from its bucket (when `bucket` is given) and type.
 */
export async function readMemberPieces(
  session: SqlSession,
  tenantId: string,
  filters: SetFilters,
  split: RollupSplit,
  bucket: ((params: Params) => (column: string) => string) | null,
  groupOf: (bucket: string | null, eventType: EventType) => string,
): Promise<MemberPiece[]> {
  const statesParams = new Params();
  const states = await session.query<SetState>(
    setStatesSql(statesParams, tenantId, filters, split, bucket ? bucket(statesParams) : null, true),
    statesParams.values,
  );
  const fresh = states.filter((state): state is SetState & SetRow => state.fresh);

  // The partial hours, and the periods whose set went stale since the last refresh, from their
  // events. The range's end is inclusive: the WHERE keeps it so, the piece ends 1 ms after it.
  const params = new Params();
  const stale = states.filter((state) => !state.fresh);
  const edges = [
    [filters.startTime, split.hourStart],
    [split.hourEnd, new Date(Date.parse(filters.endTime) + 1).toISOString()],
  ];
  const edgePieces = `(SELECT piece_from, piece_to, NULL::text AS piece_type FROM unnest(${params.add(
    edges.map(([from]) => from),
    '::timestamptz[]',
  )}, ${params.add(
    edges.map(([, to]) => to),
    '::timestamptz[]',
  )}) AS edge(piece_from, piece_to)) AS piece`;
  const where = whereClauses(params, tenantId, filters);
  const sources = [edgePieces, ...(stale.length > 0 ? [periodPieces(params, stale)] : [])];
  const columns = `${bucket ? bucket(params)('e.timestamp') : 'NULL::timestamptz'} AS bucket, e.event_type, ${SET_AGGREGATES},
    array_agg(DISTINCT e.user_id::text) FILTER (WHERE users.number IS NULL AND e.user_id IS NOT NULL) AS user_keys,
    array_agg(DISTINCT e.session_id) FILTER (WHERE sessions.number IS NULL AND e.session_id IS NOT NULL) AS session_keys`;
  const fromEvents = await session.query<SetRow>(
    sources.map((source) => `SELECT ${columns} FROM ${piecesEvents(params, tenantId, source, where)} GROUP BY 1, 2`).join(' UNION ALL '),
    params.values,
  );
  return [...fresh, ...fromEvents].map((row) => toPiece(row, groupOf));
}

function toPiece(row: SetRow, groupOf: (bucket: string | null, eventType: EventType) => string): MemberPiece {
  return {
    group: groupOf(row.bucket === null ? null : new Date(row.bucket).toISOString(), row.event_type),
    eventCount: Number(row.event_count),
    firstSeen: row.first_seen.getTime(),
    lastSeen: row.last_seen.getTime(),
    userNumbers: int4s(row.users),
    userKeys: row.user_keys ?? [],
    sessionNumbers: int4s(row.sessions),
    sessionKeys: row.session_keys ?? [],
    performanceValues: float8s(row.performance_values),
    lagsMs: float8s(row.lags_ms),
  };
}
