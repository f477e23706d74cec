import { QUEUED_ROW_FIELDS, type QueuedRowField, type QueueHeader, type ReceivedMessage } from '../../domain/queue-messages.js';
import type { EventStore, StoredEvent, WriteOptions, WriteSummary } from '../../ports/event-store.js';
import type { StoredEventBatch } from '../../ports/stored-event-publisher.js';
import { emitCounts, METRIC } from '../../metrics.js';
import type { SqlDatabase } from './sql-database.js';
import { EVENT_COLUMNS, toIso, toStoredEvent, type EventRow } from './event-rows.js';
import { ensureEventPartitions } from './event-partitions.js';
import { PgEventSets } from './pg-event-sets.js';
import { BIN_ORIGIN, rollupRowsSql } from './event-rollups.js';
import { analyzeGrownTables } from './table-statistics.js';
import { APP_ROLE, inTenantTransaction, scopeToTenant } from './tenant-transaction.js';

/** The staging table's column for each field of a queued row. */
const STAGED_COLUMN: Record<QueuedRowField, string> = {
  eventId: 'event_id', timestamp: 'timestamp', type: 'event_type', category: 'category', action: 'action',
  label: 'label', value: 'value', userId: 'user_id', sessionId: 'session_id', properties: 'properties',
  context: 'context', metadata: 'metadata', receivedAt: 'received_at', actor: 'actor', requestId: 'request_id',
};
const STAGED_COLUMNS = QUEUED_ROW_FIELDS.map((field) => STAGED_COLUMN[field]).join(', ');

/**
 * The rows of a delivery are COPYed into a temporary table, then written by one statement.
 * COPY because `COPY FROM` refuses a table under row-level security, and because its parser
 * is the cheapest way into Postgres. Temporary: private to the connection, never logged, and
 * emptied at commit, so it only ever holds rows of the open transaction. It is created once
 * per connection, by the session user, who does the COPY (PGlite reads the rows as a file,
 * which the application role may not); the statement reads it as the application role.
 */
const PREPARE_STAGING = `DO $$ BEGIN
  IF to_regclass('pg_temp.staged_events') IS NULL THEN
    CREATE TEMPORARY TABLE staged_events (
      event_id uuid NOT NULL, timestamp timestamptz NOT NULL, event_type text NOT NULL, category text NOT NULL,
      action text NOT NULL, label text, value numeric, user_id uuid, session_id text, properties jsonb NOT NULL,
      context jsonb NOT NULL, metadata jsonb NOT NULL, received_at timestamptz NOT NULL, actor text NOT NULL,
      request_id text NOT NULL
    ) ON COMMIT DELETE ROWS;
    GRANT SELECT ON pg_temp.staged_events TO ${APP_ROLE};
  ELSE
    -- New storage: COPY then only appends, so ctid order is the order it read. The storage
    -- ON COMMIT DELETE ROWS leaves behind would let COPY fill earlier pages' free space.
    TRUNCATE pg_temp.staged_events;
  END IF;
END $$`;

/** Back to the session user, and an empty staging table for the next tenant of a delivery. */
const RESET_STAGING = 'SET LOCAL ROLE NONE; TRUNCATE pg_temp.staged_events';

/**
 * One statement per tenant and delivery, over its staged rows. The dedupe insert decides which
 * events are new, and only those are stored, rolled up and audited. A redelivered message
 * therefore changes nothing, and there is no per-event round trip. $2: the batch summaries of
 * the delivery's first messages, `[{requestId, actor, batchSummary}]`, each audited once per
 * request (migration 0009), whether or not any of its events was new, or it had any.
 */
export const WRITE_STAGED_EVENTS = `
WITH input AS (
  -- An id repeated inside one delivery keeps its first occurrence: the staging table gets new
  -- storage before every COPY and is only appended to, so its ctid order is the order COPY read.
  SELECT DISTINCT ON (event_id) * FROM pg_temp.staged_events ORDER BY event_id, ctid
),
fresh AS (
  INSERT INTO event_dedupe (tenant_id, event_id, event_timestamp)
  SELECT $1, event_id, timestamp FROM input
  ON CONFLICT DO NOTHING
  RETURNING event_id
),
-- Materialised once: the events insert, the rollups and the audit all read the new events.
new_events AS MATERIALIZED (
  SELECT i.* FROM input i JOIN fresh f ON f.event_id = i.event_id
),
stored AS (
  INSERT INTO analytics_events (tenant_id, event_id, timestamp, event_type, category, action, label,
    value, user_id, session_id, properties, context, metadata, received_at)
  SELECT $1, event_id, timestamp, event_type, category, action, label, value,
    user_id, session_id, properties, context, metadata, received_at
  FROM new_events
),
rolled AS (
  INSERT INTO event_rollups AS r (tenant_id, granularity, period_start, event_type, category, action,
    count, value_count, total_value, min_value, max_value)
  SELECT $1, new_rollups.* FROM (${rollupRowsSql('new_events')}) AS new_rollups
  -- A fixed order of row locks keeps concurrent writers from deadlocking on shared buckets.
  ORDER BY 2, 3, 4, 5, 6
  ON CONFLICT (tenant_id, granularity, period_start, event_type, category, action) DO UPDATE SET
    count = r.count + excluded.count,
    value_count = r.value_count + excluded.value_count,
    total_value = r.total_value + excluded.total_value,
    min_value = LEAST(r.min_value, excluded.min_value),
    max_value = GREATEST(r.max_value, excluded.max_value),
    updated_at = now()
),
security_audit AS (
  INSERT INTO audit_log (tenant_id, action, actor, details)
  SELECT $1, 'SECURITY_EVENT', actor, jsonb_build_object('eventId', event_id, 'category', category,
    'action', action, 'severity', metadata->>'severity', 'userId', user_id, 'timestamp', timestamp)
  FROM new_events WHERE event_type = 'SECURITY'
),
-- Hash aggregates first: the per-actor summary then works on a few rows, not on every event.
tracked_counts AS (
  SELECT actor, request_id, event_type, category, count(*) AS n
  FROM new_events GROUP BY 1, 2, 3, 4
),
-- The users whose events were stored, per actor: how many, and the first 100 by id. Grouped
-- by user first: a hash of the pairs, where DISTINCT (actor, user) sorted every event on the
-- actor's text (EXPLAIN ANALYZE, 8,945 events: 4 ms against 11 ms, of a 300 ms statement).
tracked_users AS (
  SELECT actor, count(*) AS unique_users, to_jsonb((array_agg(user_id ORDER BY user_id))[1:100]) AS user_ids
  FROM (SELECT user_id, actor FROM new_events WHERE user_id IS NOT NULL GROUP BY user_id, actor) AS distinct_users GROUP BY actor
),
tracked_audit AS (
  INSERT INTO audit_log (tenant_id, action, actor, details)
  SELECT $1, 'EVENTS_TRACKED', by_type.actor, jsonb_build_object('stored', by_type.stored,
    'byType', by_type.counts, 'categories', other.categories, 'requestIds', other.request_ids,
    'uniqueUsers', coalesce(users.unique_users, 0), 'userIds', coalesce(users.user_ids, '[]'))
  FROM (
    SELECT actor, sum(n) AS stored, jsonb_object_agg(event_type, n) AS counts
    FROM (SELECT actor, event_type, sum(n) AS n FROM tracked_counts GROUP BY 1, 2) AS per_type GROUP BY actor
  ) AS by_type
  JOIN (
    SELECT actor, jsonb_agg(DISTINCT category) AS categories, jsonb_agg(DISTINCT request_id) AS request_ids
    FROM tracked_counts GROUP BY actor
  ) AS other USING (actor)
  LEFT JOIN tracked_users AS users USING (actor)
),
-- Once per request: a redelivered first message finds its request audited already.
batch_audit AS (
  INSERT INTO audit_log (tenant_id, action, actor, details)
  SELECT $1, 'EVENTS_BATCH_PROCESSED', b.actor, jsonb_build_object('requestId', b."requestId") || b."batchSummary"
  FROM jsonb_to_recordset($2::jsonb) AS b("requestId" text, actor text, "batchSummary" jsonb)
  ON CONFLICT (tenant_id, (details->>'requestId')) WHERE action = 'EVENTS_BATCH_PROCESSED' DO NOTHING
),
-- The live counters' outbox: one delta of the new events' counts per minute, type and category,
-- flushed to DynamoDB after the commit (flush-live-counters.ts). Minutes binned as the rollups'.
counter_deltas AS (
  INSERT INTO live_counter_deltas (tenant_id, counts)
  SELECT $1, jsonb_agg(jsonb_build_object('minute', minute, 'type', event_type, 'category', category, 'count', n))
  FROM (SELECT date_bin('1 minute', timestamp, ${BIN_ORIGIN}) AS minute, event_type, category, count(*) AS n FROM new_events GROUP BY 1, 2, 3) AS keyed
  HAVING count(*) > 0
)
-- $3: whether anyone streams this tenant's events. The stream's events are made from the
-- staged rows the writer has (streamedEventsOfRows), not read back here: json_agg of the new
-- rows and their parse cost about 36 us an event (docs/benchmarks.md, Live stream). The
-- writer needs only the ids of the input that were not new, usually none. CASE does not run
-- the sub-select otherwise (an InitPlan runs when read). stored_at is the column's default,
-- the transaction's now(). first_at and last_at: the range whose event sets the writer keeps.
SELECT count(*)::int AS stored, now() AS stored_at, min(timestamp) AS first_at, max(timestamp) AS last_at,
  CASE WHEN $3::boolean THEN (SELECT coalesce(json_agg(i.event_id), '[]') FROM input i WHERE i.event_id NOT IN (SELECT event_id FROM fresh)) END AS not_new
FROM new_events`;

interface WrittenRow {
  stored: number;
  stored_at: Date | string;
  first_at: Date | string | null;
  last_at: Date | string | null;
  /** The staged ids whose event was stored before, when asked for. */
  not_new: string[] | null;
}

interface TenantDelivery {
  rows: string;
  lineCount: number;
  batchSummaries: Array<Pick<QueueHeader, 'requestId' | 'actor' | 'batchSummary'>>;
}

/** Newlines in `text`, without splitting a delivery's 2-3 MB of rows into thousands of strings. */
function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) count += 1;
  return count;
}

/** The rows of each tenant's messages, concatenated as they came off the queue, tenants ordered by id. */
function deliveriesByTenant(messages: ReceivedMessage[]): Map<string, TenantDelivery> {
  const byTenant = new Map<string, { rows: string[]; batchSummaries: TenantDelivery['batchSummaries'] }>();
  for (const { header, rows } of messages) {
    const delivery = byTenant.get(header.tenantId) ?? { rows: [], batchSummaries: [] };
    delivery.rows.push(rows);
    if (header.batchSummary) delivery.batchSummaries.push({ requestId: header.requestId, actor: header.actor, batchSummary: header.batchSummary });
    byTenant.set(header.tenantId, delivery);
  }
  // Tenants in one order: two deliveries that name the same tenants take their rollup locks
  // and rollup row locks in the same order, so neither can wait for the other in a cycle.
  const tenants = [...byTenant].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(tenants.map(([tenantId, delivery]) => {
    const rows = delivery.rows.join('');
    return [tenantId, { ...delivery, rows, lineCount: countLines(rows) }];
  }));
}

/** Postgres: 'no partition of relation "analytics_events" found for row' (check_violation). */
function isMissingPartition(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === '23514' && error.message.includes('no partition');
}

/** How often a writer asks whether a partition grew past its planner statistics. */
const STATISTICS_CHECK_MS = 10_000;

/** How often at most a writer keeps the event sets of what it wrote since it last did. */
const SET_KEEPING_MS = 10_000;

/**
 * The share of a writer's time the keeping may take: after a keeping of d ms the next waits at
 * least d / share - d. A backfill touches every hour and day of its range with each delivery;
 * keeping after each would rebuild them all each time.
 */
const SET_KEEPING_SHARE = 0.25;

export interface PgEventStoreOptions {
  /** 0 checks after every write (tests); the default is STATISTICS_CHECK_MS. */
  statisticsCheckMs?: number;
  /** False: this writer never keeps event sets (the tests of keeping itself; a writer's cost without it). */
  keepSets?: boolean;
  /** 0 keeps the event sets after every write, whatever it takes (tests); the default is SET_KEEPING_MS. */
  setKeepingMs?: number;
  /**
   * Keep what a write left pending once the interval is over even if no write comes then: a
   * timer, for a long-lived process (the local runtime). A Lambda is frozen between
   * invocations; what it leaves pending waits for its next write, and reads take it from the
   * events meanwhile.
   */
  keepPendingSets?: boolean;
}

export class PgEventStore implements EventStore {
  /** Months whose partition is known to exist; saves a round trip on every warm invocation. */
  private readonly knownMonths = new Set<string>();
  private readonly statisticsCheckMs: number;
  private lastStatisticsCheck = Number.NEGATIVE_INFINITY;
  private readonly sets: PgEventSets;
  private readonly setKeepingMs: number;
  private readonly keepPendingSets: boolean;
  /** Per tenant, the range of event timestamps written since its sets were last kept. */
  private readonly touched = new Map<string, { from: number; to: number }>();
  private nextKeeping = Number.NEGATIVE_INFINITY;
  private keeping: Promise<void> | undefined;
  private pendingTimer: NodeJS.Timeout | undefined;
  private keepingOff = false;

  constructor(private readonly db: SqlDatabase, options: PgEventStoreOptions = {}) {
    this.statisticsCheckMs = options.statisticsCheckMs ?? STATISTICS_CHECK_MS;
    this.sets = new PgEventSets(db);
    this.setKeepingMs = options.setKeepingMs ?? SET_KEEPING_MS;
    this.keepPendingSets = options.keepPendingSets ?? false;
    this.keepingOff = options.keepSets === false;
  }

  async writeMessages(messages: ReceivedMessage[], options: WriteOptions = {}): Promise<WriteSummary> {
    const deliveries = deliveriesByTenant(messages);
    const months = messages.flatMap(({ header }) => header.months);
    const returnEventsOf = options.returnEventsOf ?? new Set<string>();
    await this.ensurePartitions(months);

    const summary = await this.writeDeliveries(deliveries, returnEventsOf).catch(async (error: unknown) => {
      // The maintenance job may have dropped a partition this container still believes in.
      if (!isMissingPartition(error)) throw error;
      this.knownMonths.clear();
      await this.ensurePartitions(months);
      return this.writeDeliveries(deliveries, returnEventsOf);
    });
    if (summary.stored > 0) {
      await this.analyzeGrownTablesWhenDue();
      await this.keepSetsWhenDue();
    }
    return summary;
  }

  /**
   * The event sets of the settled hours and days the writes since the last keeping touched,
   * built after the commit so that no read has to (`PgEventSets.keep`), at most every
   * `setKeepingMs` and within SET_KEEPING_SHARE of the time. Awaited, as a Lambda freezes what
   * is left running; it never fails the delivery, which is already stored, and a set it does
   * not build is read from the events.
   */
  private async keepSetsWhenDue(): Promise<void> {
    if (this.keeping || this.touched.size === 0 || this.keepingOff) return;
    if (this.nextKeeping > performance.now()) return this.keepPendingLater();
    this.keeping = this.keepTouchedSets();
    try {
      await this.keeping;
    } finally {
      this.keeping = undefined;
    }
    // Writes that came while it ran.
    if (this.touched.size > 0) this.keepPendingLater();
  }

  private keepPendingLater(): void {
    if (!this.keepPendingSets || this.pendingTimer || this.keepingOff) return;
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = undefined;
      void this.keepSetsWhenDue();
    }, Math.max(0, this.nextKeeping - performance.now()));
    this.pendingTimer.unref();
  }

  private async keepTouchedSets(): Promise<void> {
    const started = performance.now();
    const touched = [...this.touched];
    this.touched.clear();
    for (const [tenantId, range] of touched) await this.sets.keepOrLog(tenantId, range, 'event sets not kept');
    const took = performance.now() - started;
    this.nextKeeping = this.setKeepingMs === 0 ? 0 : performance.now() + Math.max(this.setKeepingMs, took / SET_KEEPING_SHARE - took);
  }

  /** No keeping starts after this; the one running, if any, ends first. What is pending stays for the next writer. */
  async stopKeeping(): Promise<void> {
    this.keepingOff = true;
    clearTimeout(this.pendingTimer);
    this.pendingTimer = undefined;
    await this.keeping;
  }

  /** Keeps now what writes left pending (bench, tests): the sets are current when it settles. */
  async keepSets(): Promise<void> {
    clearTimeout(this.pendingTimer);
    this.pendingTimer = undefined;
    await this.keeping;
    if (this.touched.size > 0) await this.keepTouchedSets();
  }

  /**
   * After the commit, at most every `statisticsCheckMs`: the grown tables are analyzed
   * (`analyzeGrownTables`), so that a read right after an ingest is planned on statistics.
   * Awaited, as a Lambda freezes what is left running.
   */
  private async analyzeGrownTablesWhenDue(): Promise<void> {
    const now = performance.now();
    if (now - this.lastStatisticsCheck < this.statisticsCheckMs) return;
    this.lastStatisticsCheck = now;
    await analyzeGrownTables(this.db);
  }

  private writeDeliveries(deliveries: Map<string, TenantDelivery>, returnEventsOf: ReadonlySet<string>): Promise<WriteSummary> {
    return this.db.transaction(async (session) => {
      await session.exec(PREPARE_STAGING);
      let staged = 0;
      let stored = 0;
      const storedEvents: StoredEventBatch[] = [];
      const touchedRanges: Array<[string, { from: number; to: number }]> = [];
      for (const [index, [tenantId, delivery]] of [...deliveries].entries()) {
        if (index > 0) await session.exec(RESET_STAGING);
        // Batch summaries alone (a batch whose every item was refused) have nothing to COPY.
        const copied = delivery.lineCount > 0 ? await session.copyRows('pg_temp.staged_events', STAGED_COLUMNS, delivery.rows) : 0;
        // A line `\.` ends COPY early: what follows it would be acknowledged unwritten.
        if (copied !== delivery.lineCount) throw new Error(`COPY read ${copied} of ${delivery.lineCount} rows`);
        staged += copied;
        // Shared with the tenant's other writers until commit; a purge's correction waits for
        // it and holds it alone (`correctRollupsAfterPurge`).
        await scopeToTenant(session, tenantId, 'event_rollups');
        const wanted = returnEventsOf.has(tenantId);
        const [row] = await session.query<WrittenRow>(WRITE_STAGED_EVENTS, [tenantId, JSON.stringify(delivery.batchSummaries), wanted]);
        stored += row?.stored ?? 0;
        if (row?.first_at && row.last_at) touchedRanges.push([tenantId, { from: new Date(row.first_at).getTime(), to: new Date(row.last_at).getTime() }]);
        if (wanted && row?.not_new && row.stored > 0) storedEvents.push({ tenantId, rows: delivery.rows, storedAt: toIso(row.stored_at), notNew: row.not_new });
      }
      return { summary: { stored, duplicates: staged - stored, storedEvents }, touchedRanges };
    }).then(({ summary, touchedRanges }) => {
      // Only what committed: a rolled back delivery has no events to keep sets of.
      for (const [tenantId, range] of this.keepingOff ? [] : touchedRanges) {
        const known = this.touched.get(tenantId);
        this.touched.set(tenantId, known ? { from: Math.min(known.from, range.from), to: Math.max(known.to, range.to) } : range);
      }
      return summary;
    });
  }

  async findEvent(tenantId: string, eventId: string): Promise<StoredEvent | undefined> {
    const rows = await inTenantTransaction(this.db, tenantId, (session) =>
      session.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM analytics_events WHERE tenant_id = $1 AND event_id = $2`, [tenantId, eventId]),
    );
    return rows[0] && toStoredEvent(rows[0]);
  }

  /** Created outside the write transaction so that its DDL lock is held for milliseconds only. */
  private async ensurePartitions(months: string[]): Promise<void> {
    const missing = [...new Set(months)].filter((month) => !this.knownMonths.has(month));
    if (missing.length === 0) return;
    const created = await ensureEventPartitions(this.db, missing);
    // The maintenance job keeps months ahead: a month created here means it did not run.
    if (created.length > 0) emitCounts({ [METRIC.partitionCreatedOnTheFly]: created.length });
    for (const month of missing) this.knownMonths.add(month);
  }
}
