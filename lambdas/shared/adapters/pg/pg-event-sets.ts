import type { EventType } from '../../domain/event-schemas.js';
import { describeError, log } from '../../logger.js';
import { consecutiveGroups } from '../../domain/consecutive-groups.js';
import { figuresByGroup, piecesByGroup, type GroupFigures, type MemberPiece } from '../../domain/distinct-sets.js';
import { EMPTY_RUN, percentileFromWindows, percentileRanks, rankWindows, wholeRun, type RunWindow, type SortedRun } from '../../domain/sorted-runs.js';
import { coveringRanges, daysOnly, keptPeriods, type RollupSplit } from '../../domain/rollup-ranges.js';
import type { EventFilters } from '../../ports/event-queries.js';
import type { EventSetKeeper } from '../../ports/event-set-keeper.js';
import { tuneForAnalytics } from './analytic-settings.js';
import { float8s, int4s } from './binary-arrays.js';
import { Params, splitClauses, whereClauses, type RollupLevel } from './event-filter-sql.js';
import { BIN_ORIGIN } from './event-rollups.js';
import { whilePending, type SqlDatabase, type SqlSession } from './sql-database.js';
import { analyzeGrownTables } from './table-statistics.js';
import { inTenantTransaction, lockTenant } from './tenant-transaction.js';

/** The range and type filter of a read the event sets can answer (migration 0008). */
export type SetFilters = Pick<EventFilters, 'startTime' | 'endTime' | 'eventTypes'>;

/** The lag as the plain percentile reads it: both paths sort the same doubles. */
const LAG_MS = `(extract(epoch FROM stored_at - received_at) * 1000)::float8`;

/**
 * Every this many of a set's sorted lags is kept as a mark (migration 0021). A read fetches
 * about this many lags per set and percentile, and the marks are an eighth of the lags' bytes.
 */
const LAG_MARK_STEP = 32;

/** Set `s` is one per hour or day and type built before migration 0021, with no lag marks: the keeper rebuilds it. */
const UNMARKED_SET = `(s.lag_marks IS NULL AND s.granularity <> 'dimension_day')`;

/** A set of this many lags or fewer is read whole: a probe for its windows costs more than its bytes. */
const WHOLE_LAGS_AT_MOST = 4 * LAG_MARK_STEP;

/** Every LAG_MARK_STEP-th float8 of sorted lags `lags`, from the first. */
const lagMarks = (lags: string) =>
  `coalesce((SELECT string_agg(substring(${lags} FROM i * 8 + 1 FOR 8), '' ORDER BY i) FROM generate_series(0, length(${lags}) / 8 - 1, ${LAG_MARK_STEP}) AS i), ''::bytea)`;

/**
 * An instant as the epoch milliseconds `Date.getTime()` gives (floor: a `Date` drops the
 * microseconds), for what a read sends to the Lambda: parsing the timestamps of 1,169 sets as
 * dates was 3 ms of a 50 ms read (hour x 7, 1M events).
 */
const epochMs = (instant: string) => `floor(extract(epoch FROM ${instant}) * 1000)::float8`;

/**
 * A set's columns, aggregated over events `e` joined to their member numbers; `time` is how the
 * first and last instant are written. The lags are sorted (migration 0021).
 */
const setAggregates = (time: (instant: string) => string = (instant) => instant) => `count(*) AS event_count,
  coalesce(string_agg(DISTINCT int4send(users.number), ''), ''::bytea) AS users,
  coalesce(string_agg(DISTINCT int4send(sessions.number), ''), ''::bytea) AS sessions,
  coalesce(string_agg(float8send(e.value::float8), '') FILTER (WHERE e.event_type = 'PERFORMANCE'), ''::bytea) AS performance_values,
  string_agg(float8send(e.lag_ms), '' ORDER BY e.lag_ms) AS lags_ms, ${time('min(e.timestamp)')} AS first_seen, ${time('max(e.timestamp)')} AS last_seen`;

/** A set as a read receives it, stored or aggregated from events, with the members the dictionary lacks (events only); instants in epoch ms. */
interface SetRow {
  bucket: number | null;
  event_type: EventType;
  /** '' on the sets per type; absent from the events' pieces of those reads. */
  category?: string;
  action?: string;
  event_count: string | number;
  users: Uint8Array;
  sessions: Uint8Array;
  performance_values: Uint8Array;
  lags_ms: Uint8Array;
  first_seen: number | null;
  last_seen: number | null;
  user_keys?: string[] | null;
  session_keys?: string[] | null;
  /** Stored sets read for their lags: every LAG_MARK_STEP-th lag, or null for a set built before migration 0021 (its lags whole, unsorted). */
  lag_marks?: Uint8Array | null;
  lag_count?: string | number;
}

/** What a read may leave out of the sets it reads: 2.7 MB of lags for 30 days of bench data. */
const OPTIONAL_COLUMNS = ['sessions', 'performance_values', 'lags_ms'] as const;
export type OptionalColumn = (typeof OPTIONAL_COLUMNS)[number];

interface SetState extends Partial<SetRow> {
  rollup_count: string | number;
  granularity: SetGranularity;
  period_start: Date;
  event_type: EventType;
  category: string;
  action: string;
  bucket: number | null;
  fresh: boolean;
  /** A set per hour or day and type built before migration 0021: valid, but the keeper rebuilds it. */
  unmarked: boolean;
}

/** Sets per hour and day and type, and per day, type, category and action (migration 0020). */
type SetGranularity = 'hour' | 'day' | 'dimension_day';

/** The sets a level reads, and how the granularity of the rollup rows they are checked against names them. */
const SET_LEVELS = {
  'by-type': { granularities: `('hour', 'day')`, fromRollup: `replace(granularity, 'type_', '')` },
  'by-dimension': { granularities: `('dimension_day')`, fromRollup: `'dimension_' || granularity` },
} as const satisfies Record<RollupLevel, { granularities: string; fromRollup: string }>;

/**
 * Each whole hour and day of the split with the rollups' count of its events per type (or, at
 * `by-dimension`, each whole day per type, category and action: the split must hold no partial
 * day, see `daysOnly`), and the stored set when it was built from as many events (`fresh`).
 * `bucket` is the group the caller reads the period under.
 */
function setStatesSql(
  params: Params,
  tenantId: string,
  filters: SetFilters,
  split: RollupSplit,
  bucket: ((column: string) => string) | null,
  reads: OptionalColumn[] | null,
  level: RollupLevel = 'by-type',
): string {
  const pieces = splitClauses(params, tenantId, filters, split, level);
  const tenant = params.add(tenantId, '::uuid');
  const read = (column: string, value = `s.${column}`) => `CASE WHEN s.rollup_count = c.count THEN ${value} END AS ${column}`;
  const readsLags = reads?.includes('lags_ms') ?? false;
  // A set built before its marks, or small enough that its windows would be about all of it.
  const wholeLags = `(s.lag_marks IS NULL OR length(s.lags_ms) <= ${WHOLE_LAGS_AT_MOST * 8})`;
  const setColumns = [
    ...['event_count', 'users'].map((column) => read(column)),
    ...['first_seen', 'last_seen'].map((column) => read(column, epochMs(`s.${column}`))),
    ...OPTIONAL_COLUMNS.map((column) => {
      if (!reads?.includes(column)) return `''::bytea AS ${column}`;
      // The marks stand for the lags, which are read by window (`lagPercentilesByGroup`).
      return column === 'lags_ms' ? read(column, `CASE WHEN ${wholeLags} THEN s.lags_ms ELSE ''::bytea END`) : read(column);
    }),
    ...(readsLags ? [read('lag_marks', `CASE WHEN ${wholeLags} THEN NULL ELSE s.lag_marks END`), read('lag_count', 'length(s.lags_ms) / 8')] : []),
  ].join(', ');
  const sets = SET_LEVELS[level];
  return `SELECT c.granularity, c.period_start, c.event_type, c.category, c.action, c.count AS rollup_count, ${bucket ? epochMs(bucket('c.period_start')) : 'NULL'} AS bucket,
      coalesce(s.rollup_count = c.count, false) AS fresh, coalesce(${UNMARKED_SET}, false) AS unmarked${reads ? `, ${setColumns}` : ''}
    FROM (
      SELECT ${sets.fromRollup} AS granularity, period_start, event_type, category, action, count FROM event_rollups
      WHERE (${pieces.hours}) OR (${pieces.days})
    ) AS c
    LEFT JOIN event_sets s ON s.tenant_id = ${tenant} AND s.granularity = c.granularity AND s.period_start = c.period_start
      AND s.event_type = c.event_type AND s.category = c.category AND s.action = c.action
      -- The split's range on the sets too, as index bounds of their own (granularity then period
      -- start): as a hash join, without them, the read hashed every set of the tenant (15,750
      -- sets, 10 MB, 27 ms for 7 days of hours; bench at 1M events).
      AND s.granularity IN ${sets.granularities} AND s.period_start >= ${params.add(split.hourStart, '::timestamptz')} AND s.period_start < ${params.add(split.hourEnd, '::timestamptz')}`;
}

const PERIOD_MS = { hour: 3_600_000, day: 86_400_000 } as const;

/**
 * Stale periods by the UTC day they lie in, in order: a day with its stale hours, weighing the
 * events of the day when the day is stale (its hours' events are among them), else of its hours.
 */
function periodsByDay(periods: ReadonlyArray<Period & { events: number }>): Array<{ periods: Period[]; events: number }> {
  const days = new Map<number, { periods: Period[]; dayEvents: number | null; hourEvents: number }>();
  for (const period of periods) {
    const start = period.period_start.getTime();
    const key = Math.floor(start / PERIOD_MS.day) * PERIOD_MS.day;
    const day = days.get(key) ?? { periods: [], dayEvents: null, hourEvents: 0 };
    day.periods.push(period);
    if (period.granularity === 'day') day.dayEvents = period.events;
    else day.hourEvents += period.events;
    days.set(key, day);
  }
  return [...days.entries()].sort(([a], [b]) => a - b).map(([, day]) => ({ periods: day.periods, events: day.dayEvents ?? day.hourEvents }));
}

/**
 * At most this many events per rebuild transaction: each of its statements stays well inside
 * the statement timeout (a week of the query bench's tenant, 78k events: ~1 s per statement).
 */
const REBUILD_EVENTS = 150_000;

/** Below this many events a rebuild probes the dictionary per member instead of hashing all of it. */
const PROBE_BELOW_EVENTS = 20_000;

/** A whole hour or day, of one type or (`event_type` null) of every type. */
interface Period {
  granularity: 'hour' | 'day';
  period_start: Date;
  event_type: EventType | null;
}

/**
 * Periods as pieces `[piece_from, piece_to)` of one type, for `piecesEvents`. The ends are
 * parameters, not `start + interval`: an expression there left the upper bound out of the index
 * condition, and each piece scanned to the end of its partition.
 */
function periodPieces(params: Params, periods: Period[]): string {
  const from = params.add(periods.map((period) => period.period_start), '::timestamptz[]');
  const to = params.add(
    periods.map((period) => new Date(new Date(period.period_start).getTime() + PERIOD_MS[period.granularity])),
    '::timestamptz[]',
  );
  const granularity = params.add(periods.map((period) => period.granularity), '::text[]');
  const type = params.add(periods.map((period) => period.event_type), '::text[]');
  return `unnest(${from}, ${to}, ${granularity}, ${type}) AS piece(piece_from, piece_to, piece_granularity, piece_type)`;
}

/**
 * What each set of the period pieces is checked against: the rollups' total per type (migration
 * 0019), and for a day also its rows per type, category and action (its 'dimension_day' sets).
 */
const periodRollupCounts = (tenant: string, pieces: string) =>
  `SELECT piece_granularity, piece_from, r.event_type, r.category, r.action, r.count
   FROM ${pieces} JOIN event_rollups r ON r.tenant_id = ${tenant} AND r.granularity = 'type_' || piece_granularity AND r.period_start = piece_from
   UNION ALL
   SELECT 'dimension_day', piece_from, r.event_type, r.category, r.action, r.count
   FROM ${pieces} JOIN event_rollups r ON r.tenant_id = ${tenant} AND r.granularity = 'day' AND r.period_start = piece_from
   WHERE piece_granularity = 'day'`;

/** Edges `[from, to)` of every type, for `piecesEvents`. */
function edgePieces(params: Params, edges: Array<[string, string]>): string {
  const from = params.add(edges.map(([start]) => start), '::timestamptz[]');
  const to = params.add(edges.map(([, end]) => end), '::timestamptz[]');
  return `(SELECT piece_from, piece_to, NULL::text AS piece_type FROM unnest(${from}, ${to}) AS edge(piece_from, piece_to)) AS piece`;
}

/**
 * The events `e` of each piece: one index range scan per piece. `OFFSET 0` keeps the subquery
 * from being flattened into a plain join, which the planner once ran as a walk of the whole
 * session index filtered against every piece (> 10 s for 30 days, bench).
 */
function piecesEvents(params: Params, tenantId: string, pieces: string, extraWhere: string[] = []): string {
  const conditions = [`tenant_id = ${params.add(tenantId, '::uuid')}`, ...extraWhere, 'timestamp >= piece_from', 'timestamp < piece_to', '(piece_type IS NULL OR event_type = piece_type)'];
  return `${pieces} CROSS JOIN LATERAL (
      SELECT timestamp, event_type, category, action, user_id::text AS user_key, session_id, value, ${LAG_MS} AS lag_ms FROM analytics_events WHERE ${conditions.join(' AND ')} OFFSET 0
    ) AS e`;
}

/**
 * The member numbers of events `e`, as `users.number` and `sessions.number`:
 * - 'joined' for builds over many events, run with nested loops off so that it is a hash join
 *   whatever the statistics say: a new dictionary has none, and a nested loop over a
 *   dictionary the planner believed held 4 rows took 6.5 s for 30 days (bench);
 * - 'probed' for the few events of a read: one primary-key probe per event (`OFFSET 0`, or the
 *   planner flattens it into a hash join that reads the whole dictionary, 53 ms for 900 events).
 * Users are probed by `e.user_key`, cast in the events' select list: as a condition under the
 * dictionary's row-level security, the cast (uuid_out is not leakproof) could not be an index
 * condition and each probe read the tenant's whole dictionary (880 ms for 900 events).
 */
function memberNumbers(params: Params, tenantId: string, how: 'joined' | 'probed'): string {
  const tenant = params.add(tenantId, '::uuid');
  const member = (alias: string, kind: string, id: string) =>
    how === 'joined'
      ? `LEFT JOIN set_members ${alias} ON ${alias}.tenant_id = ${tenant} AND ${alias}.kind = '${kind}' AND ${alias}.member = ${id}`
      : `LEFT JOIN LATERAL (SELECT number FROM set_members WHERE tenant_id = ${tenant} AND kind = '${kind}' AND member = ${id} OFFSET 0) AS ${alias} ON true`;
  return `${member('users', 'u', 'e.user_key')} ${member('sessions', 's', 'e.session_id')}`;
}

/** A read found more events in stale or missing sets than it reads one by one: the plain path answers it. */
export class StaleSetsError extends Error {
  override readonly name = 'StaleSetsError';

  constructor(readonly staleEvents: number) {
    super(`${staleEvents} events of the range are in stale or missing event sets`);
  }
}

/**
 * Keeps the event sets of a tenant (migration 0008) ahead of the reads: after a write, builds
 * the sets of the settled hours and days it touched that are missing or were built from fewer
 * events than the rollups now count (`keptPeriods`). Reads never build: what is stale when
 * they come is read from the events. Runs in its own transactions, so two writers of a tenant
 * can build the same set (the last one wins, with the same content).
 */
export class PgEventSets implements EventSetKeeper {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * Builds the stale sets of the settled periods around events written in [from, to] (epoch ms);
   * answers how many periods it (re)built. What it grew is analyzed after it: the reads of the
   * sets it built were planned as if the tables held none (a nested loop over 1,169 x 627 sets,
   * 73 ms, for 7 days of hours at 1M events).
   */
  async keep(tenantId: string, touched: { from: number; to: number }, now = Date.now()): Promise<number> {
    return (await this.keepUntil(tenantId, touched, Number.POSITIVE_INFINITY, now)).rebuilt;
  }

  /** `keep`, starting no rebuild past `deadline` (epoch ms): `finished` is false when stale periods were left for later. */
  async keepUntil(tenantId: string, touched: { from: number; to: number }, deadline: number, now = Date.now()): Promise<{ rebuilt: number; finished: boolean }> {
    const stale: Array<Period & { events: number }> = [];
    for (const split of keptPeriods(touched, now)) stale.push(...(await this.stalePeriods(tenantId, split)));
    let rebuilt = 0;
    let finished = true;
    // A day and its hours in one chunk: their events are read once for both (`rebuild`).
    for (const chunk of consecutiveGroups(periodsByDay(stale), (day) => day.events, REBUILD_EVENTS)) {
      if (Date.now() >= deadline) {
        finished = false;
        break;
      }
      rebuilt += await this.rebuild(
        tenantId,
        chunk.flatMap((day) => day.periods),
        chunk.reduce((sum, day) => sum + day.events, 0),
      );
    }
    if (rebuilt > 0) await analyzeGrownTables(this.db, 'event sets');
    return { rebuilt, finished };
  }

  /**
   * `keep` for a caller whose own work is already committed (a delivery, a purge): a failure
   * is logged with `message` and leaves the sets stale, to be read from the events.
   */
  async keepOrLog(tenantId: string, touched: { from: number; to: number }, message: string): Promise<void> {
    await this.keep(tenantId, touched).catch((error: unknown) => log('warn', message, { tenantId, ...describeError(error) }));
  }

  /**
   * The missing and stale sets of the split's whole hours and days, a period each (every type,
   * and for a day every category and action, is rebuilt at once), with the events the rollups
   * count in it.
   */
  private async stalePeriods(tenantId: string, split: RollupSplit): Promise<Array<Period & { events: number }>> {
    const range = { startTime: split.hourStart, endTime: split.hourEnd };
    const stale = await inTenantTransaction(this.db, tenantId, async (session) => {
      await tuneForAnalytics(session);
      const states = (statesSql: (params: Params) => string) => {
        const params = new Params();
        return session.query<SetState>(statesSql(params), params.values);
      };
      const byType = await states((params) => setStatesSql(params, tenantId, range, split, null, null));
      const days = daysOnly(split);
      const byDimension = days.hourStart < days.hourEnd ? await states((params) => setStatesSql(params, tenantId, range, days, null, null, 'by-dimension')) : [];
      return [...byType, ...byDimension].filter((state) => !state.fresh || state.unmarked);
    });
    // A day's sets per type and per key count the same events: its weight is the larger sum, not both.
    const periods = new Map<string, Period & { events: number }>();
    const sums = new Map<string, number>();
    for (const state of stale) {
      const granularity = state.granularity === 'hour' ? 'hour' : 'day';
      const key = `${granularity} ${state.period_start.toISOString()}`;
      const sum = (sums.get(`${key} ${state.granularity}`) ?? 0) + Number(state.rollup_count);
      sums.set(`${key} ${state.granularity}`, sum);
      const period = periods.get(key) ?? { granularity, period_start: state.period_start, event_type: null, events: 0 };
      period.events = Math.max(period.events, sum);
      periods.set(key, period);
    }
    return [...periods.values()];
  }

  /**
   * Rebuilds the periods of a chunk (`events` in all) that are still stale once the tenant's
   * lock is held (a concurrent keeper may have rebuilt them meanwhile), in one transaction. The
   * events are read once through the ranges that cover the periods, and grouped by hour and by
   * day in the same pass: built one level at a time, each event was read four times (numbered
   * and built for its hour, again for its day), 1.6 s of a 20-day backfill's 7.3 s (bench:writer).
   */
  private rebuild(tenantId: string, chunk: Period[], events: number): Promise<number> {
    return inTenantTransaction(this.db, tenantId, async (session) => {
      await tuneForAnalytics(session);
      // Numbers are dense per tenant, users and sessions alike: one numbering at a time, each statement after the lock
      // sees the numbers the previous holder gave.
      await lockTenant(session, tenantId, 'set_members');
      const periods = await this.stillStale(session, tenantId, chunk);
      if (periods.length === 0) return 0;
      const how = events < PROBE_BELOW_EVENTS ? 'probed' : 'joined';
      // See `memberNumbers`: a hash join whatever the statistics say.
      if (how === 'joined') await session.query(`SELECT set_config('enable_nestloop', 'off', true)`);
      const ranges = coveringRanges(periods.map((period) => [period.period_start.getTime(), period.period_start.getTime() + PERIOD_MS[period.granularity]])).map(
        ([from, to]): [string, string] => [new Date(from).toISOString(), new Date(to).toISOString()],
      );
      await this.numberNewMembers(session, tenantId, ranges, 'u', 'e.user_key', how);
      await this.numberNewMembers(session, tenantId, ranges, 's', 'e.session_id', how);
      // Events committed after the numbering have members without a number: such a set is
      // stored with rollup_count -1, never valid, and its period is read from the events. The
      // rollups are counted in the same statement, so in the snapshot its events are read in.
      // A group the chunk does not list (an hour of a stale day, the rest of a stale hour's
      // day) is built and left: only the periods `counted` lists are stored.
      const params = new Params();
      const tenant = params.add(tenantId, '::uuid');
      const levels = new Set(periods.map((period) => period.granularity));
      const hourBin = `date_bin('1 hour', e.timestamp, ${BIN_ORIGIN})`;
      const dayBin = `date_bin('1 day', e.timestamp, ${BIN_ORIGIN})`;
      // A day's sets per type, category and action come from the same pass as its set per type.
      const groupingSets = [
        ...(levels.has('hour') ? [`(${hourBin}, e.event_type)`] : []),
        ...(levels.has('day') ? [`(${dayBin}, e.event_type)`, `(${dayBin}, e.event_type, e.category, e.action)`] : []),
      ];
      const perKey = 'grouping(e.category) = 0';
      const granularity = levels.has('day') ? `CASE WHEN ${perKey} THEN 'dimension_day' ${levels.has('hour') ? `WHEN grouping(${hourBin}) = 0 THEN 'hour' ` : ''}ELSE 'day' END` : `'hour'::text`;
      const periodStart = levels.has('day') && levels.has('hour') ? `coalesce(${hourBin}, ${dayBin})` : levels.has('day') ? dayBin : hourBin;
      const keyPart = (column: 'category' | 'action') => (levels.has('day') ? `CASE WHEN ${perKey} THEN e.${column} ELSE '' END` : `''`);
      await session.query(
        `WITH counted AS (${periodRollupCounts(tenant, periodPieces(params, periods))}),
         built AS (
           SELECT ${granularity} AS piece_granularity, ${periodStart} AS piece_from, e.event_type, ${keyPart('category')} AS category, ${keyPart('action')} AS action,
             ${setAggregates()},
             count(*) FILTER (WHERE (e.user_key IS NOT NULL AND users.number IS NULL) OR (e.session_id IS NOT NULL AND sessions.number IS NULL)) AS unnumbered
           FROM ${piecesEvents(params, tenantId, edgePieces(params, ranges))} ${memberNumbers(params, tenantId, how)}
           GROUP BY GROUPING SETS (${groupingSets.join(', ')})
         )
         INSERT INTO event_sets (tenant_id, granularity, period_start, event_type, category, action, event_count, rollup_count, users, sessions, performance_values, lags_ms, lag_marks, first_seen, last_seen)
         SELECT ${tenant}, piece_granularity, piece_from, event_type, category, action, coalesce(b.event_count, 0),
           CASE WHEN b.unnumbered > 0 THEN -1 ELSE c.count END,
           coalesce(b.users, ''::bytea), coalesce(b.sessions, ''::bytea), coalesce(b.performance_values, ''::bytea),
           -- The lag summary is per type: the sets per key leave the lags out.
           CASE WHEN piece_granularity = 'dimension_day' THEN ''::bytea ELSE coalesce(b.lags_ms, ''::bytea) END,
           CASE WHEN piece_granularity = 'dimension_day' THEN ''::bytea ELSE ${lagMarks('b.lags_ms')} END,
           b.first_seen, b.last_seen
         FROM counted c LEFT JOIN built b USING (piece_granularity, piece_from, event_type, category, action)
         ON CONFLICT (tenant_id, granularity, period_start, event_type, category, action) DO UPDATE SET
           event_count = EXCLUDED.event_count, rollup_count = EXCLUDED.rollup_count, users = EXCLUDED.users, sessions = EXCLUDED.sessions,
           performance_values = EXCLUDED.performance_values, lags_ms = EXCLUDED.lags_ms, lag_marks = EXCLUDED.lag_marks,
           first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen, built_at = now()`,
        params.values,
      );
      return periods.length;
    });
  }

  /** The periods of `chunk` with a type (or, for a day, a key) whose set is missing or stale, or has no lag marks yet (migration 0021). */
  private async stillStale(session: SqlSession, tenantId: string, chunk: Period[]): Promise<Period[]> {
    const params = new Params();
    const tenant = params.add(tenantId, '::uuid');
    const rows = await session.query<{ granularity: 'hour' | 'day'; period_start: Date }>(
      `SELECT replace(c.piece_granularity, 'dimension_', '') AS granularity, c.piece_from AS period_start FROM (${periodRollupCounts(tenant, periodPieces(params, chunk))}) AS c
       LEFT JOIN event_sets s ON s.tenant_id = ${tenant} AND s.granularity = c.piece_granularity AND s.period_start = c.piece_from
         AND s.event_type = c.event_type AND s.category = c.category AND s.action = c.action
       WHERE s.rollup_count IS DISTINCT FROM c.count OR ${UNMARKED_SET}
       GROUP BY 1, 2`,
      params.values,
    );
    return rows.map((row) => ({ granularity: row.granularity, period_start: row.period_start, event_type: null }));
  }

  /**
   * Numbers the members of `kind` seen in the ranges that the dictionary lacks, after the
   * tenant's highest number of either kind: one backward step of `(tenant_id, number, kind)`.
   * (Each kind counted from 1 until migration 0018; the highest of the smaller kind was then a
   * walk over every number of the other above it.)
   */
  private async numberNewMembers(session: SqlSession, tenantId: string, ranges: Array<[string, string]>, kind: 'u' | 's', member: string, how: 'joined' | 'probed'): Promise<void> {
    const params = new Params();
    const tenant = params.add(tenantId, '::uuid');
    const kindParam = params.add(kind, '::"char"');
    await session.query(
      `INSERT INTO set_members (tenant_id, kind, member, number)
       SELECT ${tenant}, ${kindParam}, member,
         coalesce((SELECT number FROM set_members WHERE tenant_id = ${tenant} ORDER BY number DESC LIMIT 1), 0) + row_number() OVER ()
       FROM (SELECT DISTINCT ${member} COLLATE "C" AS member FROM ${piecesEvents(params, tenantId, edgePieces(params, ranges))}
             WHERE ${member} IS NOT NULL) AS seen
       WHERE NOT EXISTS (SELECT FROM set_members known WHERE known.tenant_id = ${tenant} AND known.kind = ${kindParam} AND known.member = seen.member${how === 'probed' ? ' OFFSET 0' : ''})`,
      params.values,
    );
  }
}

/**
 * The pieces of a range, read in one snapshot (a repeatable-read transaction): the fresh sets of
 * its whole hours and days, and the events of everything else, that is the partial hours at
 * both ends and any period whose set went stale since it was last kept.
 */
export async function readMemberPieces(
  session: SqlSession,
  tenantId: string,
  filters: SetFilters,
  split: RollupSplit,
  how: {
    /** The bucket of a time column, when pieces are grouped by bucket. */
    bucket: ((params: Params) => (column: string) => string) | null;
    /** The group a piece counts under, from its bucket and type. */
    groupOf: (bucket: string | null, eventType: EventType) => string;
    /** The optional columns the caller needs; the others are read as empty from stored sets. */
    reads: OptionalColumn[];
    /** Throw `StaleSetsError` rather than read more events than this from stale periods. */
    staleLimit: number | null;
    /**
     * The fresh sets of a bucket are one piece, concatenated in SQL (`groupOf` must not read the
     * type): hour x 7 read 1,008 sets a row each, and decoding them one by one was most of its time.
     */
    mergeTypes?: boolean;
  },
): Promise<MemberPiece[]> {
  const { bucket, groupOf } = how;
  const statesParams = new Params();
  const statesSql = setStatesSql(statesParams, tenantId, filters, split, bucket ? bucket(statesParams) : null, how.reads);
  const memberColumns = ['users', 'sessions', 'performance_values', 'lags_ms'];
  const states = await session.query<SetState>(
    how.mergeTypes && !how.reads.includes('lags_ms')
      ? `WITH states AS (${statesSql})
         SELECT granularity, period_start, event_type, rollup_count, bucket, fresh, unmarked, event_count, ${memberColumns.join(', ')}, first_seen, last_seen FROM states WHERE NOT fresh
         UNION ALL
         SELECT NULL, NULL, NULL, 0, bucket, true, false, sum(event_count), ${memberColumns.map((column) => `string_agg(${column}, '')`).join(', ')}, min(first_seen), max(last_seen)
         FROM states WHERE fresh GROUP BY bucket`
      : statesSql,
    statesParams.values,
  );
  // Empty sets (every event of the type purged) add nothing, and would list the type.
  const fresh = states.filter((state): state is SetState & SetRow => state.fresh && Number(state.event_count) > 0);
  const staleEvents = states.reduce((sum, state) => sum + (state.fresh ? 0 : Number(state.rollup_count)), 0);
  if (how.staleLimit !== null && staleEvents > how.staleLimit) throw new StaleSetsError(staleEvents);

  // The partial hours, and the periods whose set went stale since the last refresh, from their
  // events. The range's end is inclusive: the WHERE keeps it so, the piece ends 1 ms after it.
  const params = new Params();
  // The sets per type: of hours and days.
  const stale = states.filter((state) => !state.fresh).map((state): Period => ({ ...state, granularity: state.granularity === 'hour' ? 'hour' : 'day' }));
  const edges: Array<[string, string]> = [
    [filters.startTime, split.hourStart],
    [split.hourEnd, new Date(Date.parse(filters.endTime) + 1).toISOString()],
  ];
  const where = whereClauses(params, tenantId, filters);
  const sources = [edgePieces(params, edges), ...(stale.length > 0 ? [periodPieces(params, stale)] : [])];
  const columns = `${bucket ? epochMs(bucket(params)('e.timestamp')) : 'NULL::float8'} AS bucket, e.event_type, ${setAggregates(epochMs)},
    array_agg(DISTINCT e.user_key) FILTER (WHERE users.number IS NULL AND e.user_key IS NOT NULL) AS user_keys,
    array_agg(DISTINCT e.session_id) FILTER (WHERE sessions.number IS NULL AND e.session_id IS NOT NULL) AS session_keys`;
  const fromEventsRead = session.query<SetRow>(
    sources.map((source) => `SELECT ${columns} FROM ${piecesEvents(params, tenantId, source, where)} ${memberNumbers(params, tenantId, 'probed')} GROUP BY 1, 2`).join(' UNION ALL '),
    params.values,
  );
  // The stored sets are decoded while the database reads the edges' events.
  const [fromEvents, stored] = await whilePending(fromEventsRead, () => fresh.map((row) => toPiece(row, groupOf, storedLags(row))));
  return [...stored, ...fromEvents.map((row) => toPiece(row, groupOf, wholeRun(float8s(row.lags_ms), true)))];
}

/** What a read of the sets per day and key can group by. */
export type SetKeyField = 'event_type' | 'category' | 'action';

/**
 * Unique users and PERFORMANCE percentiles per UTC day and group (`keyOf`), for reads grouped
 * by category or action: from the sets per day, type, category and action (migration 0020) of
 * the split's whole days, and from the events of the rest (the partial days at both ends, and
 * any day with a stale or missing set), counted in SQL as the plain path counts them. Each day
 * is a bucket of its own (the buckets must be UTC days), so no bucket mixes sets and events
 * and the events need no member numbers: probing them for a partial day cost 0.6 s (11k events).
 */
export async function dayFiguresByKey(
  session: SqlSession,
  tenantId: string,
  filters: SetFilters,
  split: RollupSplit,
  how: {
    bucket: (params: Params) => (column: string) => string;
    groupBy: SetKeyField[];
    keyOf: (bucket: string, row: Partial<Record<SetKeyField, string>>) => string;
    staleLimit: number | null;
  },
): Promise<Map<string, Pick<GroupFigures, 'uniqueUsers' | 'performance'>>> {
  const days = daysOnly(split);
  const groups = how.groupBy.map((field) => `, ${field}`).join('');
  const statesParams = new Params();
  // Concatenated per bucket and group in SQL (a member in two sets of a group is counted once
  // by the union): 30 days of 336 keys were 9,744 rows, each decoded on its own, for 1,488 groups.
  const rows = await session.query<Partial<Record<SetKeyField, string>> & { bucket: number | null; users: Uint8Array | null; performance_values: Uint8Array | null; stale_day: number | null; stale_events: string | number }>(
    `WITH states AS (${setStatesSql(statesParams, tenantId, filters, days, how.bucket(statesParams), ['performance_values'], 'by-dimension')}),
     stale AS (SELECT period_start, sum(rollup_count) AS events FROM states GROUP BY period_start HAVING NOT bool_and(fresh))
     SELECT bucket${groups}, string_agg(users, '') AS users, string_agg(performance_values, '') AS performance_values, NULL::float8 AS stale_day, 0 AS stale_events
     FROM states WHERE period_start NOT IN (SELECT period_start FROM stale) GROUP BY bucket${groups}
     UNION ALL
     SELECT NULL${how.groupBy.map(() => ', NULL').join('')}, NULL, NULL, ${epochMs('period_start')}, events FROM stale`,
    statesParams.values,
  );
  const staleDays = rows.flatMap((row) => (row.stale_day === null ? [] : [row.stale_day]));
  const staleEvents = rows.reduce((sum, row) => sum + Number(row.stale_events), 0);
  if (how.staleLimit !== null && staleEvents > how.staleLimit) throw new StaleSetsError(staleEvents);
  const pieces = rows
    .filter((row) => row.stale_day === null)
    .map((row): MemberPiece => ({
      group: how.keyOf(new Date(row.bucket ?? 0).toISOString(), row),
      eventCount: 0,
      firstSeen: Infinity,
      lastSeen: -Infinity,
      userNumbers: int4s(row.users ?? new Uint8Array()),
      userKeys: [],
      sessionNumbers: [],
      sessionKeys: [],
      performanceValues: float8s(row.performance_values ?? new Uint8Array()),
      lags: EMPTY_RUN,
    }));
  const figures: Map<string, Pick<GroupFigures, 'uniqueUsers' | 'performance'>> = figuresByGroup(pieces);

  const params = new Params();
  const ranges: Array<[string, string]> = [
    [filters.startTime, days.hourStart],
    [days.hourEnd, new Date(Date.parse(filters.endTime) + 1).toISOString()],
    ...staleDays.map((day): [string, string] => [new Date(day).toISOString(), new Date(day + PERIOD_MS.day).toISOString()]),
  ];
  const where = whereClauses(params, tenantId, filters);
  const eventGroups = how.groupBy.map((field) => `, e.${field}`).join('');
  const fromEvents = await session.query<Partial<Record<SetKeyField, string>> & { bucket: number; unique_users: string | number; percentiles: [number, number, number] | null }>(
    `SELECT ${epochMs(how.bucket(params)('e.timestamp'))} AS bucket${eventGroups}, count(DISTINCT e.user_key) AS unique_users,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY e.value) FILTER (WHERE e.event_type = 'PERFORMANCE') AS percentiles
     FROM ${piecesEvents(params, tenantId, edgePieces(params, ranges), where)}
     GROUP BY 1${eventGroups}`,
    params.values,
  );
  for (const row of fromEvents) figures.set(how.keyOf(new Date(row.bucket).toISOString(), row), { uniqueUsers: Number(row.unique_users), performance: row.percentiles });
  return figures;
}

function toPiece(row: SetRow, groupOf: (bucket: string | null, eventType: EventType) => string, lags: SortedRun): MemberPiece {
  return {
    group: groupOf(row.bucket === null ? null : new Date(row.bucket).toISOString(), row.event_type),
    eventCount: Number(row.event_count),
    firstSeen: row.first_seen ?? Infinity,
    lastSeen: row.last_seen ?? -Infinity,
    userNumbers: int4s(row.users),
    userKeys: row.user_keys ?? [],
    sessionNumbers: int4s(row.sessions),
    sessionKeys: row.session_keys ?? [],
    performanceValues: float8s(row.performance_values),
    lags,
  };
}

/** A stored set's lags in a read: by its marks, or whole (sorted here: a set built before its marks keeps them unsorted). */
function storedLags(row: SetState & SetRow): SortedRun {
  if (!row.lag_marks) return wholeRun(float8s(row.lags_ms), false);
  const run: StoredRun = {
    count: Number(row.lag_count ?? 0),
    step: LAG_MARK_STEP,
    marks: float8s(row.lag_marks),
    set: { granularity: row.granularity, periodStart: row.period_start, eventType: row.event_type },
  };
  return run;
}

/** A stored set's lags known by their marks, and the set to read its windows from. */
interface StoredRun extends SortedRun {
  set: { granularity: SetGranularity; periodStart: Date; eventType: EventType };
}

const isStoredRun = (run: SortedRun): run is StoredRun => 'set' in run;

/**
 * The values of each window, in order: a whole run's from memory, a stored run's as slices of
 * its set's lags, all in one statement of the read's snapshot (the sets it read the marks of).
 * A set is probed once for two windows (a p50's and a p95's).
 */
async function readWindows(session: SqlSession, tenantId: string, windows: readonly RunWindow[]): Promise<ArrayLike<number>[]> {
  const read: Array<ArrayLike<number> | undefined> = windows.map((window) => (isStoredRun(window.run) ? undefined : window.run.marks.subarray(window.from, window.to)));
  const bySet = new Map<StoredRun, number[]>();
  windows.forEach((window, index) => {
    if (!isStoredRun(window.run)) return;
    const indexes = bySet.get(window.run);
    if (indexes) indexes.push(index);
    else bySet.set(window.run, [index]);
  });
  const probes = [...bySet].flatMap(([run, indexes]) => Array.from({ length: Math.ceil(indexes.length / 2) }, (_, pair) => ({ run, first: indexes[2 * pair] as number, second: indexes[2 * pair + 1] ?? -1 })));
  if (probes.length > 0) {
    const params = new Params();
    const start = (index: number) => (index < 0 ? 1 : (windows[index] as RunWindow).from * 8 + 1);
    const bytes = (index: number) => (index < 0 ? 0 : ((windows[index] as RunWindow).to - (windows[index] as RunWindow).from) * 8);
    // A probe of the primary key per set (`OFFSET 0` keeps it a nested loop): as a hash join the
    // read hashed every set of the tenant (15,750 sets, 24 ms of 25; bench at 1M events).
    const rows = await session.query<{ first: number; second: number; first_lags: Uint8Array; second_lags: Uint8Array }>(
      `SELECT w.first, w.second, s.first_lags, s.second_lags
       FROM unnest(${params.add(probes.map(({ run }) => run.set.granularity), '::text[]')}, ${params.add(probes.map(({ run }) => run.set.periodStart), '::timestamptz[]')},
         ${params.add(probes.map(({ run }) => run.set.eventType), '::text[]')}, ${params.add(probes.map(({ first }) => first), '::int[]')}, ${params.add(probes.map(({ second }) => second), '::int[]')},
         ${params.add(probes.map(({ first }) => start(first)), '::int[]')}, ${params.add(probes.map(({ first }) => bytes(first)), '::int[]')},
         ${params.add(probes.map(({ second }) => start(second)), '::int[]')}, ${params.add(probes.map(({ second }) => bytes(second)), '::int[]')})
         AS w(granularity, period_start, event_type, first, second, first_start, first_bytes, second_start, second_bytes)
       CROSS JOIN LATERAL (
         SELECT substring(lags_ms FROM w.first_start FOR w.first_bytes) AS first_lags, substring(lags_ms FROM w.second_start FOR w.second_bytes) AS second_lags FROM event_sets
         WHERE tenant_id = ${params.add(tenantId, '::uuid')} AND granularity = w.granularity AND period_start = w.period_start
           AND event_type = w.event_type AND category = '' AND action = '' OFFSET 0
       ) AS s`,
      params.values,
    );
    for (const row of rows) {
      read[row.first] = float8s(row.first_lags);
      if (row.second >= 0) read[row.second] = float8s(row.second_lags);
    }
  }
  return read.map((values, index) => {
    // The sets were read in this snapshot: a missing one is a defect, not a race.
    if (values === undefined || values.length !== (windows[index] as RunWindow).to - (windows[index] as RunWindow).from) throw new Error('an event set read for its lag marks has no such lags in the same snapshot');
    return values;
  });
}

/**
 * Postgres's percentile_cont of each group's lags at `fractions`, exactly (the same doubles as
 * the plain path), reading of the stored sets only the windows their marks bound the rows to
 * (`sorted-runs.ts`); null for a group with no lags.
 */
export async function lagPercentilesByGroup(session: SqlSession, tenantId: string, pieces: readonly MemberPiece[], fractions: readonly number[]): Promise<Map<string, number[] | null>> {
  const asked = [...piecesByGroup(pieces)].map(([group, members]) => {
    const runs = members.map((piece) => piece.lags).filter((run) => run.count > 0);
    const count = runs.reduce((sum, run) => sum + run.count, 0);
    return { group, count, found: count === 0 ? [] : percentileRanks(count, fractions).map(([low, high]) => rankWindows(runs, low, high)) };
  });
  const windows = asked.flatMap(({ found }) => found.flatMap((ranked) => ranked.windows));
  const values = await readWindows(session, tenantId, windows);
  const percentiles = new Map<string, number[] | null>();
  let next = 0;
  for (const { group, count, found } of asked) {
    percentiles.set(
      group,
      count === 0
        ? null
        : found.map((ranked, index) => {
            const read = values.slice(next, next + ranked.windows.length);
            next += ranked.windows.length;
            return percentileFromWindows(count, fractions[index] as number, ranked, read);
          }),
    );
  }
  return percentiles;
}
