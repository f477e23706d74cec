import type { EventStore, ReceivedEnvelope, StoredEvent, WriteSummary } from '../../ports/event-store.js';
import type { SqlDatabase } from './sql-database.js';
import { monthOf } from '../../domain/months.js';
import { EVENT_COLUMNS, toStoredEvent, type EventRow } from './event-rows.js';
import { ensureEventPartitions } from './event-partitions.js';
import { inTenantTransaction, scopeToTenant } from './tenant-transaction.js';

/**
 * One statement per tenant and delivery. The message bodies go to Postgres as they came off
 * the queue; the dedupe insert decides which events are new, and only those are stored,
 * rolled up and audited. A redelivered message therefore changes nothing, and there is no
 * per-event round trip.
 */
export const WRITE_TENANT_EVENTS = `
WITH input AS (
  -- jsonb, not json: one parse of the whole document, after which field access is a lookup
  -- instead of a re-scan, and the jsonb columns need no second parse (measured: -15 ms per
  -- 6,000 events). An id repeated inside one delivery keeps its first occurrence.
  SELECT DISTINCT ON (t."eventId") t.*, env.body->>'actor' AS actor, env.body->>'requestId' AS "requestId"
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS env(body, position),
    ROWS FROM (jsonb_to_recordset(env.body->'events') AS (
      "eventId" uuid, "timestamp" timestamptz, "type" text, "category" text, "action" text,
      "label" text, "value" numeric, "userId" uuid, "sessionId" text, "properties" jsonb,
      "context" jsonb, "metadata" jsonb, "receivedAt" timestamptz)) WITH ORDINALITY
    AS t("eventId", "timestamp", "type", "category", "action", "label", "value", "userId",
      "sessionId", "properties", "context", "metadata", "receivedAt", position)
  ORDER BY t."eventId", env.position, t.position
),
fresh AS (
  INSERT INTO event_dedupe (tenant_id, event_id, event_timestamp)
  SELECT $1, "eventId", "timestamp" FROM input
  ON CONFLICT DO NOTHING
  RETURNING event_id
),
-- Materialised once: the events insert, the rollups and the audit all read the new events.
new_events AS MATERIALIZED (
  SELECT i.* FROM input i JOIN fresh f ON f.event_id = i."eventId"
),
stored AS (
  INSERT INTO analytics_events (tenant_id, event_id, timestamp, event_type, category, action, label,
    value, user_id, session_id, properties, context, metadata, received_at)
  SELECT $1, "eventId", "timestamp", "type", "category", "action", "label", "value",
    "userId", "sessionId", "properties", "context", "metadata", "receivedAt"
  FROM new_events
),
rolled AS (
  INSERT INTO event_rollups AS r (tenant_id, granularity, period_start, event_type, category, action,
    count, value_count, total_value, min_value, max_value)
  SELECT $1, CASE WHEN grouping(minute) = 0 THEN 'minute' WHEN grouping(hour) = 0 THEN 'hour' ELSE 'day' END,
    coalesce(minute, hour, day), "type", "category", "action",
    count(*), count("value"), coalesce(sum("value"), 0), min("value"), max("value")
  FROM (
    -- date_bin from a UTC midnight equals date_trunc(..., 'UTC') for these units, without
    -- a time-zone conversion per row (measured: -8% on the whole statement).
    SELECT date_bin('1 minute', "timestamp", '2000-01-01 00:00:00+00') AS minute,
      date_bin('1 hour', "timestamp", '2000-01-01 00:00:00+00') AS hour,
      date_bin('1 day', "timestamp", '2000-01-01 00:00:00+00') AS day, "type", "category", "action", "value"
    FROM new_events
  ) AS s
  GROUP BY GROUPING SETS ((minute, "type", "category", "action"), (hour, "type", "category", "action"),
    (day, "type", "category", "action"))
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
  SELECT $1, 'SECURITY_EVENT', actor, jsonb_build_object('eventId', "eventId", 'category', "category",
    'action', "action", 'severity', "metadata"->>'severity', 'userId', "userId", 'timestamp', "timestamp")
  FROM new_events WHERE "type" = 'SECURITY'
),
-- Hash aggregates first: the per-actor summary then works on a few rows, not on every event.
tracked_counts AS (
  SELECT actor, "requestId", "type" AS event_type, "category" AS category, count(*) AS n
  FROM new_events GROUP BY 1, 2, 3, 4
),
tracked_audit AS (
  INSERT INTO audit_log (tenant_id, action, actor, details)
  SELECT $1, 'EVENTS_TRACKED', by_type.actor, jsonb_build_object('stored', by_type.stored,
    'byType', by_type.counts, 'categories', other.categories, 'requestIds', other.request_ids)
  FROM (
    SELECT actor, sum(n) AS stored, jsonb_object_agg(event_type, n) AS counts
    FROM (SELECT actor, event_type, sum(n) AS n FROM tracked_counts GROUP BY 1, 2) AS per_type GROUP BY actor
  ) AS by_type
  JOIN (
    SELECT actor, jsonb_agg(DISTINCT category) AS categories, jsonb_agg(DISTINCT "requestId") AS request_ids
    FROM tracked_counts GROUP BY actor
  ) AS other USING (actor)
),
batch_audit AS (
  INSERT INTO audit_log (tenant_id, action, actor, details)
  SELECT $1, 'EVENTS_BATCH_PROCESSED', env.body->>'actor',
    jsonb_build_object('requestId', env.body->>'requestId') || (env.body->'batchSummary')
  FROM jsonb_array_elements($2::jsonb) AS env(body)
  -- A redelivered first message stores nothing new, and must not audit its request again.
  WHERE env.body ? 'batchSummary'
    AND EXISTS (SELECT 1 FROM tracked_counts t WHERE t."requestId" = env.body->>'requestId')
)
SELECT count(*)::int AS stored FROM new_events`;

/** The bodies of each tenant as one JSON array, concatenated rather than re-serialised. */
function bodiesByTenant(received: ReceivedEnvelope[]): Map<string, string> {
  const bodies = new Map<string, string[]>();
  for (const { envelope, body } of received) {
    const list = bodies.get(envelope.tenantId) ?? [];
    list.push(body);
    bodies.set(envelope.tenantId, list);
  }
  return new Map([...bodies].map(([tenantId, list]) => [tenantId, `[${list.join(',')}]`]));
}

/** Postgres: 'no partition of relation "analytics_events" found for row' (check_violation). */
function isMissingPartition(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === '23514' && error.message.includes('no partition');
}

export class PgEventStore implements EventStore {
  /** Months whose partition is known to exist; saves a round trip on every warm invocation. */
  private readonly knownMonths = new Set<string>();

  constructor(private readonly db: SqlDatabase) {}

  async writeEnvelopes(received: ReceivedEnvelope[]): Promise<WriteSummary> {
    const batches = bodiesByTenant(received);
    const eventCount = received.reduce((sum, { envelope }) => sum + envelope.events.length, 0);
    const months = received.flatMap(({ envelope }) => envelope.events.map((event) => monthOf(event.timestamp)));
    await this.ensurePartitions(months);

    const stored = await this.writeTenantBatches(batches).catch(async (error: unknown) => {
      // The maintenance job may have dropped a partition this container still believes in.
      if (!isMissingPartition(error)) throw error;
      this.knownMonths.clear();
      await this.ensurePartitions(months);
      return this.writeTenantBatches(batches);
    });
    return { stored, duplicates: eventCount - stored };
  }

  private writeTenantBatches(batches: Map<string, string>): Promise<number> {
    return this.db.transaction(async (session) => {
      let total = 0;
      for (const [tenantId, bodies] of batches) {
        await scopeToTenant(session, tenantId);
        const [row] = await session.query<{ stored: number }>(WRITE_TENANT_EVENTS, [tenantId, bodies]);
        total += row?.stored ?? 0;
      }
      return total;
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
    await ensureEventPartitions(this.db, missing);
    for (const month of missing) this.knownMonths.add(month);
  }
}
